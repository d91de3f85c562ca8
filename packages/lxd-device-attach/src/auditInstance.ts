import { z } from 'zod';
import { NO_NUMA, formatCpuList, instanceNumaDevices, pinnedCpus, type HostNuma } from './numa';
import type { DeviceConfig, Instance, Project, Certificate } from './schemas';

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** One audit finding; `id` is stable (scripts filter on it), `fix` says what to change. */
export const FindingSchema = z.object({
  id: z.string(),
  severity: z.enum(SEVERITIES),
  summary: z.string(),
  fix: z.string(),
});
export type Finding = z.infer<typeof FindingSchema>;

/** What the host says about DMA and interrupt isolation (for passthrough to VMs). */
export interface HostIommuState {
  /** The kernel made IOMMU groups (null: unknown, e.g. a remote LXD). */
  iommu: boolean | null;
  /** Interrupts go through a remapping chip (IR-...), from /proc/interrupts (null: unknown). */
  interruptRemapping: boolean | null;
}

export const severityRank = (s: Severity) => SEVERITIES.indexOf(s);
export const isSerious = (f: Finding) => f.severity === 'critical' || f.severity === 'high';
const bySeverity = (a: Finding, b: Finding) => severityRank(a.severity) - severityRank(b.severity) || a.id.localeCompare(b.id);
/** Most severe first, then by id (the order every audit list uses). */
export const sortFindings = (findings: Finding[]) => findings.sort(bySeverity);

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
const LXD_DIRS = ['/var/lib/lxd', '/var/snap/lxd', '/var/lib/incus'];

const normalise = (p: string) =>
  `/${p
    .split('/')
    .filter((x) => x && x !== '.')
    .join('/')}`;
const within = (path: string, dir: string) => dir === '/' || path === dir || path.startsWith(`${dir}/`);

/** Does exposing host path `p` expose a sensitive path (it is one, lies in one, or contains one)? */
export function sensitivePath(p: string): string | undefined {
  const path = normalise(p);
  if (path === '/') return '/';
  return SENSITIVE_HOST_PATHS.find((s) => s !== '/' && (within(path, s) || within(s, path)));
}

/** Device nodes that give raw memory, disks, DMA or kernel logs. */
const DANGEROUS_NODES: { re: RegExp; what: string; severity: Severity }[] = [
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

/** Managed network name -> its type ("bridge", "macvlan", "ovn"...), to know what `network=` NICs are. */
export type NetworkTypes = Readonly<Record<string, string>>;

/** `--project P` for instances outside the default project (fix lines must name it). */
const inProject = (instance: Instance) => (instance.project && instance.project !== 'default' ? ` --project ${instance.project}` : '');

/**
 * The command that turns a key off for this instance: `lxc config unset` when the instance sets it
 * itself; a key inherited from a profile is overridden with `off` (or unset in the profile).
 */
function configOff(instance: Instance, key: string, off?: string): string {
  if (key in instance.config) return `lxc config unset ${instance.name}${inProject(instance)} ${key}`;
  if (off !== undefined) return `lxc config set ${instance.name}${inProject(instance)} ${key}=${off}`;
  return `lxc profile unset PROFILE${inProject(instance)} ${key} (the key comes from a profile: ${instance.profiles.join(', ') || 'none'})`;
}

/** `lxc config device set` for a device of the instance, `override` for one from a profile. */
const deviceSet = (instance: Instance, device: string, settings: string) =>
  `lxc config device ${device in instance.devices ? 'set' : 'override'} ${instance.name}${inProject(instance)} ${device} ${settings}`;

/** Kernel modules only a container engine asks the host for (LXD's old "docker" profile loaded overlay and nf_nat). */
const DOCKER_MODULES = /(^|,)\s*(overlay|br_netfilter|nf_nat|xt_MASQUERADE)\s*(,|$)/;

/** Why the container looks like a Docker host (empty: it does not). */
export function dockerSigns(instance: Instance): string[] {
  const cfg = instance.expanded_config;
  const signs: string[] = [];
  if (/docker/i.test(instance.name)) signs.push(`name ${instance.name}`);
  for (const p of instance.profiles) if (/docker/i.test(p)) signs.push(`profile ${p}`);
  if (DOCKER_MODULES.test(cfg['linux.kernel_modules'] ?? '')) signs.push(`linux.kernel_modules ${cfg['linux.kernel_modules']}`);
  for (const [name, d] of Object.entries(instance.expanded_devices))
    if (d.type === 'disk' && /^\/var\/lib\/docker\/?$/.test(d.path ?? '')) signs.push(`device ${name} at /var/lib/docker`);
  for (const [k, v] of Object.entries(cfg)) if ((k.startsWith('user.') || k === 'image.description') && /docker/i.test(v)) signs.push(`${k}=${v}`);
  return signs;
}

/** The safe Docker-in-LXD configuration (LXD FAQ): unprivileged, nesting, mknod and setxattr interception. */
function dockerSafeFix(instance: Instance, hasRawLxc: boolean): string {
  const cfg = instance.expanded_config;
  return [
    cfg['security.privileged'] === 'true' ? configOff(instance, 'security.privileged', 'false') : '',
    hasRawLxc ? configOff(instance, 'raw.lxc') : '',
    `lxc config set ${instance.name}${inProject(instance)} security.nesting=true security.syscalls.intercept.mknod=true security.syscalls.intercept.setxattr=true`,
  ]
    .filter(Boolean)
    .join('; ');
}

/** security.syscalls.* and linux.kernel_modules (LXD's system call interception page). */
function syscallFindings(instance: Instance, privileged: boolean): Finding[] {
  const cfg = instance.expanded_config;
  const on = (k: string) => cfg[k] === 'true';
  const out: Finding[] = [];
  const add = (id: string, severity: Severity, summary: string, fix: string) => out.push({ id, severity, summary, fix });
  if (instance.type === 'container') {
    if (on('security.syscalls.intercept.mount')) {
      const allowed = cfg['security.syscalls.intercept.mount.allowed']?.trim();
      const shift = on('security.syscalls.intercept.mount.shift');
      const fuse = cfg['security.syscalls.intercept.mount.fuse']?.trim();
      const what = [
        allowed ? `the host kernel mounts ${allowed} for the container (a crafted filesystem image attacks the host kernel)` : '',
        shift ? 'with shifted (idmapped) mounts' : '',
        fuse ? `redirects ${fuse} to FUSE` : '',
      ].filter(Boolean);
      add(
        'syscalls-intercept-mount',
        allowed ? 'high' : shift ? 'medium' : 'low',
        `security.syscalls.intercept.mount: ${what.join(', ') || 'mount() is handled by LXD on the host'}`,
        configOff(instance, 'security.syscalls.intercept.mount', 'false'),
      );
    }
    if (on('security.syscalls.intercept.mknod'))
      add(
        'syscalls-intercept-mknod',
        'low',
        'security.syscalls.intercept.mknod: LXD creates the device nodes it considers safe for the container',
        `${configOff(instance, 'security.syscalls.intercept.mknod', 'false')} (unless it runs Docker)`,
      );
    if (on('security.syscalls.intercept.setxattr'))
      add(
        'syscalls-intercept-setxattr',
        'low',
        'security.syscalls.intercept.setxattr: LXD sets trusted.* extended attributes for the container with host privileges',
        `${configOff(instance, 'security.syscalls.intercept.setxattr', 'false')} (unless it runs Docker)`,
      );
    if (on('security.syscalls.intercept.bpf'))
      add(
        'syscalls-intercept-bpf',
        'medium',
        `security.syscalls.intercept.bpf${on('security.syscalls.intercept.bpf.devices') ? ' with bpf.devices' : ''}: the container loads device cgroup BPF programs with host privileges`,
        configOff(instance, 'security.syscalls.intercept.bpf', 'false'),
      );
    if (cfg['security.syscalls.deny_default'] === 'false')
      add(
        'syscalls-deny-default-off',
        privileged ? 'high' : 'medium',
        `security.syscalls.deny_default=false: LXD's default seccomp deny list (kexec_load, open_by_handle_at, init_module...) is off${privileged ? ' in a privileged container (open_by_handle_at escapes)' : ''}`,
        configOff(instance, 'security.syscalls.deny_default', 'true'),
      );
  }
  const modules = cfg['linux.kernel_modules']?.trim();
  if (modules)
    add(
      'kernel-modules',
      'medium',
      `linux.kernel_modules: the host loads ${modules} into its kernel when the instance starts`,
      `${configOff(instance, 'linux.kernel_modules')} (load what is needed on the host: /etc/modules-load.d)`,
    );
  return out;
}

/** Containers without limits.cpu / limits.memory / limits.processes (VMs always have a CPU and memory size). */
function limitFindings(instance: Instance): Finding[] {
  const cfg = instance.expanded_config;
  const EXAMPLE: Record<string, string> = { 'limits.cpu': '2', 'limits.memory': '2GiB', 'limits.processes': '2000' };
  const missing = Object.keys(EXAMPLE).filter((k) => !cfg[k]?.trim());
  if (missing.length === 0) return [];
  const serious = missing.some((k) => k !== 'limits.cpu');
  return [
    {
      id: 'limits-missing',
      severity: serious ? 'medium' : 'low',
      summary: `no ${missing.join(', ')}: the container can ${[missing.includes('limits.memory') ? 'exhaust host memory' : '', missing.includes('limits.processes') ? 'exhaust PIDs (fork bomb)' : '', missing.includes('limits.cpu') ? 'take every CPU' : ''].filter(Boolean).join(', ')}`,
      fix: `lxc config set ${instance.name}${inProject(instance)} ${missing.map((k) => `${k}=${EXAMPLE[k]}`).join(' ')} (example values: size them to the workload)`,
    },
  ];
}

/** Bridged NICs (nictype=bridged, or network= a managed bridge) without MAC/IP filtering or port isolation. */
function nicFindings(instance: Instance, networks: NetworkTypes): Finding[] {
  const out: Finding[] = [];
  for (const [name, d] of Object.entries(instance.expanded_devices)) {
    if (d.type !== 'nic') continue;
    const bridged = d.nictype === 'bridged' || (d.nictype === undefined && d.network !== undefined && networks[d.network] === 'bridge');
    if (!bridged) continue;
    const on = (k: string) => d[k] === 'true';
    const where = `device ${name} (bridged to ${d.parent ?? d.network})`;
    if (!on('security.mac_filtering'))
      out.push({
        id: 'nic-mac-filtering-off',
        severity: 'medium',
        summary: `${where} has no MAC filtering: the instance can send as any MAC and spoof its neighbours`,
        fix: deviceSet(instance, name, 'security.mac_filtering=true'),
      });
    if (!on('security.ipv4_filtering') && !on('security.ipv6_filtering'))
      out.push({
        id: 'nic-ip-filtering-off',
        severity: 'low',
        summary: `${where} has no IP filtering: the instance can use any IPv4/IPv6 address`,
        fix: `${deviceSet(instance, name, 'security.ipv4_filtering=true security.ipv6_filtering=true')} (on an unmanaged bridge also set ipv4.address / ipv6.address)`,
      });
    if (!on('security.port_isolation'))
      out.push({
        id: 'nic-port-isolation-off',
        severity: 'low',
        summary: `${where} is not port-isolated: it reaches every other port of the bridge directly`,
        fix: deviceSet(instance, name, 'security.port_isolation=true'),
      });
  }
  return out;
}

/**
 * An instance with host hardware (pci, physical gpu, physical/sriov nic) whose pinned CPUs lie
 * (partly) on other NUMA nodes than the hardware, or that is not pinned on a multi-node host:
 * every DMA and interrupt then crosses the interconnect (LXD's performance tuning guide).
 * The fix pins limits.cpu to the devices' nodes' CPUs and, for VMs, backs memory with hugepages
 * where the nodes have hugepages reserved.
 */
export function numaFindings(instance: Instance, numa: HostNuma): Finding[] {
  if (numa.nodes.length < 2) return [];
  const devices = instanceNumaDevices(instance, numa);
  const nodes = [...new Set(devices.map((d) => d.node))]
    .sort((a, b) => a - b)
    .map((n) => numa.nodes.find((x) => x.node === n))
    .filter((n) => n !== undefined);
  if (nodes.length === 0) return [];
  const cfg = instance.expanded_config;
  const wanted = new Set(nodes.flatMap((n) => n.cpus));
  const cpulist = nodes.length === 1 ? nodes[0]!.cpulist : formatCpuList([...wanted]);
  const limit = cfg['limits.cpu']?.trim();
  const pinned = pinnedCpus(limit);
  const off = pinned?.filter((c) => !wanted.has(c));
  if (pinned && pinned.length > 0 && off!.length === 0) return [];
  const where = devices.map((d) => `${d.name} (${d.what}) on node ${d.node}`).join(', ');
  const nodeText = `node${nodes.length > 1 ? 's' : ''} ${nodes.map((n) => n.node).join(', ')} (CPUs ${cpulist})`;
  const hugepages = instance.type === 'virtual-machine' && cfg['limits.memory.hugepages'] !== 'true' && nodes.every((n) => n.hugepages > 0);
  const fix = `lxc config set ${instance.name}${inProject(instance)} limits.cpu=${cpulist}${hugepages ? ' limits.memory.hugepages=true' : ''}`;
  if (pinned && pinned.length > 0) {
    const onNodes = [...new Set(pinned.map((c) => numa.nodes.find((n) => n.cpus.includes(c))?.node).filter((n) => n !== undefined))].sort((a, b) => a - b);
    return [
      {
        id: 'numa-misaligned',
        severity: 'medium',
        summary: `limits.cpu=${limit} runs on NUMA node${onNodes.length === 1 ? '' : 's'} ${onNodes.join(', ') || "(none of the host's)"}, but ${where}: CPUs ${formatCpuList(off!)} are off the device's ${nodeText}, so DMA and interrupts cross the interconnect`,
        fix,
      },
    ];
  }
  return [
    {
      id: 'numa-misaligned',
      severity: 'low',
      summary: `limits.cpu ${limit ? `=${limit} is a count, not pinned` : 'is not set'} on a host with ${numa.nodes.length} NUMA nodes, and ${where}: the scheduler may run it on another node than the device's ${nodeText}`,
      fix,
    },
  ];
}

/**
 * Findings for one instance from its expanded config and devices (LXD's security guidance:
 * unprivileged by default; privileged, nesting and raw.* as risks; idmaps; host paths).
 */
export function auditInstance(
  instance: Instance,
  host: HostIommuState = { iommu: null, interruptRemapping: null },
  networks: NetworkTypes = {},
  numa: HostNuma = NO_NUMA,
): Finding[] {
  const cfg = instance.expanded_config;
  const devs = instance.expanded_devices;
  const container = instance.type === 'container';
  const findings: Finding[] = [];
  const add = (id: string, severity: Severity, summary: string, fix: string) => findings.push({ id, severity, summary, fix });
  const privileged = container && cfg['security.privileged'] === 'true';
  const nesting = cfg['security.nesting'] === 'true';
  const handed = hostDevices(devs);
  const docker = container ? dockerSigns(instance) : [];
  const rawLines = parseRawLxc(cfg['raw.lxc'] ?? '');
  const unconfining = rawLines.filter(
    ({ key, value }) =>
      (/^lxc\.(apparmor\.profile|aa_profile)$/.test(key) && /unconfined/.test(value)) ||
      (key === 'lxc.cap.drop' && value === '') ||
      key === 'lxc.cap.keep' ||
      (/^lxc\.cgroup2?\.devices\.allow$/.test(key) && (/^a\b/.test(value) || /\*:\*/.test(value))),
  );
  const safeDocker = dockerSafeFix(instance, rawLines.length > 0);

  if (privileged) {
    const worse = [handed.length > 0 ? `host devices: ${handed.join(', ')}` : '', nesting ? 'security.nesting' : ''].filter(Boolean);
    add(
      'privileged',
      worse.length > 0 ? 'critical' : 'high',
      `privileged container: root inside is root on the host (no user namespace)${worse.length ? `, with ${worse.join(' and ')}` : ''}`,
      docker.length > 0
        ? `${safeDocker} (the safe Docker-in-LXD pattern)`
        : `lxc config unset ${instance.name} security.privileged (make it unprivileged; use security.idmap.* or shift=true on disks for file access)`,
    );
  }
  if (nesting) {
    const dockerSafe = docker.length > 0 && !privileged;
    add(
      'nesting',
      privileged ? 'critical' : dockerSafe ? 'low' : 'medium',
      privileged
        ? 'security.nesting on a privileged container: a nested runtime can reach the host through /proc and /sys'
        : dockerSafe
          ? `security.nesting on an unprivileged Docker host (${docker.join(', ')}): expected for Docker in LXD, keep it unprivileged`
          : 'security.nesting: the container may mount proc/sysfs and run its own containers, which widens the kernel surface',
      dockerSafe
        ? `keep security.privileged unset; ${safeDocker}`
        : `lxc config unset ${instance.name} security.nesting (unless it runs containers itself; then keep it unprivileged)`,
    );
  }
  if (docker.length > 0 && (privileged || unconfining.length > 0)) {
    const how = [privileged ? 'security.privileged=true' : '', ...unconfining.map(({ key, value }) => `raw.lxc ${key} = ${value}`)].filter(Boolean);
    add('docker-unsafe', privileged ? 'critical' : 'high', `Docker host (${docker.join(', ')}) run the unsafe way: ${how.join(', ')}`, safeDocker);
  }

  const rawLxc = cfg['raw.lxc'];
  if (rawLxc !== undefined && rawLxc.trim() !== '') {
    let other = 0;
    for (const { key, value } of rawLines) {
      if (/^lxc\.cgroup2?\.devices\.allow$/.test(key)) {
        const all = /^a\b/.test(value) || /\*:\*/.test(value);
        add(
          'raw-lxc-devices-allow',
          all || privileged ? 'critical' : 'high',
          `raw.lxc ${key} = ${value}: opens host device nodes behind LXD's back${all ? ' (every device)' : ''}`,
          `remove the line from raw.lxc; pass the device with a unix-char/gpu/usb device (passthru attach ${instance.name} ...)`,
        );
      } else if (key === 'lxc.mount.entry') {
        const source = value.split(/\s+/)[0] ?? '';
        const sensitive = source.startsWith('/') ? sensitivePath(source) : undefined;
        add(
          'raw-lxc-mount-entry',
          sensitive ? 'critical' : source.startsWith('/') ? 'high' : 'medium',
          `raw.lxc lxc.mount.entry mounts host path ${source || '?'} into the container${sensitive ? ` (covers ${sensitive})` : ''}, unshifted and outside LXD's checks`,
          `replace it with a disk device (lxc config device add ${instance.name} NAME disk source=${source || 'PATH'} path=... readonly=true shift=true)`,
        );
      } else if (/^lxc\.(apparmor\.profile|aa_profile)$/.test(key) && /unconfined/.test(value)) {
        add('raw-lxc-apparmor-unconfined', 'high', `raw.lxc ${key} = ${value}: AppArmor confinement off`, `remove the line from raw.lxc`);
      } else if (key === 'lxc.cap.keep' || (key === 'lxc.cap.drop' && value === '')) {
        add(
          'raw-lxc-capabilities',
          privileged ? 'critical' : 'high',
          `raw.lxc ${key} = ${value}: replaces the capabilities LXD drops (sys_module, sys_rawio, sys_time, mac_admin, mac_override)${privileged ? ' in a privileged container, i.e. host capabilities' : ''}`,
          'remove the line from raw.lxc',
        );
      } else if (key === 'lxc.cap.drop') {
        add(
          'raw-lxc-capabilities',
          'low',
          `raw.lxc lxc.cap.drop = ${value}: drops more capabilities (hardening), but outside LXD's validation`,
          `keep it if intended; LXD has no key for it`,
        );
      } else if (/^lxc\.(seccomp|idmap|include|hook\.)/.test(key)) {
        add(
          'raw-lxc-security',
          'high',
          `raw.lxc ${key} = ${value}: overrides LXD's capability, seccomp, idmap or hook defaults`,
          'remove the line from raw.lxc',
        );
      } else other++;
    }
    if (other > 0)
      add(
        'raw-lxc',
        'medium',
        `raw.lxc sets ${other} LXC key${other === 1 ? '' : 's'} directly, bypassing LXD's defaults and validation`,
        'move the setting to an LXD config key or device, then unset raw.lxc',
      );
  }
  if (cfg['raw.apparmor']?.trim())
    add(
      'raw-apparmor',
      'medium',
      'raw.apparmor adds rules to the AppArmor profile LXD generates',
      `review the rules; prefer LXD keys; lxc config unset ${instance.name} raw.apparmor`,
    );
  if (cfg['raw.seccomp']?.trim())
    add(
      'raw-seccomp',
      'medium',
      'raw.seccomp replaces the seccomp policy LXD generates',
      `lxc config unset ${instance.name} raw.seccomp; use security.syscalls.* keys`,
    );
  if (cfg['raw.qemu']?.trim() || cfg['raw.qemu.conf']?.trim())
    add('raw-qemu', 'medium', 'raw.qemu passes options to QEMU directly', `review them; lxc config unset ${instance.name} raw.qemu`);
  const rawIdmap = cfg['raw.idmap'];
  if (rawIdmap?.trim() && container && !privileged) {
    if (idmapMapsHostRoot(rawIdmap))
      add(
        'raw-idmap-host-root',
        'critical',
        "raw.idmap maps host uid/gid 0 into the container: its files are host root's",
        `map a non-root host id instead (raw.idmap "both 1000 1000"), or lxc config unset ${instance.name} raw.idmap`,
      );
    else
      add(
        'raw-idmap',
        'low',
        'raw.idmap maps host ids into the container: files of those host users are writable from inside',
        'map only the ids the workload needs',
      );
  }
  if (container && !privileged && cfg['security.idmap.isolated'] !== 'true') {
    add(
      'idmap-shared',
      'low',
      'the container shares its uid/gid map with other containers: an escape reaches their files',
      `lxc config set ${instance.name} security.idmap.isolated=true`,
    );
  }

  findings.push(...syscallFindings(instance, privileged));
  if (container) findings.push(...limitFindings(instance));
  findings.push(...nicFindings(instance, networks));

  for (const [name, d] of Object.entries(devs)) {
    if (d.type === 'unix-char' || d.type === 'unix-block') {
      const node = normalise(d.source ?? d.path ?? '');
      const danger = DANGEROUS_NODES.find((x) => x.re.test(node));
      if (danger)
        add(
          'unix-device-dangerous',
          danger.severity,
          `device ${name} (${d.type} ${node}) gives ${danger.what}`,
          `lxc config device remove ${instance.name} ${name}`,
        );
      else
        add(
          'unix-device',
          'low',
          `device ${name} passes host node ${node || `${d.major ?? '?'}:${d.minor ?? '?'}`}`,
          `keep only if needed; set mode/uid/gid narrowly`,
        );
    } else if (d.type === 'disk' && (d.source ?? '').startsWith('/')) {
      const source = normalise(d.source!);
      const sensitive = sensitivePath(source);
      const lxd = LXD_DIRS.find((x) => within(source, x) || within(x, source));
      const readonly = d.readonly === 'true';
      if (lxd || source === '/')
        add(
          'disk-host-path',
          'critical',
          `device ${name} shares host path ${source}${lxd ? ` (LXD's own state ${lxd}, its socket included)` : ' (the whole host)'}`,
          `lxc config device remove ${instance.name} ${name}`,
        );
      else if (sensitive)
        add(
          'disk-host-path',
          readonly ? 'high' : 'critical',
          `device ${name} shares host path ${source} (covers ${sensitive})${readonly ? ' read-only' : ' writable'}`,
          `lxc config device remove ${instance.name} ${name}; share a dedicated folder instead`,
        );
      else
        add(
          'disk-host-path',
          'low',
          `device ${name} shares host path ${source}${readonly ? ' read-only' : ''}`,
          'share a dedicated folder; use readonly=true and shift=true where possible',
        );
    } else if (d.type === 'proxy') {
      const ends = [d.connect, d.listen].filter((x): x is string => typeof x === 'string');
      const lxdSocket = ends.find(
        (e) => /^unix:/.test(e) && /unix\.socket$/.test(e) && (/lxd|incus/.test(e) || LXD_DIRS.some((x) => e.slice(5).startsWith(x))),
      );
      if (lxdSocket)
        add(
          'proxy-lxd-socket',
          'critical',
          `device ${name} proxies ${lxdSocket}: the container can drive LXD, which is root on the host`,
          `lxc config device remove ${instance.name} ${name}`,
        );
    }
  }

  if (!container) {
    const passthrough = Object.entries(devs).filter(
      ([, d]) =>
        d.type === 'pci' ||
        (d.type === 'gpu' && (d.gputype ?? 'physical') === 'physical') ||
        (d.type === 'nic' && (d.nictype === 'physical' || d.nictype === 'sriov')),
    );
    if (passthrough.length > 0) {
      const names = passthrough.map(([n]) => n).join(', ');
      if (host.iommu === false)
        add(
          'passthrough-no-iommu',
          'high',
          `VM passthrough (${names}) on a host without a working IOMMU: the device's DMA is not confined`,
          'enable VT-d/AMD-Vi in the firmware and intel_iommu=on / amd_iommu=on (passthru doctor, passthru persist)',
        );
      if (host.interruptRemapping === false)
        add(
          'passthrough-no-interrupt-remapping',
          'high',
          `VM passthrough (${names}) on a host without interrupt remapping: the device can forge interrupts (MSI injection)`,
          'enable interrupt remapping in the firmware (x2APIC/IR); do not set allow_unsafe_interrupts=1',
        );
    }
  }
  findings.push(...numaFindings(instance, numa));
  return findings.sort(bySeverity);
}

/**
 * Findings for a project: without `restricted=true`, anyone who may use it (restricted client
 * certificates listed for it) can make privileged containers or raw.lxc, i.e. become root.
 */
export function auditProject(project: Project, certificates: Certificate[]): Finding[] {
  const cfg = project.config;
  const users = certificates.filter((c) => c.restricted && (c.projects ?? []).includes(project.name)).map((c) => c.name || c.fingerprint.slice(0, 12));
  const findings: Finding[] = [];
  if (cfg.restricted !== 'true') {
    if (users.length > 0) {
      findings.push({
        id: 'project-unrestricted',
        severity: 'high',
        summary: `project ${project.name} is not restricted but non-admin users can use it (${users.join(', ')}): they can create privileged containers and raw.lxc, i.e. become host root`,
        fix: `lxc project set ${project.name} restricted=true`,
      });
    } else if (project.name !== 'default') {
      findings.push({
        id: 'project-unrestricted',
        severity: 'low',
        summary: `project ${project.name} is not restricted (only admins can use it today)`,
        fix: `lxc project set ${project.name} restricted=true before granting it to non-admin users`,
      });
    }
  } else {
    const loose = [
      'restricted.containers.privilege',
      'restricted.containers.nesting',
      'restricted.containers.lowlevel',
      'restricted.virtual-machines.lowlevel',
      'restricted.devices.disk',
      'restricted.devices.pci',
      'restricted.devices.gpu',
      'restricted.devices.usb',
      'restricted.devices.unix-char',
      'restricted.devices.unix-block',
      'restricted.devices.nic',
    ].filter(
      (k) => cfg[k] === 'allow' || (k === 'restricted.containers.privilege' && cfg[k] === 'allow') || (k === 'restricted.devices.nic' && cfg[k] === 'allow'),
    );
    if (loose.length > 0)
      findings.push({
        id: 'project-restriction-relaxed',
        severity: users.length > 0 ? 'high' : 'medium',
        summary: `project ${project.name} is restricted but allows ${loose.join(', ')}`,
        fix: loose.map((k) => `lxc project unset ${project.name} ${k}`).join('; '),
      });
  }
  // Aggregate limits bound what the project's users can take from the host (the default project
  // without non-admin users is the admins' own: no finding there).
  const LIMITS: Record<string, string> = { 'limits.cpu': '8', 'limits.memory': '16GiB', 'limits.processes': '20000' };
  const missing = Object.keys(LIMITS).filter((k) => !cfg[k]?.trim());
  if (missing.length > 0 && (users.length > 0 || project.name !== 'default')) {
    findings.push({
      id: 'project-limits-missing',
      severity: users.length > 0 ? 'medium' : 'low',
      summary: `project ${project.name} has no ${missing.join(', ')}${users.length > 0 ? `: its non-admin users (${users.join(', ')}) can exhaust the host` : ''}`,
      fix: `lxc project set ${project.name} ${missing.map((k) => `${k}=${LIMITS[k]}`).join(' ')} (example values: size them to the host)`,
    });
  }
  return findings.sort(bySeverity);
}
