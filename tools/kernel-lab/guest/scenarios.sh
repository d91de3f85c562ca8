# The kernel lab's scenarios, one shell function each (scenario_<name>), run in a guest after
# lab.sh. A scenario records steps; the host's tests judge them (tools/kernel-lab/test). The
# devices are those of the topologies in tools/kernel-lab/src/topologies.ts:
#   00:1f.x ICH9 (platform group)  01:00.0, 02:00.0 e1000e (identical NICs)
#   03:00.0 NVMe with SR-IOV (no namespace)  04:00.0 bochs-display + 04:00.1 intel-hda (one card)
#   05:00.0 NVMe with a namespace (filesystem mounted in scenario guards)  06:00.0 e1000

NIC1=0000:01:00.0 NIC2=0000:02:00.0 NVME=0000:03:00.0 CARD=0000:04:00.0 DISK=0000:05:00.0 NIC3=0000:06:00.0

scenario_doctor() {
  step doctor -- passthru doctor --format json
  # What modprobe can load, for vfio.modules: the module loader's own answer.
  modprobe -n -v vfio-pci > "$STEPS/doctor/modprobe-vfio-pci" 2>&1; echo $? >> "$STEPS/doctor/modprobe-vfio-pci"
  dmesg > "$STEPS/doctor/dmesg"
  # The peer tool on the same kernel (libvirt-clients from this machine), for the comparison.
  if command -v virt-host-validate > /dev/null; then virt-host-validate qemu > "$STEPS/doctor/virt-host-validate" 2>&1; fi
}

scenario_inventory() {
  step list --view -- passthru list --format json
  step groups -- passthru groups --format json
  lspci -Dvmmnnk > "$STEPS/list/lspci" 2>&1
  # Every BAR's size as lspci prints it (Region N ... [size=...], Expansion ROM), for list's bars.
  lspci -D -vv > "$STEPS/list/lspci-vv" 2>&1
  # Option ROMs through the kernel's sysfs (enable, read, disable): QEMU gives each e1000e the
  # iPXE ROM (legacy + EFI), the bochs-display SeaVGABIOS (legacy only), the NVMe no ROM BAR.
  step rom-nic -- passthru --format json rom dump $NIC1 "$STEPS/rom-nic/rom.bin"
  step rom-card -- passthru --format json rom show $CARD
  step rom-none -- passthru rom show $NVME
}

# bind refuses when vfio-pci cannot be loaded (exit 1, nothing written); with the module
# loadable, bind loads it as a planned step. Must run before anything loads vfio-pci.
scenario_vfio_load() {
  echo 'install vfio_pci /bin/false' > /etc/modprobe.d/lab-no-vfio.conf
  step vfio-unloadable -- passthru bind $NIC3 --yes
  rm /etc/modprobe.d/lab-no-vfio.conf
  step vfio-load-dryrun -- passthru bind $NIC3 --dry-run
  step vfio-load --view --snapshot -- passthru bind $NIC3 --yes
  step vfio-load-restore --snapshot -- passthru restore $NIC3 --yes
}

# Every NIC up (so the one bound is not the only interface up: that guard is for hosts), then
# bound and restored: its interface goes and comes back under its name.
scenario_bind_nic() {
  local ifname; ifname=$(iface_of $NIC1)
  echo "$ifname" > "$STEPS/nic-ifname"
  links_up $NIC1 $NIC2 $NIC3
  step bind-nic --view --snapshot -- passthru bind $NIC1 --yes
  step restore-nic --snapshot -- passthru restore $NIC1 --yes
}

# Root ports without ACS: both NICs are one group. Naming one is refused (the other would move
# unasked); naming both binds the group, the ports stay on pcieport.
scenario_shared_group() {
  links_up $NIC1 $NIC2 $NIC3
  step bind-one-of-group --snapshot -- passthru bind $NIC1 --yes
  step bind-group --view --snapshot -- passthru bind $NIC1 $NIC2 --yes
  step restore-group --snapshot -- passthru restore $NIC1 --yes
}

# The card's display function put on vfio-pci by hand (not by passthru): the group is part
# bound, which the kernel calls not viable, and a driver_override passthru did not write is
# another manager's (bind refuses it without --adopt). Then undone, and the whole card bound.
scenario_bind_card() {
  modprobe vfio-pci
  local d=/sys/bus/pci/devices/$CARD
  step bind-card-part --view -- sh -c "echo vfio-pci > $d/driver_override && echo $CARD > $d/driver/unbind && echo $CARD > /sys/bus/pci/drivers_probe"
  step bind-card-foreign -- passthru bind $CARD --yes
  step bind-card-undo-part -- sh -c "echo > $d/driver_override && echo $CARD > $d/driver/unbind && echo $CARD > /sys/bus/pci/drivers_probe"
  step bind-card --view --snapshot -- passthru bind $CARD --yes
  step restore-card --snapshot -- passthru restore $CARD --yes
}

scenario_bind_nvme() {
  step bind-nvme --snapshot -- passthru bind $NVME --yes
  step restore-nvme --snapshot -- passthru restore $NVME --yes
}

scenario_guards() {
  step guard-platform --snapshot -- passthru bind 0000:00:1f.2 --yes
  local ifname; ifname=$(iface_of $NIC2)
  ip link set "$ifname" up
  ip addr add 192.0.2.10/24 dev "$ifname"
  ip route add default via 192.0.2.1 dev "$ifname" onlink
  unsnap
  step guard-route --snapshot -- passthru bind $NIC2 --yes
  ip route del default; ip addr flush dev "$ifname"
  local ns; ns=$(ls /sys/bus/pci/devices/$DISK/nvme/*/ 2>/dev/null | grep -m1 '^nvme[0-9]*n[0-9]*$')
  mkdir -p /mnt/lab-disk
  modprobe ext4   # no udev and no usermode modprobe in the lab: the kernel cannot load it on demand
  mkfs.ext4 -q -F "/dev/$ns" && mount "/dev/$ns" /mnt/lab-disk
  unsnap
  step guard-mount --snapshot -- passthru bind $DISK --yes
  umount /mnt/lab-disk
  unsnap
}

# kill -9 at several moments of a real bind of the card's group, then restore: the host must be
# as it was. The moments are the journal's: right after its begin record (1), after the first
# device's record (2: its writes under way), after the second's (3).
scenario_kill9() {
  local journal=/var/lib/passthru/journal.jsonl moment base pid
  for moment in 1 2 3; do
    mkdir -p "$STEPS/kill9-$moment"
    base=$(cat $journal 2>/dev/null | wc -l)
    passthru bind $CARD --yes > "$STEPS/kill9-$moment/stdout" 2>&1 &
    pid=$!
    # Polled gently: a busy loop would starve the bind on the guest's one CPU.
    while kill -0 $pid 2>/dev/null && [ "$(cat $journal 2>/dev/null | wc -l)" -lt $((base + moment)) ]; do sleep 0.02; done
    kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
    echo "$(( $(cat $journal 2>/dev/null | wc -l) - base ))" > "$STEPS/kill9-$moment/journal-lines"
    kstate "kill9-$moment"
    step "kill9-$moment-restore" -- passthru restore --all --yes
  done
}

scenario_sriov() {
  # --no-autoprobe: QEMU's NVMe VFs are offline until an NVMe virt-mgmt command, so nvme's probe
  # of them fails on the real kernel (a property of the emulated device the simulator cannot
  # know); VFs meant for vfio-pci are made without a host driver anyway.
  step sriov-create --view --snapshot -- passthru sriov $NVME --numvfs 2 --no-autoprobe --yes
  step sriov-resize --snapshot -- passthru sriov $NVME --numvfs 1 --yes
  local vf; vf=$(basename "$(readlink -f /sys/bus/pci/devices/$NVME/virtfn0)")
  echo "$vf" > "$STEPS/sriov-vf"
  step sriov-bind-vf --view --snapshot -- passthru bind "$vf" --yes
  step sriov-remove-blocked --snapshot -- passthru sriov $NVME --numvfs 0 --yes
  step sriov-restore-vf --snapshot -- passthru restore "$vf" --yes
  step sriov-remove --snapshot -- passthru sriov $NVME --numvfs 0 --yes
}

# The UEFI guest (topology vtd-uefi): OVMF's framebuffer is BAR 0 of the boot display, and with
# bochs blacklisted efifb holds it. doctor names it; bind (--force: it is the boot VGA) moves the
# display to vfio-pci, whose probe removes efifb on this kernel; doctor then finds the BAR free.
scenario_framebuffer() {
  local vga=0000:00:01.0
  step fb-doctor -- passthru doctor --device $vga --format json
  step fb-bind --snapshot -- passthru bind $vga --force --yes
  step fb-doctor-bound -- passthru doctor --device $vga --format json
}

scenario_reset() {
  local d args=()
  for d in $NIC1 $NVME $CARD 0000:04:00.1 $NIC3; do args+=(--device "$d"); done
  step reset -- passthru doctor "${args[@]}" --format json
}

# Boot 1 of the persistence run: the e1000 by its ids (the only device with them) and the first
# of the two identical e1000e NICs by address, in one persist; then the guest stops. Boot 2
# (scenario_after_reboot) starts from the same /etc with the module loader doing what udev does.
scenario_persist() {
  links_up $NIC1 $NIC2 $NIC3
  step persist --snapshot -- passthru persist $NIC3 $NIC1 --yes
}
scenario_after_reboot() {
  mkdir -p "$STEPS/boot"
  kstate boot
  dmesg > "$STEPS/boot/dmesg"
  cat /etc/modprobe.d/* > "$STEPS/boot/modprobe.d" 2>&1
}


