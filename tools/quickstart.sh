#!/usr/bin/env bash
# The README's main job: install and build if needed, then `passthru doctor` on this host.
# Extra arguments go to passthru (e.g. `npm start -- --root fixtures/hosts/intel-workstation`).
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
bash tools/install.sh
log=$(mktemp)
npm run --silent build >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 2; }
rm -f "$log"
status=0
node apps/cli/bin/passthru.js doctor "$@" || status=$?
if [ "$status" -ne 0 ] && [ $# -eq 0 ]; then
  echo "To see the report of a host that is ready: npm start -- --root fixtures/hosts/intel-workstation" >&2
fi
exit "$status"
