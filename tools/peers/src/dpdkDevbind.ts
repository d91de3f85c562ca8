// DPDK's dpdk-devbind.py: `--status`, a pure function of its text.
import { PCI_ADDRESS_RE } from '@passthru/pci-discovery';

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
    const line = lines[i]!;
    if (/^=+$/.test(lines[i + 1] ?? '')) section = line.trim();
    const m = line.match(/^(\S+) '(.*)' ?(.*)$/);
    if (!m || !PCI_ADDRESS_RE.test(m[1]!)) continue;
    const kv = new Map([...m[3]!.matchAll(/(\w+)=(\S*)/g)].map((x) => [x[1]!, x[2]!] as const));
    const list = (key: string) => (kv.get(key) ? kv.get(key)!.split(',').filter(Boolean) : []);
    devices.push({ address: m[1]!, section, name: m[2]!, driver: kv.get('drv') ?? null, interfaces: list('if'), unused: list('unused') });
  }
  return devices;
}
