#!/usr/bin/env bash
# Stop the test cluster of cluster.sh (lxd or incus): each member only by the pid in its pidfile,
# waiting for it to exit. State stays (the next cluster.sh reuses it); --purge removes it too.
set -euo pipefail
. "$(dirname "$0")/common.sh"
case "${1:-}" in
  lxd) STATE="${PASSTHRU_CLUSTER_DIR:-/var/lib/passthru-test/cluster}"; NAME=lxd ;;
  incus) STATE="${PASSTHRU_INCUS_CLUSTER_DIR:-/var/lib/passthru-test/incus-cluster}"; NAME=incusd ;;
  *) die "usage: $0 lxd|incus [--purge]" ;;
esac
for m in m1 m2 m3; do stop_daemon_pidfile "$STATE/$m/$NAME.pid" "$NAME"; done
if [ "${2:-}" = --purge ]; then rm -rf "$STATE"; say "removed $STATE"; fi
