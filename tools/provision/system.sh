#!/usr/bin/env bash
# Installs the Debian packages the test suites need, or says exactly how to install them.
# Idempotent: a package already present is not touched. Usage: system.sh PACKAGE...
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "passthru tests: missing system packages: ${missing[*]}" >&2
  echo "install them as root on Debian with: apt-get update && $cmd" >&2
  exit 1
fi
echo "passthru tests: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The package lists may be missing on a fresh machine: update once, then install.
apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
  apt-get update >/dev/null
  apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
} || { echo "passthru tests: '$cmd' failed" >&2; exit 1; }
