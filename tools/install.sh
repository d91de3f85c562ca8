#!/usr/bin/env bash
# npm ci, skipped when node_modules already matches package-lock.json (same hash as last time).
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.passthru-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
echo "passthru: installing npm dependencies (npm ci)" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
echo "$want" > "$stamp"
