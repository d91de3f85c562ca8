#!/usr/bin/env bash
# Start a PRIVATE three-member cluster of LXD (Debian's lxd) or Incus (incus-base from
# bookworm-backports, as incus.sh) for tests on this one machine: members m1..m3, each its own
# state folder ($STATE/mN/lxd or $STATE/mN/incus) and loopback address (LXD 127.0.1.N:8443,
# Incus 127.0.2.N:8443, so both clusters run side by side), proxies pointed at 127.0.0.1:9, no
# networks, a `dir` pool, a local busybox image.
# Each member runs in its own private mount namespace where its fixture host's
# sys/bus/pci, sys/devices/pci0000:00, sys/kernel/iommu_groups and sys/class/iommu are
# bind-mounted over the real ones (plus one uncovered `mount -t sysfs`, which unprivileged
# containers need), so `/1.0/resources?target=mN` reports that fixture. Only PCI domain 0000
# can be faked this way (sysfs refuses new top-level folders).
#
# Usage: cluster.sh lxd|incus HOST1 HOST2 HOST3   (fixture host trees for m1, m2, m3)
# Each tree is synced (rsync --delete) into $STATE/mN/host, the member's own copy: tests edit
# that copy and the daemon shows the edit on its next query. The copy's folders are kept (never
# replaced) so that the bind mounts of running daemons stay valid.
#
# Idempotent: LXD daemons of an earlier run that still answer are reused; a dead member is
# restarted from its state; a cluster that is not the expected one (wrong members, a lost
# bootstrap), and an Incus cluster always, is stopped (by pid) and its state removed, then made again.
# stdout: only `export` lines (the state folder, LXD_DIR or INCUS_DIR of m1); log on stderr.
set -euo pipefail

SERVER="${1:-}"
IMAGE=passthru-busybox
MEMBERS="m1 m2 m3"
# The fixture layers a member's mount namespace shows instead of the real ones.
LAYERS="sys/bus/pci sys/devices/pci0000:00 sys/kernel/iommu_groups sys/class/iommu"

. "$(dirname "$0")/common.sh"

case "$SERVER" in
  lxd)
    STATE="${PASSTHRU_CLUSTER_DIR:-/var/lib/passthru-test/cluster}"
    NET=127.0.1; CLIENT=lxc; DAEMON=lxd; DIRVAR=LXD_DIR; PKGS="lxd busybox-static rsync"
    INIT="lxd init"; WAITREADY="lxd waitready"
    # A member that answers shows its host copy as it is now: the cluster is reused.
    REUSE=true ;;
  incus)
    STATE="${PASSTHRU_INCUS_CLUSTER_DIR:-/var/lib/passthru-test/incus-cluster}"
    NET=127.0.2; CLIENT=incus; DAEMON=/usr/libexec/incus/incusd; DIRVAR=INCUS_DIR; PKGS="busybox-static rsync"
    INIT="incus admin init"; WAITREADY="$DAEMON waitready"
    # Incus 6.0.0-6.0.5 and 6.1-6.17 serve /1.0/resources from a cache that is never refreshed
    # once 10 s passed since it was made (lxc/incus commit 5ed516a fixed the inverted test in
    # 6.0.6 and 6.18): a daemon that answers may show host copies older than the ones just
    # synced. The cluster is made anew each run (about 11 s here, 8.5 s without a running one;
    # restarting the three members to rejoin took as long).
    REUSE=false ;;
  *) die "usage: $0 lxd|incus HOST1 HOST2 HOST3 (fixture host trees for m1 m2 m3)" ;;
esac
shift
NAME=$(basename "$DAEMON")
[ $# -eq 3 ] || die "usage: $0 $SERVER HOST1 HOST2 HOST3 (fixture host trees for m1 m2 m3)"
[ "$(id -u)" -eq 0 ] || die "$SERVER daemons and mount namespaces need root (sudo $0)"
bash "$(dirname "$0")/system.sh" $PKGS || die "missing packages; as root on Debian run: apt-get update && apt-get install -y --no-install-recommends $PKGS"
[ "$SERVER" = incus ] && ensure_incus_packages
for h in "$@"; do [ -d "$h/sys/bus/pci/devices" ] || die "$h is not a host tree (no sys/bus/pci/devices)"; done

addr() { echo "$NET.${1#m}"; }
dir() { echo "$STATE/$1/$SERVER"; }
on() { local m=$1; shift; env "$DIRVAR=$(dir "$m")" "$@"; }
q() { on "$1" $CLIENT query "${@:2}"; }
answers() { on "$1" timeout 10 $CLIENT query /1.0 >/dev/null 2>&1; }
# 1. Each member's own copy of its host tree, folders kept so live bind mounts stay valid.
#    A real kernel shows /sys/kernel/iommu_groups and /sys/class/iommu (empty with the IOMMU
#    off), so the copy has them too: they are mount sources.
i=0
for h in "$@"; do
  i=$((i + 1)); m="m$i"
  mkdir -p "$STATE/$m/host" "$STATE/$m/sysfs"
  rsync -a --delete "$h/" "$STATE/$m/host/"
  for l in $LAYERS; do mkdir -p "$STATE/$m/host/$l"; done
done

start_member() {
  local m=$1 d pidfile log
  d=$(dir "$m"); pidfile="$STATE/$m/$NAME.pid"; log="$STATE/$m/$NAME.log"
  mkdir -p "$d"
  rm -f "$pidfile"
  say "starting $m ($DIRVAR=$d, log $log)"
  # `echo $$` before exec: the pidfile holds the daemon's own pid (unshare without --fork execs).
  HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY= env "$DIRVAR=$d" \
    setsid unshare -m --propagation private sh -c '
      set -e; host=$1; pidfile=$2; log=$3; sysfs=$4; shift 4
      for l in "$@"; do mount --bind "$host/$l" "/$l"; done
      mount -t sysfs sysfs "$sysfs"
      echo $$ >"$pidfile"
      exec '"$DAEMON"' --group root --logfile "$log"' sh "$STATE/$m/host" "$pidfile" "$log" "$STATE/$m/sysfs" $LAYERS \
    </dev/null >>"$STATE/$m/$NAME.stderr" 2>&1 &
}

wait_member() {
  local m=$1 pidfile="$STATE/$1/$NAME.pid"
  for i in $(seq 60); do
    on "$m" $WAITREADY --timeout 1 >/dev/null 2>&1 && return 0
    if [ "$i" = 60 ] || { [ -s "$pidfile" ] && ! alive "$(cat "$pidfile")"; }; then
      tail -20 "$STATE/$m/$NAME.log" "$STATE/$m/$NAME.stderr" >&2 || true; die "$m did not become ready"
    fi
  done
}

stop_all() {
  for m in $MEMBERS; do stop_daemon_pidfile "$STATE/$m/$NAME.pid" "$NAME"; done
}

# 2. Reuse (LXD; see REUSE above): the whole cluster already formed (all three daemons answer,
#    m1 lists m1..m3)? Restart members whose daemon died (they rejoin from their state).
healthy() {
  local names
  names=$(q m1 /1.0/cluster/members?recursion=1 2>/dev/null | grep -o '"server_name": *"m[0-9]"' | grep -o 'm[0-9]' | sort | tr '\n' ' ') || return 1
  [ "$names" = "m1 m2 m3 " ]
}
formed=false
if [ "$REUSE" = true ] && [ -s "$STATE/formed" ]; then
  for m in $MEMBERS; do
    answers "$m" || { stop_daemon_pidfile "$STATE/$m/$NAME.pid" "$NAME"; start_member "$m"; }
  done
  for m in $MEMBERS; do wait_member "$m"; done
  if healthy; then formed=true; say "cluster of an earlier run reused"; else say "cluster state of an earlier run is not usable: making it again"; fi
fi

# 3. Otherwise: stop whatever our pidfiles name, remove the state, bootstrap m1, join m2, m3.
if [ "$formed" = false ]; then
  stop_all
  for m in $MEMBERS; do rm -rf "$(dir "$m")"; done
  rm -f "$STATE/formed"
  start_member m1; wait_member m1
  on m1 $INIT --preseed >&2 <<PRESEED
config:
  core.https_address: $(addr m1):8443
$(no_network_pool_and_profile)
cluster:
  server_name: m1
  enabled: true
PRESEED
  cert=$(sed 's/^/    /' "$(dir m1)/cluster.crt")
  for m in m2 m3; do
    start_member "$m"; wait_member "$m"
    token=$(on m1 $CLIENT cluster add "$m" --quiet | tail -1)
    on "$m" $INIT --preseed >&2 <<PRESEED
cluster:
  enabled: true
  server_name: $m
  server_address: $(addr "$m"):8443
  cluster_address: $(addr m1):8443
  cluster_certificate: |
$cert
  cluster_token: $token
  member_config:
  - entity: storage-pool
    name: default
    key: source
    value: ""
PRESEED
  done
  healthy || die "the cluster did not form (m1 does not list m1 m2 m3)"
  date +%s >"$STATE/formed"
fi

# 4. Every member ONLINE in m1's view (a restarted member is not, for a moment).
for i in $(seq 60); do
  online=$(q m1 /1.0/cluster/members?recursion=1 2>/dev/null | grep -c '"status": *"Online"') || true
  [ "$online" = 3 ] && break
  [ "$i" = 60 ] && die "not every member came ONLINE ($CLIENT cluster list with $DIRVAR=$(dir m1))"
  sleep 1
done

# 5. The busybox image, once for the cluster (members fetch it from each other on demand).
export "$DIRVAR=$(dir m1)"
ensure_busybox_image "$IMAGE" "$CLIENT"

say "ready: $(for m in $MEMBERS; do printf '%s=%s pid %s; ' "$m" "$(addr "$m")" "$(cat "$STATE/$m/$NAME.pid")"; done)"
echo "export PASSTHRU_CLUSTER_STATE=$STATE"
echo "export $DIRVAR=$(dir m1)"
