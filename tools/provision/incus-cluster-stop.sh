#!/usr/bin/env bash
# Stop the test cluster of incus-cluster.sh: each member only by the pid in its pidfile, waiting
# for it to exit. State stays (the next incus-cluster.sh reuses it); --purge removes it too.
set -euo pipefail
STATE="${PASSTHRU_INCUS_CLUSTER_DIR:-/var/lib/passthru-test/incus-cluster}"
. "$(dirname "$0")/common.sh"
for m in m1 m2 m3; do stop_daemon_pidfile "$STATE/$m/incusd.pid" incusd; done
if [ "${1:-}" = --purge ]; then rm -rf "$STATE"; say "removed $STATE"; fi
