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
  if [ $want_snap = 1 ]; then snap "$dir/before"; fi
  local t0; t0=$(now)
  "$@" > "$dir/stdout" 2> "$dir/stderr"
  echo $? > "$dir/rc"
  echo "$t0 $(now)" > "$dir/time"
  kstate "$name"
  if [ $want_snap = 1 ]; then snap "$dir/after"; fi
  if [ $want_view = 1 ]; then view "$name"; fi
  echo "lab step $name: rc $(cat "$dir/rc") ($(awk '{printf "%.1f", $2 - $1}' "$dir/time") s)"
}

# A capture of the host as passthru sees it, with passthru's state (journal, persist record).
snap() {
  passthru snapshot "$1" > /dev/null 2> "$1.err" || echo "lab: snapshot $1 failed: $(cat "$1.err")"
  if [ -d /var/lib/passthru ]; then mkdir -p "$1/var/lib" && cp -a /var/lib/passthru "$1/var/lib/"; fi
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
