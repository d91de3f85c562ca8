# Sourced by a kernel-lab guest's script (guest.sh, written by the host before each boot).
# Everything a scenario records goes under /lab-out/steps/<step>/: the command line (cmd),
# stdout, stderr and exit code (rc) of what ran, and kernel.json, the kernel's own state after
# it (kstate.pl, no passthru code). The host judges; the guest only records.
set -u
: "${REPO:?REPO must be set by guest.sh}"
STEPS=/lab-out/steps
mkdir -p "$STEPS"
passthru() { node "$REPO/apps/cli/dist/passthru.mjs" "$@"; }
now() { cut -d' ' -f1 /proc/uptime; }

# The kernel's state after a step, and passthru's own view of the same moment (report JSON:
# devices, groups with `viable`, readiness) so the host can hold one against the other.
kstate() { perl "$REPO/tools/kernel-lab/guest/kstate.pl" > "$STEPS/$1/kernel.json" 2>"$STEPS/$1/kernel.err"; }
view() { passthru report --format json > "$STEPS/$1/report.json" 2>"$STEPS/$1/report.err" || true; }

# step NAME [--view] [--snapshot] -- COMMAND...: runs COMMAND, records it and the kernel's state
# after it. --snapshot: `passthru snapshot` before and after (with passthru's journal folder),
# for the simulator differential. --view: passthru's report JSON after it.
step() {
  local name=$1; shift
  local want_view=0 want_snap=0
  while [ "$1" != "--" ]; do
    case $1 in --view) want_view=1 ;; --snapshot) want_snap=1 ;; esac
    shift
  done
  shift
  local dir="$STEPS/$name"
  mkdir -p "$dir"
  printf '%s\n' "$@" > "$dir/cmd"
  # The capture after the previous step is this step's before, unless something ran in between.
  if [ $want_snap = 1 ]; then
    if [ -n "$LAST_AFTER" ]; then cp "$LAST_AFTER" "$dir/before.tar"; else snap "$dir/before"; fi
  fi
  LAST_AFTER=
  local t0; t0=$(now)
  "$@" > "$dir/stdout" 2> "$dir/stderr"
  echo $? > "$dir/rc"
  local t1; t1=$(now)
  echo "$t0 $t1" > "$dir/time"
  kstate "$name"
  if [ $want_snap = 1 ]; then snap "$dir/after" && LAST_AFTER="$dir/after.tar"; fi
  if [ $want_view = 1 ]; then view "$name"; fi
  echo "lab step $name: rc $(cat "$dir/rc") ($(awk -v a="$t0" -v b="$t1" -v c="$(now)" 'BEGIN {printf "%.1f s, records %.1f s", b - a, c - b}'))"
}

# Anything a scenario changes outside a step (an interface up, a mount) makes the last capture
# stale: call unsnap after it. Every scenario starts with a fresh capture.
LAST_AFTER=
unsnap() { LAST_AFTER=; }

# A capture of the host as passthru sees it, with passthru's state (journal, persist record),
# as one tar file (DIR.tar): made in the guest's tmpfs, since a thousand small writes over 9p
# cost seconds under TCG.
snap() {
  local name; name=$(basename "$1")
  rm -rf "/tmp/snap/$name"; mkdir -p /tmp/snap
  passthru snapshot "/tmp/snap/$name" > /dev/null 2> "$1.err" || echo "lab: snapshot $1 failed: $(cat "$1.err")"
  if [ -d /var/lib/passthru ]; then mkdir -p "/tmp/snap/$name/var/lib" && cp -a /var/lib/passthru "/tmp/snap/$name/var/lib/"; fi
  tar -C "/tmp/snap/$name" -cf "$1.tar" . && rm -rf "/tmp/snap/$name"
}

# What udev does at boot for PCI: load the module each device's modalias names, with the
# modprobe.d configuration of this root (install hooks, options, softdeps, blacklists).
coldplug() {
  local d
  for d in /sys/bus/pci/devices/*; do
    [ -e "$d/driver" ] && continue
    modprobe -b -q "$(cat "$d/modalias")" 2>/dev/null
  done
}

# The network interface of a PCI function (first one), or nothing.
iface_of() { ls "/sys/bus/pci/devices/$1/net" 2>/dev/null | head -n 1; }

# Sets the interfaces of these PCI functions up and waits (10 s at most) until the kernel says
# so (operstate up comes a moment after `ip link set up`).
links_up() {
  local a i n
  for a in "$@"; do ip link set "$(iface_of "$a")" up; done
  for a in "$@"; do
    n=$(iface_of "$a")
    for i in $(seq 1 100); do [ "$(cat /sys/class/net/$n/operstate)" = up ] && break; sleep 0.1; done
  done
  unsnap
}
