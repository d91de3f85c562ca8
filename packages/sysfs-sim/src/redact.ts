// What a capture keeps of the files it copies (capture.ts): pure transforms that take out serial
// numbers, addresses and anything of the host's but what passthrough readiness reads.

const CPUINFO_KEYS = new Set(['processor', 'vendor_id', 'model name', 'flags']);
/** PCI Express extended capability: Device Serial Number. */
const EXT_CAP_DSN = 0x0003;

/** A GPU's UUID is its serial number: zeroed in NVIDIA's `information` (`GPU UUID: GPU-...`). */
export const zeroGpuUuids = (content: Buffer): Buffer =>
  Buffer.from(content.toString('utf8').replace(/^(GPU UUID:\s*GPU-)[0-9a-f-]+/gim, (_, head) => `${head}00000000-0000-0000-0000-000000000000`));

/** Zeroes the serial number of every Device Serial Number extended capability. */
export function zeroSerialNumbers(config: Buffer): Buffer {
  const copy = Buffer.from(config);
  let offset = 0x100;
  for (let hops = 0; offset >= 0x100 && offset + 4 <= copy.length && hops < 256; hops++) {
    const header = copy.readUInt32LE(offset);
    if (header === 0 || header === 0xffffffff) break;
    if ((header & 0xffff) === EXT_CAP_DSN && offset + 12 <= copy.length) copy.fill(0, offset + 4, offset + 12);
    offset = (header >>> 20) & 0xffc;
  }
  return copy;
}

/** Keeps only the processor, vendor_id, model name and flags lines (and the blank separators). */
export function filterCpuinfo(text: string): string {
  return text
    .split('\n')
    .filter((line) => line.trim() === '' || CPUINFO_KEYS.has(line.split(':')[0]!.trim()))
    .join('\n');
}

/** The default routes of /proc/net/route (v4, header kept) or ipv6_route, with their gateways zeroed. */
export function defaultRoutes(text: string, family: 'v4' | 'v6'): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (family === 'v4') {
    const [header, ...rows] = lines;
    const kept = rows.map((l) => l.split(/\s+/)).filter((f) => f[1] === '00000000' && f[7] === '00000000');
    return `${[header ?? '', ...kept.map((f) => [f[0], f[1], '00000000', ...f.slice(3)].join('\t'))].join('\n')}\n`;
  }
  const zero = '0'.repeat(32);
  const kept = lines.map((l) => l.trim().split(/\s+/)).filter((f) => f[0] === zero && f[1] === '00');
  return kept.map((f) => [...f.slice(0, 4), zero, ...f.slice(5)].join(' ')).join('\n') + (kept.length ? '\n' : '');
}

/** /proc/mounts (skip 0) or /proc/swaps (its header kept): only the lines of block devices (/dev/...). */
export function blockDeviceLines(text: string, header: 0 | 1): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const kept = [...lines.slice(0, header), ...lines.slice(header).filter((l) => l.startsWith('/dev/'))];
  return kept.length ? `${kept.join('\n')}\n` : '';
}
