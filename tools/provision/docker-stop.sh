#!/usr/bin/env bash
# Stop the test dockerd started by docker.sh: only the pid in its pidfile (an engine that
# docker.sh merely reused has no pidfile there and is left alone). SIGTERM lets dockerd stop
# its containers and its own containerd child.
set -euo pipefail

STATE="${PASSTHRU_DOCKER_DIR:-/var/lib/passthru-test/docker}"
PIDFILE="$STATE/dockerd.pid"
. "$(dirname "$0")/common.sh"

[ -s "$PIDFILE" ] || { say "no pidfile $PIDFILE, nothing to stop"; exit 0; }
pid=$(cat "$PIDFILE")
if ! { alive "$pid" && grep -q dockerd "/proc/$pid/cmdline" 2>/dev/null; }; then
  say "pid $pid is not a running dockerd (stale pidfile), removing it"; rm -f "$PIDFILE"; exit 0
fi
say "stopping dockerd pid $pid"
for sig in TERM KILL; do
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 60); do alive "$pid" || break 2; sleep 0.5; done
  say "still alive after SIG$sig"
done
rm -f "$PIDFILE"
say "stopped"
