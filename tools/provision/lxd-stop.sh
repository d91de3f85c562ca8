#!/usr/bin/env bash
# Stop the private test LXD started by lxd.sh: only the pid in its pidfile, never by name
# (an `[lxc monitor]` process is also named lxd). SIGPWR makes LXD stop its instances and exit.
set -euo pipefail

STATE="${PASSTHRU_LXD_DIR:-/var/lib/passthru-test/lxd}"
PIDFILE="$STATE/lxd.pid"
. "$(dirname "$0")/common.sh"

[ -s "$PIDFILE" ] || { say "no pidfile $PIDFILE, nothing to stop"; exit 0; }
pid=$(cat "$PIDFILE")
# Guard against a recycled pid: it must still be an lxd process.
if ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q '^lxd '; then
  say "pid $pid is not running lxd (stale pidfile), removing it"; rm -f "$PIDFILE"; exit 0
fi
say "stopping lxd pid $pid (SIGPWR: shut down instances, then exit)"
kill -PWR "$pid"
for sig in PWR TERM KILL; do
  [ "$sig" = PWR ] || { say "still alive, sending SIG$sig"; kill "-$sig" "$pid" 2>/dev/null || true; }
  for _ in $(seq 60); do alive "$pid" || break 2; sleep 0.5; done
done
rm -f "$PIDFILE"
say "stopped"
