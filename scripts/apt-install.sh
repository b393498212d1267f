#!/usr/bin/env bash
# Install Debian packages the tests or the bench need, by command name: scripts/apt-install.sh pgbouncer [...]
# Does nothing for a command already on PATH; runs apt-get update only when an install fails without it.
set -euo pipefail

missing=()
for package in "$@"; do
  command -v "$package" >/dev/null 2>&1 || [[ -x "/usr/sbin/$package" ]] || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "apt-install: ${missing[*]} missing; install it (apt-get install ${missing[*]}) or run as root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
