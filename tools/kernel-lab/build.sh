#!/usr/bin/env bash
# Builds the kernel lab's guest from Debian's packages only, once per package version:
# Debian's linux-image-*-amd64 unpacked (dpkg-deb -x; depmod -b, as the package ships no
# modules.dep) and a busybox initramfs whose /init (guest/init) mounts this machine's filesystem
# over 9p. The image lands in /var/cache/passthru/kernel-lab/<package versions>/ (PASSTHRU_LAB_CACHE) and is reused while the
# version is the same. Prints that folder. Usage: build.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# ovmf: the UEFI firmware of the runs that boot one (src/topologies.ts OVMF_FIRMWARE).
bash "$repo/tools/provision/system.sh" qemu-system-x86 ovmf busybox-static cpio kmod perl pciutils libvirt-clients e2fsprogs

# The kernel: the package linux-image-amd64 depends on, at the version apt offers now.
meta=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [ -z "$meta" ]; then
  apt-get update >/dev/null 2>&1 || true
  meta=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
fi
[ -n "$meta" ] || { echo "kernel-lab: apt knows no linux-image-amd64; run apt-get update" >&2; exit 1; }
version=$(apt-cache policy "$meta" | awk '/Candidate:/ {print $2}')
busybox_version=$(dpkg-query -W -f='${Version}' busybox-static)
key="${meta}_${version}_busybox-${busybox_version//:/-}_$(sha256sum "$here/guest/init" | cut -c1-12)"
cache="${PASSTHRU_LAB_CACHE:-/var/cache/passthru/kernel-lab}"
out="$cache/$key"
if [ -f "$out/ready" ]; then echo "$out"; exit 0; fi

rm -rf "$out"; mkdir -p "$out/deb"
(cd "$out/deb" && apt-get download "$meta=$version" >/dev/null 2>&1) || { echo "kernel-lab: apt-get download $meta=$version failed" >&2; exit 1; }
dpkg-deb -x "$out"/deb/*.deb "$out/root"
rm -rf "$out/deb"
kv=$(ls "$out/root/lib/modules")
depmod -b "$out/root" "$kv"
cp "$out/root/boot/vmlinuz-$kv" "$out/vmlinuz"

# The initramfs: busybox, /init, and the modules that reach the 9p shares and the overlay.
ird="$out/initramfs"
mkdir -p "$ird"/{bin,proc,sys,dev,modules}
cp /bin/busybox "$ird/bin/busybox"
cp "$here/guest/init" "$ird/init"; chmod +x "$ird/init"
: > "$ird/modules.order"
for m in 9pnet_virtio 9p overlay virtio_pci; do
  modprobe -d "$out/root" -S "$kv" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
  cp "$ko" "$ird/modules/"; basename "$ko" >> "$ird/modules.order"
done
echo "$out/root" > "$ird/lab-kernel-root"
(cd "$ird" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$out/initrd.gz"
echo "$kv" > "$out/ready"
echo "$out"
