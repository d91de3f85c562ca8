# Sourced by the provisioning scripts: messages on stderr named after the script, and a
# liveness test for daemons.
say() { echo "${0##*/}: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
# A zombie still passes `kill -0`; PID 1 of this VM reaps orphans late, so check the state.
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${s#Z}" = "$s" ]; }

# Imports a tiny busybox image under alias $1 into the daemon that client $2 talks to (`lxc`,
# the default: $LXD_DIR; `incus`: $INCUS_DIR), unless the alias exists. Built locally: no image
# server is reachable (proxies at :9). Both clients take the same commands and image format.
ensure_busybox_image() {
  local image=$1 client=${2:-lxc} tmp r a
  if "$client" image alias list --format csv 2>/dev/null | grep -q "^$image,"; then
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
  "$client" image import "$tmp/image.tar.gz" --alias "$image" >&2 || { rm -rf "$tmp"; return 1; }
  rm -rf "$tmp"
}

# Stops the daemon whose pid is in pidfile $1 if that process is program $2 (default lxd; the
# basename of its argv[0], e.g. incusd): only that pid, never by name (an `[lxc monitor]`
# process is also named lxd); SIGPWR makes LXD and Incus stop their instances and exit.
# Waits for it to exit; a stale pidfile (dead pid, or a recycled pid that is not $2) is removed.
stop_daemon_pidfile() {
  local pidfile=$1 prog=${2:-lxd} pid sig argv0
  [ -s "$pidfile" ] || { say "no pidfile $pidfile, nothing to stop"; return 0; }
  pid=$(cat "$pidfile")
  argv0=$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | head -1) || argv0=""
  if [ "${argv0##*/}" != "$prog" ]; then
    say "pid $pid is not running $prog (stale pidfile), removing it"; rm -f "$pidfile"; return 0
  fi
  say "stopping $prog pid $pid (SIGPWR: shut down instances, then exit)"
  kill -PWR "$pid"
  for sig in PWR TERM KILL; do
    [ "$sig" = PWR ] || { say "still alive, sending SIG$sig"; kill "-$sig" "$pid" 2>/dev/null || true; }
    for _ in $(seq 60); do alive "$pid" || break 2; sleep 0.5; done
  done
  rm -f "$pidfile"
  say "stopped pid $pid"
}
stop_lxd_pidfile() { stop_daemon_pidfile "$1" lxd; }

# Installs Incus for containers only, or dies with the command to run: incus-base (incusd in
# /usr/libexec/incus) and incus-client; not `incus`, which adds QEMU, swtpm and incus-agent.
# Debian 12 has them in bookworm-backports only: unless apt already lists that suite, a deb822
# source for it on the Debian archive this machine's apt uses (apt-mirror.sh, no built-in host)
# is written to /etc/apt/sources.list.d/passthru-backports.sources. incus-base's postinst would
# start a SYSTEM incusd (/var/lib/incus, socket-activated on systemd): on a fresh install its
# units are masked first on systemd hosts (a mask made by systemctl survives the postinst's
# `deb-systemd-helper unmask`); elsewhere a daemon the init script started is stopped again.
# Idempotent: nothing happens when both packages are installed.
ensure_incus_packages() {
  local pkgs="incus-base incus-client" suite="" target="" codename cmd p f mirror errs
  local units="incus.service incus.socket incus-user.service incus-user.socket incus-startup.service"
  local src=/etc/apt/sources.list.d/passthru-backports.sources missing=() files=()
  for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}") || codename=""
  [ "$codename" != bookworm ] || { suite=bookworm-backports; target="-t $suite"; }
  cmd="apt-get install -y --no-install-recommends $target $pkgs"
  { [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; } \
    || die "missing ${missing[*]}; as root on Debian run${suite:+ (with $suite in the apt sources)}: apt-get update && $cmd"
  if [ -n "$suite" ]; then
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
      if [ -f "$f" ]; then files+=("$f"); fi
    done
    if ! { [ ${#files[@]} -gt 0 ] && grep -hv '^[[:space:]]*#' "${files[@]}" | grep -qE "(^|[[:space:]])$suite([[:space:]]|\$)"; }; then
      mirror="${PASSTHRU_DEBIAN_MIRROR:-}"
      [ -n "$mirror" ] || mirror=$(bash "$(dirname "$0")/apt-mirror.sh") \
        || die "no Debian archive in apt's sources to add $suite from; set PASSTHRU_DEBIAN_MIRROR=URL"
      say "adding $suite from $mirror as $src"
      {
        printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\n' "$mirror" "$suite"
        [ ! -f /usr/share/keyrings/debian-archive-keyring.gpg ] || echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
      } >"$src"
    fi
  fi
  local fresh=false
  dpkg-query -W -f='${Status}' incus-base 2>/dev/null | grep -q 'install ok installed' || fresh=true
  if [ "$fresh" = true ] && [ -d /run/systemd/system ]; then
    say "masking $units: only private daemons are wanted"
    # shellcheck disable=SC2086
    systemctl mask $units >/dev/null 2>&1 || say "could not mask them; afterwards run: systemctl mask --now $units"
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-cache policy incus-base 2>/dev/null | grep -q 'Candidate: [0-9]' || apt-get update >/dev/null 2>&1 || true
  say "installing ${missing[*]}${suite:+ from $suite}"
  errs=$(mktemp)
  # Stale package lists (a 404 on a superseded version): update once, then try again.
  # shellcheck disable=SC2086
  if ! apt-get install -y --no-install-recommends $target "${missing[@]}" >/dev/null 2>"$errs" \
    && ! { apt-get update >/dev/null 2>>"$errs" && apt-get install -y --no-install-recommends $target "${missing[@]}" >/dev/null 2>"$errs"; }; then
    tail -5 "$errs" >&2; rm -f "$errs"; die "'$cmd' failed"
  fi
  rm -f "$errs"
  # Without systemd the postinst runs /etc/init.d/incus start unless policy-rc.d forbids it.
  if [ "$fresh" = true ] && [ ! -d /run/systemd/system ] && [ -s /run/incus.pid ] && alive "$(cat /run/incus.pid)"; then
    say "stopping the system incusd the package started (pid $(cat /run/incus.pid)); disabling its init scripts"
    /etc/init.d/incus stop >&2 || true
    for p in incus incus-user incus-startup; do update-rc.d "$p" disable >/dev/null 2>&1 || true; done
  fi
  [ -x /usr/libexec/incus/incusd ] && command -v incus >/dev/null || die "no /usr/libexec/incus/incusd or incus client after '$cmd'"
}

# The preseed every test daemon and cluster gets (after its own `config:`): no network (never a
# bridge or an address in a private range), a `dir` pool named default, a profile with only the
# root disk. Re-applying it to a daemon that has them is accepted.
no_network_pool_and_profile() {
  cat <<'EOF'
networks: []
storage_pools:
- name: default
  driver: dir
profiles:
- name: default
  devices:
    root: {path: /, pool: default, type: disk}
EOF
}
