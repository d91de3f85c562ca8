#!/usr/bin/env bash
# Stop the private test Incus started by incus.sh: only the pid in its pidfile, never by name
# (`[lxc monitor]` processes belong to it too). SIGPWR makes incusd stop its instances and exit.
# State stays (the next incus.sh reuses it); --purge removes it too.
set -euo pipefail

STATE="${PASSTHRU_INCUS_DIR:-/var/lib/passthru-test/incus}"
PIDFILE="$STATE/incusd.pid"
. "$(dirname "$0")/common.sh"

stop_daemon_pidfile "$PIDFILE" incusd
if [ "${1:-}" = --purge ]; then
  # incusd leaves its tmpfs mounts (shmounts, guestapi) behind; unmount before removing.
  for m in "$STATE/shmounts" "$STATE/guestapi"; do ! mountpoint -q "$m" || umount -l "$m"; done
  rm -rf "$STATE"; say "removed $STATE"
fi
say "stopped"
