#!/usr/bin/env bash
# Regenerate generated/ from openapi/tasks.yaml with fastapi-code-generator, in its own pinned
# environment (it pins old click and datamodel-code-generator, which the service must not carry).
# Idempotent: a second run writes the same bytes.
# Usage: scripts/regen.sh [OUTPUT_DIR [SPEC]] (default generated from openapi/tasks.yaml); relative paths
# are read from the repository's root. Another SPEC is for tests of the generator (tests/tooling/).
set -euo pipefail
cd "$(dirname "$0")/.."

tool_env=.tools/codegen
stamp="$tool_env/.lock-sha"
lock_sha=$(sha256sum codegen/requirements.lock | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sha" ]; then
  rm -rf "$tool_env"
  scripts/uv.sh venv --quiet --python python3 "$tool_env"
  VIRTUAL_ENV="$tool_env" scripts/uv.sh pip sync --quiet --require-hashes codegen/requirements.lock
  echo "$lock_sha" > "$stamp"
fi

target=${1:-generated}
spec=${2:-openapi/tasks.yaml}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# The warning about black/isort becoming opt-in is the generator's, not ours.
PYTHONWARNINGS=ignore::FutureWarning "$tool_env/bin/fastapi-codegen" \
  --input "$spec" \
  --output "$out/generated" \
  --template-dir "$PWD/codegen/templates" \
  --model-template-dir "$PWD/codegen/model_templates" \
  --custom-visitor "$PWD/codegen/visitor.py" \
  --output-model-type pydantic_v2.BaseModel \
  --python-version 3.11 \
  --enum-field-as-literal all \
  --strict-nullable \
  --use-annotated \
  --disable-timestamp
rm -rf "$target"
mv "$out/generated" "$target"
