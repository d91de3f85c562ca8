#!/usr/bin/env bash
# Start a PRIVATE Incus daemon for tests (own INCUS_DIR, no network, local busybox image),
# modelled on lxd.sh; it runs beside the test LXD (lxd.sh) and the clusters (cluster.sh lxd|incus).
# Containers only: incus-base + incus-client (the `incus` package adds QEMU, swtpm, incus-agent).
# On bookworm they come from bookworm-backports (ensure_incus_packages in common.sh adds that
# suite from the Debian archive apt already uses, and keeps the package's SYSTEM incusd from
# running). Only the private daemon below is used.
# Idempotent: a daemon already answering on $INCUS_DIR/unix.socket is reused; state left by an
# earlier run (pool, profile, image, dead pidfile, stale socket) is reused or replaced.
# stdout: only `export INCUS_DIR=...` (so `eval "$(tools/provision/incus.sh)"` works); log on stderr.
set -euo pipefail

STATE="${PASSTHRU_INCUS_DIR:-/var/lib/passthru-test/incus}"
export INCUS_DIR="$STATE"
PIDFILE="$STATE/incusd.pid"
LOG="$STATE/incusd.log"
IMAGE=passthru-busybox
INCUSD=/usr/libexec/incus/incusd   # not on PATH

. "$(dirname "$0")/common.sh"

# 1. Packages (see ensure_incus_packages; recommends such as apparmor and dnsmasq-base are for
#    AppArmor confinement and bridges, which tests never use).
[ "$(id -u)" -eq 0 ] || die "the Incus daemon must run as root (sudo $0)"
bash "$(dirname "$0")/system.sh" busybox-static || die "missing packages; as root on Debian run: apt-get update && apt-get install -y --no-install-recommends busybox-static"
ensure_incus_packages
mkdir -p "$STATE"

# 2. Daemon, unless one already answers on our socket (then this step is a no-op).
if timeout 10 incus query /1.0 >/dev/null 2>&1; then
  say "daemon already up on $INCUS_DIR/unix.socket (pid $(cat "$PIDFILE" 2>/dev/null || echo unknown))"
else
  # Any pidfile here is stale (its daemon does not answer); if it still names a live incusd
  # (hung), stop that one first. incusd itself replaces a socket nobody listens on.
  stop_daemon_pidfile "$PIDFILE" incusd
  # The proxies point at a closed port so the daemon cannot reach image servers;
  # `sh -c 'echo $$; exec'` makes the pidfile hold incusd's own pid even if setsid forks.
  say "starting incusd (INCUS_DIR=$INCUS_DIR, log $LOG)"
  HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY= \
    setsid sh -c 'echo $$ >"$1"; exec "$3" --group root --logfile "$2"' sh "$PIDFILE" "$LOG" "$INCUSD" \
    </dev/null >>"$STATE/incusd.stderr" 2>&1 &
  # Poll so that a daemon dying at start fails fast instead of after the whole timeout.
  for i in $(seq 60); do
    "$INCUSD" waitready --timeout 1 >/dev/null 2>&1 && break
    if [ "$i" = 60 ] || { [ -s "$PIDFILE" ] && ! alive "$(cat "$PIDFILE")"; }; then
      tail -20 "$LOG" "$STATE/incusd.stderr" >&2 || true; die "incusd did not become ready (see $LOG)"
    fi
  done
  say "incusd ready, pid $(cat "$PIDFILE")"
fi

# 3. Storage + profile. Re-applying the preseed on an existing pool/profile is accepted.
#    No network and no nic in the profile (common.sh): never create incusbr0 or any private range.
{ echo 'config: {}'; no_network_pool_and_profile; } | incus admin init --preseed >&2

# 4. Tiny busybox image, built locally (no image server is reachable), only if absent.
ensure_busybox_image "$IMAGE" incus

say "ready: INCUS_DIR=$INCUS_DIR pid=$(cat "$PIDFILE" 2>/dev/null || echo unknown) image=$IMAGE"
echo "export INCUS_DIR=$INCUS_DIR"
