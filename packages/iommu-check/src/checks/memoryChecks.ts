/**
 * Memory layer for VM passthrough: a VM with vfio devices pins (locks) all its memory for DMA
 * mapping, so the LXD daemon needs an unlimited memlock limit (LXD's production server settings);
 * large guests avoid fragmentation with hugepages (limits.memory.hugepages), reserved on the NUMA
 * node of the device they get.
 */
import type { PciDevice } from '@passthru/pci-discovery';
import type { CheckResult } from '../DoctorReport';
import { tryList, tryReadText } from '@passthru/hostfs';
import { check } from './check';
import type { Facts } from './Facts';

/** A memlock value: "unlimited"/"infinity" or a number (limits.conf: KiB; systemd and /proc: bytes). */
const isUnlimited = (v: string) => /^(unlimited|infinity|-1)$/i.test(v.trim());

/** limits.conf lines "<domain> <type> memlock <value>" for `*` and root: [file:line text, value]. */
export function parseMemlockLimits(text: string): { domain: string; type: string; value: string }[] {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim().split(/\s+/))
    .filter((f) => f.length >= 4 && f[2] === 'memlock')
    .map((f) => ({ domain: f[0]!, type: f[1]!, value: f[3]! }));
}

/** The LXD daemon's pid (a /proc/<pid>/comm of "lxd"), on a live host. */
function lxdPid(f: Facts): string | undefined {
  for (const pid of (tryList(f.host, '/proc').value ?? []).filter((p) => /^\d+$/.test(p))) {
    if (tryReadText(f.host, `/proc/${pid}/comm`).value?.trim() === 'lxd') return pid;
  }
  return undefined;
}

const UNITS = [
  '/etc/systemd/system/snap.lxd.daemon.service',
  '/etc/systemd/system/lxd.service',
  '/lib/systemd/system/lxd.service',
  '/usr/lib/systemd/system/lxd.service',
];

const MEMLOCK_FIX =
  'Let the LXD daemon lock memory without limit (LXD production setup): add "* soft memlock unlimited", "* hard memlock unlimited", "root soft memlock unlimited" and "root hard memlock unlimited" to /etc/security/limits.conf, and LimitMEMLOCK=infinity in a drop-in of the LXD unit (systemctl edit lxd, or snap.lxd.daemon), then restart LXD.';

/**
 * memlock: where the LXD daemon runs, its /proc/<pid>/limits; else the unit's LimitMEMLOCK; else
 * limits.conf (and limits.d). SKIP when nothing on the host says (no LXD, no memlock line).
 */
export function checkMemlock(f: Facts): CheckResult {
  const pid = lxdPid(f);
  if (pid !== undefined) {
    const limits = tryReadText(f.host, `/proc/${pid}/limits`).value ?? '';
    const row = /^Max locked memory\s+(\S+)\s+(\S+)/m.exec(limits);
    if (row) {
      const ev = [`/proc/${pid}/limits (lxd): Max locked memory soft ${row[1]} hard ${row[2]}`];
      return isUnlimited(row[1]!) && isUnlimited(row[2]!)
        ? check('memlock', 'PASS', "The LXD daemon may lock unlimited memory (vfio DMA mapping of a VM's whole memory).", ev)
        : check('memlock', 'WARN', `The LXD daemon may lock only ${row[1]} bytes: a VM with vfio devices cannot pin its memory.`, ev, MEMLOCK_FIX);
    }
  }
  const ev: string[] = [];
  for (const base of UNITS) {
    const files = [base, ...(tryList(f.host, `${base}.d`).value ?? []).filter((n) => n.endsWith('.conf')).map((n) => `${base}.d/${n}`)];
    let value: string | undefined;
    let where: string | undefined;
    for (const file of files) {
      const m = [...(tryReadText(f.host, file).value ?? '').matchAll(/^\s*LimitMEMLOCK\s*=\s*(\S+)/gm)].pop();
      if (m) [value, where] = [m[1]!, file];
    }
    if (value !== undefined) {
      ev.push(`${where}: LimitMEMLOCK=${value}`);
      return isUnlimited(value)
        ? check('memlock', 'PASS', 'The LXD unit lets the daemon lock unlimited memory.', ev)
        : check('memlock', 'WARN', `The LXD unit limits locked memory to ${value}: a VM with vfio devices cannot pin its memory.`, ev, MEMLOCK_FIX);
    }
  }
  const files = [
    '/etc/security/limits.conf',
    ...(tryList(f.host, '/etc/security/limits.d').value ?? []).filter((n) => n.endsWith('.conf')).map((n) => `/etc/security/limits.d/${n}`),
  ];
  const found = files.map((file) => ({ file, text: tryReadText(f.host, file).value })).filter((x) => x.text !== undefined);
  if (found.length === 0)
    return check('memlock', 'SKIP', 'No LXD daemon, LXD unit or limits.conf found: the memlock limit is not known.', [
      ...UNITS.map((u) => `${u}: absent`),
      '/etc/security/limits.conf: absent',
    ]);
  const lines = found.flatMap(({ file, text }) =>
    parseMemlockLimits(text!)
      .filter((l) => l.domain === '*' || l.domain === 'root')
      .map((l) => ({ ...l, file })),
  );
  for (const l of lines) ev.push(`${l.file}: ${l.domain} ${l.type} memlock ${l.value}`);
  const ok = (domain: string) =>
    ['soft', 'hard'].every((type) => lines.some((l) => l.domain === domain && (l.type === type || l.type === '-') && isUnlimited(l.value)));
  if (ok('*') || ok('root')) return check('memlock', 'PASS', 'limits.conf lets processes lock unlimited memory.', ev);
  if (ev.length === 0) ev.push(...found.map(({ file }) => `${file}: no memlock line for * or root`));
  return check(
    'memlock',
    'WARN',
    'limits.conf sets no unlimited memlock for * or root (the kernel default is 8 MiB): a VM with vfio devices cannot pin its memory.',
    ev,
    MEMLOCK_FIX,
  );
}

/** Hugepages reserved per NUMA node (nr_hugepages summed over sizes), from /sys/devices/system/node. */
function nodeHugepages(f: Facts): Map<number, { pages: number; ev: string[] }> {
  const out = new Map<number, { pages: number; ev: string[] }>();
  for (const entry of tryList(f.host, '/sys/devices/system/node').value ?? []) {
    const m = /^node(\d+)$/.exec(entry);
    if (!m) continue;
    const ev: string[] = [];
    let pages = 0;
    for (const pool of tryList(f.host, `/sys/devices/system/node/${entry}/hugepages`).value ?? []) {
      const p = `/sys/devices/system/node/${entry}/hugepages/${pool}/nr_hugepages`;
      const n = Number(tryReadText(f.host, p).value?.trim() ?? '0') || 0;
      pages += n;
      ev.push(`${p}: ${n}`);
    }
    out.set(Number(m[1]), { pages, ev });
  }
  return out;
}

/**
 * hugepages: some are reserved (PASS) or none are (WARN); with asked devices, on each device's
 * NUMA node. SKIP when neither the node folders nor /proc/meminfo say.
 */
export function checkHugepages(f: Facts, asked: readonly PciDevice[]): CheckResult {
  const nodes = nodeHugepages(f);
  const meminfo = tryReadText(f.host, '/proc/meminfo').value;
  const total = meminfo === undefined ? undefined : Number(/^HugePages_Total:\s+(\d+)/m.exec(meminfo)?.[1] ?? '0');
  if (nodes.size === 0 && total === undefined)
    return check('hugepages', 'SKIP', 'Neither /sys/devices/system/node nor /proc/meminfo is readable: hugepage reservations are not known.', [
      '/sys/devices/system/node: absent',
      '/proc/meminfo: absent',
    ]);
  const ev = [...[...nodes.values()].flatMap((n) => n.ev), ...(total === undefined ? [] : [`/proc/meminfo: HugePages_Total ${total}`])];
  const fix = (node: number | undefined) =>
    `Reserve hugepages${node === undefined ? '' : ` on NUMA node ${node}`} for large VMs with vfio devices and set limits.memory.hugepages=true on them: echo 1024 > /sys/devices/system/node/node${node ?? 0}/hugepages/hugepages-2048kB/nr_hugepages (at boot: a sysctl vm.nr_hugepages or the kernel parameters hugepagesz=2M hugepages=N).`;
  const withNode = asked.filter((d) => d.numaNode !== null && nodes.has(d.numaNode));
  if (withNode.length > 0) {
    const missing = withNode.filter((d) => nodes.get(d.numaNode!)!.pages === 0);
    if (missing.length === 0)
      return check(
        'hugepages',
        'PASS',
        `Hugepages are reserved on the NUMA node of ${withNode.map((d) => `${d.address} (node ${d.numaNode})`).join(', ')}.`,
        ev,
      );
    const node = missing[0]!.numaNode!;
    return check(
      'hugepages',
      'WARN',
      `No hugepages are reserved on NUMA node ${node}, where ${missing.map((d) => d.address).join(', ')} sit${missing.length === 1 ? 's' : ''}: a VM given ${missing.length === 1 ? 'it' : 'them'} cannot use limits.memory.hugepages there.`,
      ev,
      fix(node),
    );
  }
  const reserved = nodes.size > 0 ? [...nodes.values()].reduce((n, x) => n + x.pages, 0) : total!;
  if (reserved > 0)
    return check(
      'hugepages',
      'PASS',
      `${reserved} hugepages are reserved${nodes.size > 1 ? ` (${[...nodes].map(([n, x]) => `node ${n}: ${x.pages}`).join(', ')})` : ''}.`,
      ev,
    );
  return check('hugepages', 'WARN', 'No hugepages are reserved: large VMs with vfio devices pin fragmented 4 KiB pages.', ev, fix(undefined));
}
