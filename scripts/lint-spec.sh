#!/usr/bin/env bash
# Lint openapi/tasks.yaml with the pinned Redocly CLI and the ruleset in redocly.yaml (make lint-spec).
# Fails on any error and on any warning: the contract is linted clean, not "valid with 3 warnings".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/npm-ci.sh tools/node
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_NOTIFICATIONS=true REDOCLY_SUPPRESS_UPDATE_NOTICE=true
report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
tools/node/node_modules/.bin/redocly lint --config redocly.yaml --max-problems 1000 >"$report" 2>&1 || status=$?
cat "$report"
if [ "$status" -ne 0 ] || grep -qE 'You have [0-9]+ warnings?' "$report"; then
  echo "lint-spec: openapi/tasks.yaml must lint with zero errors and zero warnings." >&2
  exit 1
fi
