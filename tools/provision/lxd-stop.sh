#!/usr/bin/env bash
# Stop the private test LXD started by lxd.sh: only the pid in its pidfile, never by name
# (an `[lxc monitor]` process is also named lxd). SIGPWR makes LXD stop its instances and exit.
set -euo pipefail

STATE="${PASSTHRU_LXD_DIR:-/var/lib/passthru-test/lxd}"
PIDFILE="$STATE/lxd.pid"
. "$(dirname "$0")/common.sh"

stop_lxd_pidfile "$PIDFILE"
say "stopped"
