#!/usr/bin/env bash
# Generate the Python client project (pyproject.toml, README.md, tasks_api_client/; its version is the
# spec's info.version) from openapi/tasks.yaml with openapi-python-client, in its own pinned tool
# environment (.tools/clientgen, which also holds the wheel's build backend). `make clients` builds the
# wheel from it; it is never committed. Usage: scripts/python-client.sh PROJECT_DIR
# Replaces PROJECT_DIR and prints the tool environment's python.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/python-client.sh PROJECT_DIR}

tool_env=.tools/clientgen
stamp="$tool_env/.lock-sha"
lock_sha=$(sha256sum clientgen/requirements.lock | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sha" ]; then
  rm -rf "$tool_env"
  scripts/uv.sh venv --quiet --python python3 "$tool_env" >&2
  VIRTUAL_ENV="$tool_env" scripts/uv.sh pip sync --quiet --require-hashes clientgen/requirements.lock >&2
  echo "$lock_sha" > "$stamp"
fi

"$tool_env/bin/openapi-python-client" generate --path openapi/tasks.yaml --meta uv --overwrite --fail-on-warning \
  --output-path "$out" --config clientgen/config.yaml >&2
echo "$PWD/$tool_env/bin/python"
