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
}

scenario_inventory() {
  step list --view -- passthru list --format json
  step groups -- passthru groups --format json
  lspci -Dvmmnnk > "$STEPS/list/lspci" 2>&1
}

# bind refuses when vfio-pci cannot be loaded (exit 1, nothing written); with the module
# loadable, bind loads it as a planned step. Must run before anything loads vfio-pci.
scenario_vfio_load() {
  echo 'install vfio_pci /bin/false' > /etc/modprobe.d/lab-no-vfio.conf
  step vfio-unloadable -- passthru bind $NIC3 --yes
  rm /etc/modprobe.d/lab-no-vfio.conf
  step vfio-load-dryrun -- passthru bind $NIC3 --dry-run
  step vfio-load --view --snapshot -- passthru bind $NIC3 --yes
  step vfio-load-restore --view --snapshot -- passthru restore $NIC3 --yes
}

scenario_bind_nic() {
  local ifname; ifname=$(iface_of $NIC1)
  echo "$ifname" > "$STEPS/nic-ifname"
  ip link set "$ifname" up
  step bind-nic --view --snapshot -- passthru bind $NIC1 --yes
  step restore-nic --view --snapshot -- passthru restore $NIC1 --yes
}

scenario_bind_card() {
  step bind-card-part -- sh -c "echo $CARD > /sys/bus/pci/devices/$CARD/driver/unbind"
  step bind-card-part-view --view -- true
  step bind-card --view --snapshot -- passthru bind $CARD --yes
  step restore-card --view --snapshot -- passthru restore $CARD --yes
}

scenario_bind_nvme() {
  step bind-nvme --view --snapshot -- passthru bind $NVME --yes
  step restore-nvme --view --snapshot -- passthru restore $NVME --yes
}

scenario_guards() {
  step guard-platform --snapshot -- passthru bind 0000:00:1f.2 --yes
  local ifname; ifname=$(iface_of $NIC2)
  ip link set "$ifname" up
  ip addr add 192.0.2.10/24 dev "$ifname"
  ip route add default via 192.0.2.1 dev "$ifname" onlink
  step guard-route --snapshot -- passthru bind $NIC2 --yes
  ip route del default; ip addr flush dev "$ifname"
  local ns; ns=$(ls /sys/bus/pci/devices/$DISK/nvme/*/ 2>/dev/null | grep -m1 '^nvme[0-9]*n[0-9]*$')
  mkdir -p /mnt/lab-disk
  mkfs.ext4 -q -F "/dev/$ns" && mount "/dev/$ns" /mnt/lab-disk
  step guard-mount --snapshot -- passthru bind $DISK --yes
  umount /mnt/lab-disk
}

# kill -9 at several moments of a real bind of the card's group, then restore: the host must be
# as it was (the journal says what to finish).
scenario_kill9() {
  local delay i=0
  for delay in 1.6 2.2 2.8 3.4; do
    i=$((i + 1))
    mkdir -p "$STEPS/kill9-$i"
    passthru bind $CARD --yes > "$STEPS/kill9-$i/stdout" 2>&1 &
    local pid=$!
    sleep "$delay"; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
    kstate "kill9-$i"
    step "kill9-$i-restore" -- passthru restore --all --yes
  done
}

scenario_sriov() {
  step sriov-create --view --snapshot -- passthru sriov $NVME --numvfs 2 --yes
  step sriov-resize --view --snapshot -- passthru sriov $NVME --numvfs 1 --yes
  local vf; vf=$(basename "$(readlink -f /sys/bus/pci/devices/$NVME/virtfn0)")
  echo "$vf" > "$STEPS/sriov-vf"
  step sriov-bind-vf --view -- passthru bind "$vf" --yes
  step sriov-remove-blocked --snapshot -- passthru sriov $NVME --numvfs 0 --yes
  step sriov-restore-vf -- passthru restore "$vf" --yes
  step sriov-remove --view --snapshot -- passthru sriov $NVME --numvfs 0 --yes
}

scenario_reset() {
  local d args=()
  for d in $NIC1 $NVME $CARD 0000:04:00.1 $NIC3; do args+=(--device "$d"); done
  step reset -- passthru doctor "${args[@]}" --format json
}

# Boot 1 of a persistence pair: persist, then the guest stops; boot 2 (scenario_*_boot) starts
# from the same /etc with the module loader doing what udev does.
scenario_persist_ids() {
  step persist-ids --snapshot -- passthru persist $NIC3 --yes
}
scenario_persist_address() {
  step persist-address --snapshot -- passthru persist $NIC1 --yes
}
scenario_after_reboot() {
  kstate boot; mkdir -p "$STEPS/boot"; dmesg > "$STEPS/boot/dmesg"
  ls -la /etc/modprobe.d > "$STEPS/boot/modprobe.d" 2>&1
}
