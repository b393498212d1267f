#!/usr/bin/env bash
# Install a folder's pinned npm packages exactly as its package-lock.json says (npm ci), only when the
# lock changed since the last install. Usage: scripts/npm-ci.sh DIR (e.g. tools/node, clients/typescript).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: scripts/npm-ci.sh DIR}
stamp="$dir/node_modules/.lock-sha"
lock_sha=$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sha" ]; then
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_sha" > "$stamp"
fi
