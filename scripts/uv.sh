#!/usr/bin/env bash
# Run the pinned uv, installing it first into .tools/uv with nothing but Python's own venv and pip.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
uv_version=0.13.8
uv="$root/.tools/uv/bin/uv"
if [ ! -x "$uv" ] || [ "$("$uv" --version | cut -d' ' -f2)" != "$uv_version" ]; then
  rm -rf "$root/.tools/uv"
  python3 -m venv "$root/.tools/uv"
  "$root/.tools/uv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$uv_version" 2>/dev/null \
    || "$root/.tools/uv/bin/python" -m pip install --disable-pip-version-check "uv==$uv_version"
fi
exec "$uv" "$@"
