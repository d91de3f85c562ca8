import { HostFsError, type HostFs } from '@passthru/hostfs';
import { firmwareFramebufferClaims } from '@passthru/iommu-check';
import { iommuGroupPath, type PciDevice } from '@passthru/pci-discovery';
import type { PlannedDevice } from './plan';

/**
 * A reason not to take a device from the host, with what was read to decide it. An `advisory`
 * finding refuses nothing: it says what the bind will do besides (printed with the plan).
 */
export interface GuardFinding {
  id:
    | 'boot-vga'
    | 'boot-framebuffer'
    | 'default-route'
    | 'only-nic-up'
    | 'mounted-block'
    | 'device-in-use'
    | 'vfio-group-in-use'
    | 'managed-by-libvirt'
    | 'foreign-endpoint';
  address: string;
  summary: string;
  evidence: string[];
  advisory?: true;
}

/** The findings that refuse a bind without --force (all but the advisory ones). */
export const refusing = (findings: readonly GuardFinding[]): GuardFinding[] => findings.filter((f) => !f.advisory);

function readOr(host: HostFs, path: string, fallback = ''): string {
  try {
    return host.readTextIfExists(path) ?? fallback;
  } catch (error) {
    if (error instanceof HostFsError) return fallback;
    throw error;
  }
}

/** Interfaces that carry a default route (IPv4 /proc/net/route, IPv6 /proc/net/ipv6_route). */
export function defaultRouteInterfaces(host: HostFs): string[] {
  const v4 = readOr(host, '/proc/net/route')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length > 7 && f[1] === '00000000' && f[7] === '00000000')
    .map((f) => f[0]!);
  const v6 = readOr(host, '/proc/net/ipv6_route')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 10 && /^0{32}$/.test(f[0]!) && f[1] === '00' && f[9] !== 'lo')
    .map((f) => f[9]!);
  return [...new Set([...v4, ...v6])];
}

/** Processes holding any of `nodes` open, once per (process, node): one walk of /proc/<pid>/fd links (read-only). */
export function processesHolding(host: HostFs, nodes: string[]): Array<{ pid: number; comm: string; node: string }> {
  if (nodes.length === 0) return [];
  const wanted = new Set(nodes);
  const holders: Array<{ pid: number; comm: string; node: string }> = [];
  for (const pid of host.list('/proc').filter((n) => /^\d+$/.test(n))) {
    let fds: string[];
    try {
      fds = host.list(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    const seen = new Set<string>();
    for (const fd of fds) {
      let target: string | undefined;
      try {
        target = host.readlink(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (target && wanted.has(target) && !seen.has(target)) {
        seen.add(target);
        holders.push({ pid: Number(pid), comm: readOr(host, `/proc/${pid}/comm`, '?').trim(), node: target });
      }
    }
  }
  return holders;
}

/** A PCI `<hostdev>` of a libvirt domain XML: the host address it names and whether libvirt manages (binds and gives back) it. */
export interface LibvirtHostdev {
  file: string;
  address: string;
  managed: boolean;
}

const LIBVIRT_DIRS = ['/etc/libvirt/qemu', '/run/libvirt/qemu'];
const hex = (text: string | undefined, width: number) => (text === undefined ? undefined : Number.parseInt(text, 16).toString(16).padStart(width, '0'));

/** Pure: the PCI hostdevs of one domain XML (`<hostdev mode='subsystem' type='pci'>` with a `<source><address .../>`). */
export function parseLibvirtHostdevs(file: string, text: string): LibvirtHostdev[] {
  const found: LibvirtHostdev[] = [];
  for (const block of text.match(/<hostdev\b[^>]*>[\s\S]*?<\/hostdev>/g) ?? []) {
    const open = /^<hostdev\b[^>]*>/.exec(block)![0];
    if (/\btype=['"](?!pci['"])/.test(open)) continue;
    const source = /<source\b[^>]*>[\s\S]*?<\/source>/.exec(block)?.[0] ?? block;
    const tag = /<address\b[^>]*>/.exec(source)?.[0];
    if (!tag) continue;
    const attr = (name: string) => new RegExp(`\\b${name}=['"](?:0x)?([0-9a-f]+)['"]`, 'i').exec(tag)?.[1];
    const [domain, bus, slot, fn] = [hex(attr('domain'), 4), hex(attr('bus'), 2), hex(attr('slot'), 2), attr('function')];
    if (!domain || !bus || !slot || fn === undefined) continue;
    found.push({ file, address: `${domain}:${bus}:${slot}.${Number.parseInt(fn, 16)}`, managed: /\bmanaged=['"]yes['"]/.test(open) });
  }
  return found;
}

/** Every PCI hostdev of the defined (/etc/libvirt/qemu) and running (/run/libvirt/qemu) domains. */
export function libvirtHostdevs(host: HostFs): LibvirtHostdev[] {
  return LIBVIRT_DIRS.flatMap((dir) =>
    host
      .list(dir)
      .filter((f) => f.endsWith('.xml'))
      .flatMap((f) => parseLibvirtHostdevs(`${dir}/${f}`, readOr(host, `${dir}/${f}`))),
  );
}

/** Every block device with its real sysfs path, read once per evaluation. */
function blockDevicePaths(host: HostFs): Array<{ name: string; sysfsPath: string }> {
  return host.list('/sys/class/block').flatMap((name) => {
    try {
      return [{ name, sysfsPath: host.realHostPath(`/sys/class/block/${name}`) }];
    } catch {
      return [];
    }
  });
}

/**
 * Every guard that stands against binding the plan's devices. Each is overridable with
 * --force only (the caller prints the findings as the reason); reading is all this does.
 * `plan` is a bind plan, or any list of devices to take (persist passes what the boot
 * configuration would claim).
 */
export function evaluateGuards(
  host: HostFs,
  plan: { devices: ReadonlyArray<Pick<PlannedDevice, 'address' | 'alreadyBound' | 'reason'> & Partial<Pick<PlannedDevice, 'owner'>>> },
  devices: PciDevice[],
): GuardFinding[] {
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  const findings: GuardFinding[] = [];
  const routes = defaultRouteInterfaces(host);
  const upInterfaces = host.list('/sys/class/net').filter((n) => n !== 'lo' && readOr(host, `/sys/class/net/${n}/operstate`).trim() === 'up');
  const mounts = readOr(host, '/proc/mounts')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length > 2);
  const swaps = readOr(host, '/proc/swaps')
    .split('\n')
    .slice(1)
    .map((l) => l.split(/\s+/)[0] ?? '');
  const blocks = blockDevicePaths(host);
  const libvirt = libvirtHostdevs(host);

  // The device nodes of every planned GPU, and one walk of /proc/*/fd for all of them.
  const nvidiaNodes = host
    .list('/dev')
    .filter((n) => /^nvidia(\d+|ctl|-uvm|-modeset)?$/.test(n))
    .map((n) => `/dev/${n}`);
  const nodesOf = (d: PciDevice) => [...d.drm.map((n) => `/dev/dri/${n}`), ...(d.driver === 'nvidia' ? nvidiaNodes : [])];
  const toBind = plan.devices
    .filter((p) => !p.alreadyBound)
    .map((p) => byAddress.get(p.address))
    .filter((d): d is PciDevice => d !== undefined);
  const holders = processesHolding(host, [...new Set(toBind.flatMap(nodesOf))]);
  const framebuffers = framebufferFindings(host, toBind);

  for (const planned of plan.devices) {
    if (planned.alreadyBound) continue;
    const d = byAddress.get(planned.address);
    if (!d) continue;
    const add = (id: GuardFinding['id'], summary: string, evidence: string[]) => findings.push({ id, address: d.address, summary, evidence });

    if (d.bootVga)
      add('boot-vga', 'it is the boot/console GPU: unbinding it takes the console (and often the display manager) away', [`${d.sysfsPath}/boot_vga = 1`]);
    findings.push(...framebuffers.filter((f) => f.address === d.address));
    const routed = d.net.filter((n) => routes.includes(n));
    if (routed.length)
      add(
        'default-route',
        `it carries the default route (${routed.join(', ')}): remote sessions over it would drop`,
        ['/proc/net/route', '/proc/net/ipv6_route'].map((p) => `${p}: default via ${routed.join(', ')}`),
      );
    const ownUp = d.net.filter((n) => upInterfaces.includes(n));
    if (ownUp.length && upInterfaces.every((n) => d.net.includes(n))) {
      add(
        'only-nic-up',
        `its interface ${ownUp.join(', ')} is the only network interface up`,
        ownUp.map((n) => `/sys/class/net/${n}/operstate = up`),
      );
    }
    const disks = blocks.filter((b) => b.sysfsPath.startsWith(`${d.sysfsPath}/`)).map((b) => b.name);
    const mounted = mounts.filter(([source]) => disks.some((b) => source === `/dev/${b}` || new RegExp(`^/dev/${b}p?\\d+$`).test(source!)));
    const swapped = swaps.filter((s) => disks.some((b) => s === `/dev/${b}` || new RegExp(`^/dev/${b}p?\\d+$`).test(s)));
    if (mounted.length || swapped.length) {
      add('mounted-block', `its disks are in use (${[...mounted.map((m) => `${m[0]} on ${m[1]}`), ...swapped.map((s) => `${s} as swap`)].join(', ')})`, [
        '/proc/mounts',
        '/proc/swaps',
        ...disks.map((b) => `/sys/class/block/${b}`),
      ]);
    }
    const nodes = new Set(nodesOf(d));
    const holding = holders.filter((h) => nodes.has(h.node));
    if (holding.length) {
      add(
        'device-in-use',
        `processes hold it open: ${holding.map((h) => `${h.comm} (pid ${h.pid}) on ${h.node}`).join(', ')}; unbinding a GPU in use can hang the host`,
        holding.map((h) => `/proc/${h.pid}/fd -> ${h.node}`),
      );
    }
    // A domain that manages it (managed='yes') makes libvirt its owner: --adopt decides that, not --force.
    const managers = planned.owner?.kind === 'libvirt' ? [] : libvirt.filter((h) => h.address === d.address);
    if (managers.length)
      add(
        'managed-by-libvirt',
        `libvirt domains use it: ${managers.map((m) => m.file).join(', ')}`,
        managers.map((m) => m.file),
      );
    if (planned.reason === 'same-group') {
      add('foreign-endpoint', `it was not named but shares IOMMU group ${d.iommuGroup} with what was: the whole group must move to vfio-pci`, [
        `${iommuGroupPath(d.iommuGroup ?? '?', 'devices')}/${d.address}`,
      ]);
    }
  }
  return findings;
}

/**
 * The firmware framebuffer in a BAR of a GPU to bind (docs: iommu-check's FirmwareFramebuffer.ts).
 * Where vfio-pci removes it (Linux 6.0+, a VGA device) the bind goes ahead and only says so;
 * elsewhere the bind would succeed but a VM given the device would not start, so it refuses
 * without --force, as the boot-vga guard does, and names the boot parameter.
 */
function framebufferFindings(host: HostFs, devices: readonly PciDevice[]): GuardFinding[] {
  return firmwareFramebufferClaims(host, devices).map((c): GuardFinding => {
    const held = `the firmware framebuffer (${c.holders.join(', ')}) holds its ${c.bars.join(', ')}`;
    if (c.removedByVfio === true)
      return {
        id: 'boot-framebuffer',
        address: c.address,
        summary: `${held}: vfio-pci on Linux ${c.release} removes it when it binds, and the host console on this GPU goes dark until the next boot`,
        evidence: c.evidence,
        advisory: true,
      };
    const kernel =
      c.removedByVfio === false ? `vfio-pci on Linux ${c.release} does not remove it` : 'the kernel release is unknown (vfio-pci removes it from Linux 6.0 on)';
    return {
      id: 'boot-framebuffer',
      address: c.address,
      summary: `${held}, and ${kernel}: a VM given it would fail to start ("can't reserve" the BAR). Add ${c.params.join(' ')} to the kernel command line (passthru persist adds it) and reboot first`,
      evidence: c.evidence,
    };
  });
}
