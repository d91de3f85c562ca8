import type { Severity } from './Finding';
import type { DeviceConfig } from './schemas';

/** Host paths whose exposure to a container hands over the host (or LXD itself). */
export const SENSITIVE_HOST_PATHS = [
  '/',
  '/etc',
  '/root',
  '/boot',
  '/proc',
  '/sys',
  '/dev',
  '/run',
  '/var/run',
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/var/lib/lxd',
  '/var/snap/lxd',
  '/snap/lxd',
  '/var/lib/incus',
  '/var/lib/lxc',
];
export const LXD_DIRS = ['/var/lib/lxd', '/var/snap/lxd', '/var/lib/incus'];

export const normalise = (p: string) =>
  `/${p
    .split('/')
    .filter((x) => x && x !== '.')
    .join('/')}`;
export const within = (path: string, dir: string) => dir === '/' || path === dir || path.startsWith(`${dir}/`);

/** Does exposing host path `p` expose a sensitive path (it is one, lies in one, or contains one)? */
export function sensitivePath(p: string): string | undefined {
  const path = normalise(p);
  if (path === '/') return '/';
  return SENSITIVE_HOST_PATHS.find((s) => s !== '/' && (within(path, s) || within(s, path)));
}

/** Device nodes that give raw memory, disks, DMA or kernel logs. */
export const DANGEROUS_NODES: { re: RegExp; what: string; severity: Severity }[] = [
  { re: /^\/dev\/(mem|kmem|port)$/, what: 'physical memory or I/O ports', severity: 'critical' },
  { re: /^\/dev\/(sd[a-z]+|hd[a-z]+|vd[a-z]+|xvd[a-z]+|nvme\d+(n\d+)?|mmcblk\d+)(p?\d+)?$/, what: 'a host disk', severity: 'critical' },
  { re: /^\/dev\/(dm-\d+|md\d+|loop\d+|loop-control|mapper\/.+|zd\d+)$/, what: 'a host block device', severity: 'critical' },
  { re: /^\/dev\/vfio\//, what: 'a VFIO group (device DMA)', severity: 'critical' },
  { re: /^\/dev\/(kmsg|kvm|fuse|net\/tun|cpu\/.+|nvram|watchdog\d*|tpm\d*|tpmrm\d*)$/, what: 'a kernel interface', severity: 'high' },
];

/** Parses `raw.lxc` into key/value lines (comments and blanks skipped). */
export function parseRawLxc(raw: string): { key: string; value: string }[] {
  return raw
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const i = l.indexOf('=');
      return i < 0 ? { key: l, value: '' } : { key: l.slice(0, i).trim(), value: l.slice(i + 1).trim() };
    });
}

/** `raw.idmap` lines ("both 1000 1000", "uid 0-99 1000-1099"): does any map host id 0? */
export function idmapMapsHostRoot(raw: string): boolean {
  for (const line of raw
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const m = /^(uid|gid|both)\s+(\d+)(?:-(\d+))?\s+(\d+)(?:-(\d+))?$/.exec(line);
    if (m && Number(m[2]) === 0) return true;
  }
  return false;
}

/** Devices that hand host hardware, nodes or files to the instance (the root disk of a pool does not). */
export function hostDevices(devices: Record<string, DeviceConfig>): string[] {
  return Object.entries(devices)
    .filter(([, d]) => {
      switch (d.type) {
        case 'gpu':
        case 'pci':
        case 'usb':
        case 'unix-char':
        case 'unix-block':
        case 'unix-hotplug':
        case 'infiniband':
          return true;
        case 'nic':
          return d.nictype === 'physical' || d.nictype === 'sriov';
        case 'disk':
          return (d.source ?? '').startsWith('/');
        default:
          return false;
      }
    })
    .map(([name, d]) => `${name} (${d.type}${d.pci ? ` ${d.pci}` : d.parent ? ` ${d.parent}` : d.source ? ` ${d.source}` : d.path ? ` ${d.path}` : ''})`);
}
