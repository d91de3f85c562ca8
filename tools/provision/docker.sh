#!/usr/bin/env bash
# Make a Docker engine answer on /var/run/docker.sock for testcontainers, with no network
# plumbing, and a local base image (no registry is reachable here).
# Idempotent: an engine already answering is reused (whoever started it); the image is
# built only if absent; a dead pidfile from an earlier run is replaced by dockerd itself.
# Use with: TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=localhost
set -euo pipefail

STATE="${PASSTHRU_DOCKER_DIR:-/var/lib/passthru-test/docker}"
PIDFILE="$STATE/dockerd.pid"
LOG="$STATE/dockerd.log"
IMAGE=passthru-debian:bookworm
PKGS="docker.io debootstrap"
INSTALL_CMD="apt-get install -y --no-install-recommends $PKGS"

. "$(dirname "$0")/common.sh"

# 1. Packages (recommends such as apparmor/git/needrestart are not needed for tests).
#    /usr/local/bin/docker may be a newer client; it negotiates down to Debian's engine API.
bash "$(dirname "$0")/system.sh" $PKGS || die "missing packages; as root on Debian run: apt-get update && $INSTALL_CMD"

# 2. Engine, unless one already answers (a system dockerd or an earlier run's).
if docker info >/dev/null 2>&1; then
  say "engine already answering ($(docker info -f '{{.ServerVersion}} root={{.DockerRootDir}}'))"
else
  [ "$(id -u)" -eq 0 ] || die "dockerd must be started as root (sudo $0)"
  mkdir -p "$STATE/data"
  # dockerd refuses to start while its pidfile names an existing process; drop a stale one.
  if [ -s "$PIDFILE" ] && ! { alive "$(cat "$PIDFILE")" && grep -q dockerd "/proc/$(cat "$PIDFILE")/cmdline"; }; then
    say "removing stale pidfile $PIDFILE"; rm -f "$PIDFILE"
  fi
  # No bridge, no iptables/forwarding/masquerade: containers run with --network none only,
  # and nothing on this host gets a private address range.
  say "starting dockerd (data-root $STATE/data, log $LOG)"
  # setsid: leave the caller's process group so the engine outlives the test run.
  # (Not a group leader in a script, so setsid execs in place and $! is dockerd.)
  setsid dockerd --data-root "$STATE/data" --pidfile "$PIDFILE" \
    --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    </dev/null >>"$LOG" 2>&1 &
  pid=$!
  for i in $(seq 60); do
    docker info >/dev/null 2>&1 && break
    if [ "$i" = 60 ] || ! alive "$pid"; then
      tail -5 "$LOG" >&2; die "dockerd did not come up (see $LOG)"
    fi
    sleep 0.5
  done
  say "dockerd ready, pid $(cat "$PIDFILE")"
fi

# 3. Base image from Debian's own mirror (the one apt uses), only if absent.
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  say "image $IMAGE present"
else
  # The Debian archive apt on this machine uses (apt-mirror.sh reads sources.list, *.list and
  # deb822 *.sources); no built-in fallback host: without one, say how to name it.
  mirror="${PASSTHRU_DEBIAN_MIRROR:-}"
  if [ -z "$mirror" ]; then
    mirror=$(bash "$(dirname "$0")/apt-mirror.sh") || die "no Debian mirror for debootstrap in apt's sources; set PASSTHRU_DEBIAN_MIRROR=URL"
  fi
  tmp=$(mktemp -d "$STATE/rootfs.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
  say "debootstrap --variant=minbase bookworm from $mirror"
  debootstrap --variant=minbase bookworm "$tmp" "$mirror" >&2 || die "debootstrap failed (mirror $mirror)"
  rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*   # smaller image
  tar -C "$tmp" -c . | docker import - "$IMAGE" >&2
fi

say "ready: $IMAGE; dockerd pid $(cat "$PIDFILE" 2>/dev/null || echo 'not ours')"
