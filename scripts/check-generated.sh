#!/usr/bin/env bash
# Fail when regenerating would change generated/ (someone edited it by hand, or forgot `make regen`).
set -euo pipefail
cd "$(dirname "$0")/.."
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
scripts/regen.sh "$fresh/generated"
if ! diff -ru generated "$fresh/generated"; then
  echo "generated/ is stale or was edited by hand: run 'make regen' and commit the result." >&2
  exit 1
fi
