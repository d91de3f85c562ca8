#!/usr/bin/env bash
# Plain LXC (Debian's lxc 5.0, no daemon) for tests: two busybox containers with no network
# under a private lxcpath, beside the test LXD and Incus (all three use the same liblxc):
#   passthru-priv    privileged (no idmap), every device allowed (cgroup v1 and v2 keys)
#   passthru-unpriv  unprivileged: root 0..65535 mapped to host 100000..165535
# Both are left STOPPED; tests start them (`lxc-start -P "$PASSTHRU_LXC_PATH" -n NAME -d`).
# Made once: each is created, started, entered (lxc-attach), given a device (lxc-device, the
# privileged one) and stopped again; later runs only check that they are still there.
# --check repeats that smoke test.
# Idempotent: a container whose folder is incomplete (no config or rootfs) is made again.
# stdout: only `export PASSTHRU_LXC_PATH=...`; log on stderr.
set -euo pipefail

LXCPATH="${PASSTHRU_LXC_PATH:-/var/lib/passthru-test/lxc}"
PRIV=passthru-priv
UNPRIV=passthru-unpriv
MAP_BASE=100000 MAP_COUNT=65536
PKGS="lxc busybox-static"
INSTALL_CMD="apt-get install -y --no-install-recommends $PKGS"
CHECK=false; [ "${1:-}" = --check ] && CHECK=true

. "$(dirname "$0")/common.sh"

[ "$(id -u)" -eq 0 ] || die "plain LXC containers are made and started as root here (sudo $0)"

# 1. Packages. --no-install-recommends: lxc then adds only dnsmasq-base and libnftables1 (the
#    busybox template is in liblxc-common). Debian's lxc ships lxc-net with USE_LXC_BRIDGE="true":
#    started, it makes lxcbr0 with 10.0.3.1/24, dnsmasq and NAT. The postinst starts it on systemd
#    hosts, so on a fresh install it is masked first; elsewhere its boot links are disabled.
fresh=false
dpkg-query -W -f='${Status}' lxc 2>/dev/null | grep -q 'install ok installed' || fresh=true
if [ "$fresh" = true ] && [ -d /run/systemd/system ]; then
  say "masking lxc-net.service (it would make lxcbr0 in 10.0.3.0/24)"
  systemctl mask lxc-net.service >/dev/null 2>&1 || say "could not mask lxc-net.service; run: systemctl mask --now lxc-net.service"
fi
bash "$(dirname "$0")/system.sh" $PKGS || die "missing packages; as root on Debian run: apt-get update && $INSTALL_CMD"
if [ "$fresh" = true ] && [ ! -d /run/systemd/system ]; then
  update-rc.d lxc-net disable >/dev/null 2>&1 || true
fi
command -v lxc-create >/dev/null && [ -x /usr/share/lxc/templates/lxc-busybox ] \
  || die "no lxc-create or busybox template; as root on Debian run: apt-get update && $INSTALL_CMD"
! ip link show lxcbr0 >/dev/null 2>&1 || say "WARNING: an lxcbr0 bridge exists (lxc-net?); the test containers do not use it"

# 2. An unprivileged container started by root: liblxc writes the id map with newuidmap and
#    newgidmap whenever they are installed (package uidmap, which lxd and incus-base pull in),
#    and those allow only ranges that /etc/subuid and /etc/subgid give root.
covers() { # FILE: does root own a range covering MAP_BASE..MAP_BASE+MAP_COUNT-1?
  awk -F: -v b="$MAP_BASE" -v n="$MAP_COUNT" '$1 == "root" && $2 <= b && $2 + $3 >= b + n { ok = 1 } END { exit !ok }' "$1" 2>/dev/null
}
last=$((MAP_BASE + MAP_COUNT - 1))
covers /etc/subuid || { say "giving root subuids $MAP_BASE-$last"; usermod --add-subuids "$MAP_BASE-$last" root; }
covers /etc/subgid || { say "giving root subgids $MAP_BASE-$last"; usermod --add-subgids "$MAP_BASE-$last" root; }

# 3. The containers. The -f file replaces /etc/lxc/default.conf (a veth on lxcbr0): no network
#    at all. AppArmor unconfined: without the apparmor package (a recommend) liblxc's default
#    profile is not loaded on an AppArmor kernel and the start would fail.
mkdir -p "$LXCPATH"
config_of() {
  echo "lxc.net.0.type = empty"
  echo "lxc.apparmor.profile = unconfined"
  if [ "$1" = "$PRIV" ]; then
    # liblxc applies the v1 key on legacy/hybrid hosts and the v2 key on cgroup2-only hosts
    # (and warns about the other one).
    echo "lxc.cgroup.devices.allow = a"
    echo "lxc.cgroup2.devices.allow = a"
  else
    echo "lxc.idmap = u 0 $MAP_BASE $MAP_COUNT"
    echo "lxc.idmap = g 0 $MAP_BASE $MAP_COUNT"
  fi
}

state() { lxc-info -P "$LXCPATH" -n "$1" -sH 2>/dev/null || echo ABSENT; }

smoke() { # NAME: start, attach, (privileged: add a device), stop. A running container is left running.
  local n=$1 was what="start, attach"
  was=$(state "$n")
  [ "$was" = RUNNING ] || lxc-start -P "$LXCPATH" -n "$n" -d -l INFO -o "$LXCPATH/$n.log" \
    || { tail -20 "$LXCPATH/$n.log" >&2; die "lxc-start of $n failed (log $LXCPATH/$n.log)"; }
  lxc-wait -P "$LXCPATH" -n "$n" -s RUNNING -t 10 || die "$n did not reach RUNNING"
  lxc-attach -P "$LXCPATH" -n "$n" -- true || die "lxc-attach to $n failed"
  if [ "$n" = "$PRIV" ]; then
    # liblxc stats the DESTINATION path on the host (the source is used only without one), so
    # the node must exist at the same path on the host; /dev/null does. Its stderr is noise
    # when the host's /proc/1/ns/net is unreadable (the interface probe), the result is not.
    lxc-device -P "$LXCPATH" -n "$n" add /dev/null 2>/dev/null || die "lxc-device add /dev/null to $n failed"
    lxc-attach -P "$LXCPATH" -n "$n" -- test -c /dev/null || die "no /dev/null in $n after lxc-device"
    what="$what, lxc-device add"
  fi
  [ "$was" = RUNNING ] || lxc-stop -P "$LXCPATH" -n "$n" -t 10 || die "lxc-stop of $n failed"
  say "$n: $what, stop: ok"
}

for n in "$PRIV" "$UNPRIV"; do
  d="$LXCPATH/$n"
  if [ -s "$d/config" ] && [ -x "$d/rootfs/bin/busybox" ]; then
    say "container $n present ($(state "$n"))"
    [ "$CHECK" = false ] || smoke "$n"
    continue
  fi
  if [ -e "$d" ]; then
    say "container $n is incomplete: making it again"
    lxc-stop -P "$LXCPATH" -n "$n" -k >/dev/null 2>&1 || true
    rm -rf "$d"
  fi
  conf=$(mktemp)
  config_of "$n" >"$conf"
  say "creating $n"
  lxc-create -P "$LXCPATH" -n "$n" -f "$conf" -t busybox >/dev/null 2>"$LXCPATH/$n.create.log" \
    || { rm -f "$conf"; tail -5 "$LXCPATH/$n.create.log" >&2; die "lxc-create of $n failed"; }
  rm -f "$conf"
  smoke "$n"
done

say "ready: $PRIV, $UNPRIV in $LXCPATH (stopped unless a test runs them)"
echo "export PASSTHRU_LXC_PATH=$LXCPATH"
