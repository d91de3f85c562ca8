#!/usr/bin/env bash
# Start a PRIVATE LXD daemon for tests (own LXD_DIR, no network, local busybox image).
# Idempotent: a daemon already answering on $LXD_DIR/unix.socket is reused; state left
# by an earlier run (pool, profile, image, dead pidfile, stale socket) is reused or replaced.
# stdout: only `export LXD_DIR=...` (so `eval "$(tools/provision/lxd.sh)"` works); log on stderr.
set -euo pipefail

STATE="${PASSTHRU_LXD_DIR:-/var/lib/passthru-test/lxd}"
export LXD_DIR="$STATE"
PIDFILE="$STATE/lxd.pid"
LOG="$STATE/lxd.log"
IMAGE=passthru-busybox
PKGS="lxd busybox-static"
INSTALL_CMD="apt-get install -y --no-install-recommends $PKGS"

. "$(dirname "$0")/common.sh"

# 1. Packages. --no-install-recommends: the recommends (apparmor, dnsmasq-base, lxd-agent)
#    are for bridges/VMs, which tests never use.
bash "$(dirname "$0")/system.sh" $PKGS || die "missing packages; as root on Debian run: apt-get update && $INSTALL_CMD"
[ "$(id -u)" -eq 0 ] || die "the LXD daemon must run as root (sudo $0)"

# 2. Daemon, unless one already answers on our socket (then this step is a no-op).
mkdir -p "$STATE"
if lxc query /1.0 >/dev/null 2>&1; then
  say "daemon already up on $LXD_DIR/unix.socket (pid $(cat "$PIDFILE" 2>/dev/null || echo unknown))"
else
  # The proxies point at a closed port so the daemon cannot reach image servers;
  # `sh -c 'echo $$; exec'` makes the pidfile hold lxd's own pid even if setsid forks.
  rm -f "$PIDFILE"   # any pidfile here is stale: its daemon does not answer
  say "starting lxd (LXD_DIR=$LXD_DIR, log $LOG)"
  HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY= \
    setsid sh -c 'echo $$ >"$1"; exec lxd --group root --logfile "$2"' sh "$PIDFILE" "$LOG" \
    </dev/null >>"$STATE/lxd.stderr" 2>&1 &
  # Poll so that a daemon dying at start fails fast instead of after the whole timeout.
  for i in $(seq 60); do
    lxd waitready --timeout 1 2>/dev/null && break
    if [ "$i" = 60 ] || { [ -s "$PIDFILE" ] && ! alive "$(cat "$PIDFILE")"; }; then
      tail -20 "$LOG" "$STATE/lxd.stderr" >&2 || true; die "lxd did not become ready (see $LOG)"
    fi
  done
  say "lxd ready, pid $(cat "$PIDFILE")"
fi

# 3. Storage + profile. Re-applying the preseed on an existing pool/profile is accepted.
#    No network and no nic in the profile (common.sh): never create lxdbr0 or any private range.
{ echo 'config: {}'; no_network_pool_and_profile; } | lxd init --preseed >&2

# 4. Tiny busybox image, built locally (no image server is reachable), only if absent.
ensure_busybox_image "$IMAGE"

say "ready: LXD_DIR=$LXD_DIR pid=$(cat "$PIDFILE" 2>/dev/null || echo unknown) image=$IMAGE"
echo "export LXD_DIR=$LXD_DIR"
