# Sourced by the provisioning scripts: messages on stderr named after the script, and a
# liveness test for daemons.
say() { echo "${0##*/}: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
# A zombie still passes `kill -0`; PID 1 of this VM reaps orphans late, so check the state.
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${s#Z}" = "$s" ]; }

# Imports a tiny busybox image under alias $1 into the daemon `lxc` talks to ($LXD_DIR),
# unless the alias exists. Built locally: no image server is reachable (proxies at :9).
ensure_busybox_image() {
  local image=$1 tmp r a
  if lxc image alias list --format csv 2>/dev/null | grep -q "^$image,"; then
    say "image $image present"; return 0
  fi
  say "building image $image"
  tmp=$(mktemp -d)
  r="$tmp/rootfs"
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,root,etc,run,var/log}
  cp /bin/busybox "$r/bin/busybox"
  for a in $(/bin/busybox --list-full); do [ -e "$r/$a" ] || ln -s /bin/busybox "$r/$a"; done
  ln -sf /bin/busybox "$r/sbin/init"   # busybox init: handles SIGPWR, so `lxc stop` is clean
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
  printf 'root:x:0:\n' >"$r/etc/group"
  printf 'architecture: %s\ncreation_date: %s\nproperties:\n  description: passthru busybox\n  os: busybox\n' \
    "$(uname -m)" "$(date +%s)" >"$tmp/metadata.yaml"
  tar -C "$tmp" -czf "$tmp/image.tar.gz" metadata.yaml rootfs
  lxc image import "$tmp/image.tar.gz" --alias "$image" >&2 || { rm -rf "$tmp"; return 1; }
  rm -rf "$tmp"
}

# Stops the daemon whose pid is in pidfile $1: only that pid, never by name (an
# `[lxc monitor]` process is also named lxd); SIGPWR makes LXD stop its instances and exit.
# Waits for it to exit; a stale pidfile (dead pid, or a recycled pid that is not lxd) is removed.
stop_lxd_pidfile() {
  local pidfile=$1 pid sig
  [ -s "$pidfile" ] || { say "no pidfile $pidfile, nothing to stop"; return 0; }
  pid=$(cat "$pidfile")
  if ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q '^lxd '; then
    say "pid $pid is not running lxd (stale pidfile), removing it"; rm -f "$pidfile"; return 0
  fi
  say "stopping lxd pid $pid (SIGPWR: shut down instances, then exit)"
  kill -PWR "$pid"
  for sig in PWR TERM KILL; do
    [ "$sig" = PWR ] || { say "still alive, sending SIG$sig"; kill "-$sig" "$pid" 2>/dev/null || true; }
    for _ in $(seq 60); do alive "$pid" || break 2; sleep 0.5; done
  done
  rm -f "$pidfile"
  say "stopped pid $pid"
}
