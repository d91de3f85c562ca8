// Pure parsers of the peer tools' text output (docs/architecture.md: parsers are pure functions of text).
// Each returns exactly what the tool said, with no interpretation beyond splitting fields.

// Domains are 4 hex digits, or 5 behind an Intel VMD (10000:e0:06.0).
const BDF = /^[0-9a-f]{4,5}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

export interface LspciDevice {
  address: string;
  /** From `-PP`: the bridge the device sits behind (null on a root bus). */
  parent: string | null;
  classCode: string; // 4 hex digits, e.g. 0604
  progIf: string | null;
  vendorId: string;
  deviceId: string;
  subsystemVendorId: string | null;
  subsystemDeviceId: string | null;
  revision: string | null;
  driver: string | null;
  iommuGroup: number | null;
  numaNode: number | null;
}

const bracketId = (value: string | undefined): string | null => value?.match(/\[([0-9a-f]{4})\]\s*$/)?.[1] ?? null;

/** `lspci -PP -Dvmmnnk`: records separated by blank lines, "Key:\tvalue" lines. */
export function parseLspciVmm(text: string): LspciDevice[] {
  const devices: LspciDevice[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of block.split('\n')) {
      const m = line.match(/^(\w+):\s*(.*)$/);
      if (m && !fields.has(m[1])) fields.set(m[1], m[2]); // first Driver/Module line wins
    }
    const slot = fields.get('Slot');
    if (!slot) continue;
    // -D prints the domain on the first path element only: 0000:00:01.0/01:00.0
    const parts = slot.split('/');
    const domain = parts[0].split(':')[0];
    const full = (p: string) => (BDF.test(p) ? p : `${domain}:${p}`);
    const address = full(parts[parts.length - 1]);
    const num = (key: string) => (fields.has(key) ? Number(fields.get(key)) : null);
    devices.push({
      address,
      parent: parts.length > 1 ? full(parts[parts.length - 2]) : null,
      classCode: bracketId(fields.get('Class')) ?? '',
      progIf: fields.get('ProgIf') ?? null,
      vendorId: bracketId(fields.get('Vendor')) ?? '',
      deviceId: bracketId(fields.get('Device')) ?? '',
      subsystemVendorId: bracketId(fields.get('SVendor')),
      subsystemDeviceId: bracketId(fields.get('SDevice')),
      revision: fields.get('Rev') ?? null,
      driver: fields.get('Driver') ?? null,
      iommuGroup: num('IOMMUGroup'),
      numaNode: num('NUMANode'),
    });
  }
  return devices;
}

export interface DriverctlDevice {
  address: string;
  driver: string | null;
  /** `[*]`: driver_override is set. */
  overridden: boolean;
}

/** `driverctl list-devices`: "ADDR DRIVER|(none) [*]". */
export function parseDriverctlList(text: string): DriverctlDevice[] {
  return text
    .split('\n')
    .map((line) => line.trim().match(/^(\S+) (\S+)( \[\*\])?$/))
    .filter((m): m is RegExpMatchArray => m !== null && BDF.test(m[1]))
    .map((m) => ({ address: m[1], driver: m[2] === '(none)' ? null : m[2], overridden: Boolean(m[3]) }));
}

export interface DevbindDevice {
  address: string;
  /** The section title, e.g. "Network devices using kernel driver". */
  section: string;
  name: string;
  driver: string | null;
  interfaces: string[];
  unused: string[];
}

/**
 * `dpdk-devbind.py --status`: sections ("Network devices using DPDK-compatible driver",
 * "... using kernel driver", "Other Network devices", then Baseband, Crypto, ...), lines
 * "ADDR 'Name DEVID' if=a,b drv=x unused=y,z *Active*".
 */
export function parseDevbindStatus(text: string): DevbindDevice[] {
  const devices: DevbindDevice[] = [];
  let section = '';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^=+$/.test(lines[i + 1] ?? '')) section = line.trim();
    const m = line.match(/^(\S+) '(.*)' ?(.*)$/);
    if (!m || !BDF.test(m[1])) continue;
    const kv = new Map([...m[3].matchAll(/(\w+)=(\S*)/g)].map((x) => [x[1], x[2]] as const));
    const list = (key: string) => (kv.get(key) ? kv.get(key)!.split(',').filter(Boolean) : []);
    devices.push({ address: m[1], section, name: m[2], driver: kv.get('drv') ?? null, interfaces: list('if'), unused: list('unused') });
  }
  return devices;
}

export interface ValidateCheck {
  hypervisor: string;
  check: string;
  result: 'PASS' | 'WARN' | 'FAIL' | 'NOTE';
  message: string | null;
}

/** `virt-host-validate qemu`: "  QEMU: Checking for X      : PASS|WARN (why)|FAIL (why)". */
export function parseVirtHostValidate(text: string): ValidateCheck[] {
  const checks: ValidateCheck[] = [];
  for (const line of text.split('\n')) {
    const m = line.match(/^\s*(\w+): Checking (.+?)\s*: (PASS|WARN|FAIL|NOTE)(?: \((.*)\))?\s*$/);
    if (m) checks.push({ hypervisor: m[1], check: m[2], result: m[3] as ValidateCheck['result'], message: m[4] ?? null });
  }
  return checks;
}
