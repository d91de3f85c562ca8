#!/bin/sh
# Runs inside an e2e container (as root with CAP_SYS_ADMIN, network none) whose /sys is a
# fixture's sys tree and whose /host is the whole fixture: bind the fixture's other host
# files over their live places, so peer tools and `passthru` with no flags read the fixture
# exactly as they would read a real host. Docker refuses bind mounts inside /proc at create
# time ("cannot be mounted because it is inside /proc"), and masks /sys/firmware (where the
# ACPI DMAR/IVRS tables are) with an empty tmpfs: both are done/undone here instead.
# A path the fixture lacks is hidden (empty tmpfs / unmounted) so the image's own files
# cannot leak into the comparison. Idempotent per container: it runs once, marked by a file.
set -eu
[ -e /run/passthru-e2e-mounted ] && exit 0
H=/host

umount /sys/firmware 2>/dev/null || true   # Docker's masked path over the fixture's tables

# /proc files: bind where the running kernel has the file (a kernel without modules has no
# /proc/modules: nothing can be created inside procfs, so that one stays absent).
for f in cmdline cpuinfo interrupts modules sys/kernel/osrelease; do
  if [ -e "$H/proc/$f" ]; then
    if [ -e "/proc/$f" ]; then mount --bind "$H/proc/$f" "/proc/$f"; else echo "mount-host: /proc/$f: not in this kernel, left absent" >&2; fi
  elif [ -f "/proc/$f" ]; then
    mount --bind /dev/null "/proc/$f"
  fi
done
# The running kernel's build config is not the fixture's: read as empty.
[ -e /proc/config.gz ] && [ ! -e "$H/proc/config.gz" ] && mount --bind /dev/null /proc/config.gz

# Files and folders elsewhere: bind the fixture's, or hide the image's.
bind_or_hide() { # path kind(file|dir)
  p=$1
  if [ -e "$H$p" ]; then
    if [ "$2" = dir ]; then mkdir -p "$p"; else mkdir -p "$(dirname "$p")"; [ -e "$p" ] || : >"$p"; fi
    mount --bind "$H$p" "$p"
  elif [ -d "$p" ] && [ "$2" = dir ]; then
    mount -t tmpfs -o ro,size=4k none "$p"
  elif [ -f "$p" ]; then
    mount --bind /dev/null "$p"
  fi
}
bind_or_hide /etc/default/grub file
bind_or_hide /etc/default/grub.d dir
bind_or_hide /etc/modprobe.d dir
bind_or_hide /usr/lib/modprobe.d dir
bind_or_hide /run/modprobe.d dir
bind_or_hide /etc/initramfs-tools dir
bind_or_hide /etc/dracut.conf.d dir
bind_or_hide /lib/modules dir
bind_or_hide /dev/vfio dir
bind_or_hide /dev/dri dir
bind_or_hide /boot dir
bind_or_hide /etc/security dir     # limits.conf: the memlock check
bind_or_hide /etc/sysctl.d dir     # the server-sysctl findings
: >/run/passthru-e2e-mounted
