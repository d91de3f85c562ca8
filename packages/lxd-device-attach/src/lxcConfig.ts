import type { HostFs } from '@passthru/hostfs';
import type { HostTarget } from './resolveTarget';

export interface LxcConfig {
  /** Config lines for /var/lib/lxc/<name>/config (comments start with #). */
  lines: string[];
  /** The risks of these lines, also emitted as comments in `lines`. */
  risks: string[];
}

const COMMON_RISKS = [
  'in a privileged LXC container (no lxc.idmap) these nodes and mounts are root-equivalent on the host: use an unprivileged container',
  'lxc.cgroup2.devices.allow opens the node to everything in the container; never allow "a" or a whole major',
  'lxc.mount.entry binds host paths unshifted; keep "optional" so a missing node does not stop the container',
];

/** "226:1" from /sys/.../dev, or undefined. */
function majorMinor(host: HostFs, sysPath: string): string | undefined {
  const v = host.readAttributeIfExists(sysPath);
  return v && /^\d+:\d+$/.test(v) ? v : undefined;
}

/** The major of a char driver from /proc/devices ("195 nvidia-frontend"). */
function charMajor(host: HostFs, name: string): number | undefined {
  const text = host.readTextIfExists('/proc/devices') ?? '';
  const chars = text.split(/\nBlock devices:/)[0] ?? '';
  const m = new RegExp(`^\\s*(\\d+)\\s+${name.replace(/[-]/g, '\\-')}$`, 'm').exec(chars);
  return m ? Number(m[1]) : undefined;
}

/** A host device node a container gets: where it is, char or block, and its major:minor (undefined: not found on this host). */
export interface LxcDeviceNode {
  path: string;
  type: 'c' | 'b';
  majorMinor: string | undefined;
}
/** What TARGET gives a plain LXC container, in order: device nodes and the comments that explain them. */
export type LxcDeviceItem = { comment: string } | { node: LxcDeviceNode };

const item = (path: string, majorMinor: string | undefined, type: 'c' | 'b' = 'c'): LxcDeviceItem => ({ node: { path, type, majorMinor } });

/**
 * The device nodes a target stands for on this host (DRM card/render nodes, NVIDIA nodes, USB bus
 * nodes, a VFIO group), with the risks of passing them; for a network interface, `iface` (it is
 * moved, not bound: lxc.net.N.type = phys) and no nodes.
 */
export function lxcDeviceNodes(host: HostFs, target: HostTarget): { items: LxcDeviceItem[]; risks: string[]; iface: string | null } {
  const items: LxcDeviceItem[] = [];
  const risks = [...COMMON_RISKS];
  if (target.kind === 'netdev' || (target.kind === 'pci' && target.device && target.device.net.length > 0 && !target.device.drm.length)) {
    const iface = target.kind === 'netdev' ? target.iface : target.device!.net[0]!;
    risks.splice(
      0,
      3,
      'the interface leaves the host namespace while the container runs; the host loses it (and its addresses)',
      'a privileged container can reconfigure the physical NIC (firmware, VFs of a PF)',
    );
    return { items, risks, iface };
  }
  if (target.kind === 'usb') {
    const name = target.sysfsName;
    const mm = name ? majorMinor(host, `/sys/bus/usb/devices/${name}/dev`) : undefined;
    const bus = name ? host.readAttributeIfExists(`/sys/bus/usb/devices/${name}/busnum`) : undefined;
    const dev = name ? host.readAttributeIfExists(`/sys/bus/usb/devices/${name}/devnum`) : undefined;
    const path = bus && dev ? `/dev/bus/usb/${bus.padStart(3, '0')}/${dev.padStart(3, '0')}` : `/dev/bus/usb/BBB/DDD`;
    items.push({ comment: `USB ${target.vendorId}:${target.productId}: the node changes when the device is re-plugged` }, item(path, mm));
    return { items, risks, iface: null };
  }
  const d = target.device;
  if (!d) {
    items.push({ comment: `${target.address}: not found on this host; nothing to pass` });
  } else if (d.drm.length > 0 || d.driver === 'nvidia') {
    for (const name of d.drm) items.push(item(`/dev/dri/${name}`, majorMinor(host, `/sys/class/drm/${name}/dev`)));
    if (d.driver === 'nvidia') {
      const major = charMajor(host, 'nvidia-frontend') ?? 195;
      const info = host.readTextIfExists(`/proc/driver/nvidia/gpus/${d.address}/information`) ?? '';
      const minor = /Device Minor:\s*(\d+)/.exec(info)?.[1];
      items.push(item('/dev/nvidiactl', `${major}:255`), item(`/dev/nvidia${minor ?? 'N'}`, minor === undefined ? undefined : `${major}:${minor}`));
      const uvm = charMajor(host, 'nvidia-uvm');
      items.push(
        item('/dev/nvidia-uvm', uvm === undefined ? undefined : `${uvm}:0`),
        item('/dev/nvidia-uvm-tools', uvm === undefined ? undefined : `${uvm}:1`),
      );
      risks.push('the NVIDIA user-space libraries in the container must match the host driver version');
    }
    risks.push("a container shares the host's GPU driver: a driver bug is a host kernel bug");
  } else if (d.driver === 'vfio-pci' && d.iommuGroup !== null) {
    const vfio = charMajor(host, 'vfio');
    items.push(
      { comment: `${d.address} is on vfio-pci: the container gets its IOMMU group ${d.iommuGroup} (for DPDK/SPDK-style user-space drivers)` },
      item('/dev/vfio/vfio', '10:196'),
      item(`/dev/vfio/${d.iommuGroup}`, vfio === undefined ? undefined : `${vfio}:${d.iommuGroup}`),
    );
    risks.push('/dev/vfio gives the container DMA through the device: only with a working IOMMU and interrupt remapping');
  } else {
    items.push({
      comment: `${d.address} (driver ${d.driver ?? 'none'}) has no device node a container can use; bind it to vfio-pci for user-space access, or give it to a VM`,
    });
  }
  return { items, risks, iface: null };
}

/**
 * The plain-LXC lines that hand a device to a container (`passthru attach --lxc-config`):
 * `lxc.cgroup2.devices.allow` + `lxc.mount.entry` for device nodes (DRM card/render nodes,
 * NVIDIA nodes, USB bus nodes, a VFIO group), or `lxc.net.N.type = phys` for a network interface.
 */
export function lxcConfigLines(host: HostFs, target: HostTarget, container = 'CONTAINER'): LxcConfig {
  const lines: string[] = [`# passthru: lines for /var/lib/lxc/${container}/config`];
  const { items, risks, iface } = lxcDeviceNodes(host, target);
  if (iface)
    lines.push('# pick a free N for lxc.net.N', 'lxc.net.1.type = phys', `lxc.net.1.link = ${iface}`, 'lxc.net.1.flags = up', `lxc.net.1.name = ${iface}`);
  for (const i of items) {
    if ('comment' in i) lines.push(`# ${i.comment}`);
    else if (!i.node.majorMinor) lines.push(`# ${i.node.path}: no major:minor found on this host; add it when the driver is loaded`);
    else lines.push(`lxc.cgroup2.devices.allow = ${i.node.type} ${i.node.majorMinor} rwm`, lxcMountEntry(i.node.path));
  }
  lines.push(...risks.map((r) => `# risk: ${r}`));
  return { lines, risks };
}

/** The mount entry that binds a host node at the same path in the container (optional: a missing node does not stop it). */
export const lxcMountEntry = (devPath: string) => `lxc.mount.entry = ${devPath} ${devPath.slice(1)} none bind,optional,create=file`;
