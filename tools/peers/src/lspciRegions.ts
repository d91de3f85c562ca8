// The BARs `lspci -D -vv` prints per device: "Region N: Memory at ... (64-bit, prefetchable)
// [size=32G]", "Region N: I/O ports at ... [size=128]", "Expansion ROM at ... [size=128K]" (the
// ROM is index 6, as in the kernel's `resource` file). lspci sizes them from `resource` too
// (end - start + 1), so a region it prints without a size (unassigned) is left out.
import { execaRunner, lspciArgs, type LspciOptions, type Runner } from './lspci';

export interface LspciRegion {
  /** 0-5: the BAR; 6: the expansion ROM. */
  index: number;
  /** Bytes. */
  size: number;
  space: 'mem' | 'io';
  is64: boolean;
  prefetchable: boolean;
}

const DEVICE_LINE = /^([0-9a-f]{4,}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) /;
const REGION_LINE = /^\s+(?:Region (\d+): (Memory|I\/O ports) at|Expansion ROM at) (.*)$/;
const SIZE = /\[size=(\d+)([KMGT]?)\]/;
const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Pure: each device's regions, by address, from `lspci -D -vv` (or -vvv) text. */
export function parseLspciRegions(text: string): Map<string, LspciRegion[]> {
  const regions = new Map<string, LspciRegion[]>();
  let current: LspciRegion[] | undefined;
  for (const line of text.split('\n')) {
    const device = DEVICE_LINE.exec(line);
    if (device) {
      current = [];
      regions.set(device[1]!, current);
      continue;
    }
    const region = current && REGION_LINE.exec(line);
    if (!region) continue;
    const size = SIZE.exec(region[3]!);
    if (!size) continue;
    const rest = region[3]!;
    current!.push({
      index: region[1] === undefined ? 6 : Number(region[1]),
      size: Number(size[1]) * UNITS[size[2]!]!,
      space: region[2] === 'I/O ports' ? 'io' : 'mem',
      is64: rest.includes('(64-bit'),
      prefetchable: /\bprefetchable/.test(rest.replace('non-prefetchable', '')),
    });
  }
  return regions;
}

/** Runs `lspci -D -vv` on this machine or a fixture root (as runLspci does) and parses its regions. */
export async function runLspciRegions(options: LspciOptions = {}, run: Runner = execaRunner): Promise<Map<string, LspciRegion[]>> {
  const args = ['-D', '-vv', ...lspciArgs(options).slice(1)];
  const result = await run('lspci', args);
  if (result.exitCode !== 0) throw new Error(`lspci ${args.join(' ')} exited ${result.exitCode}: ${result.stderr}`);
  return parseLspciRegions(result.stdout);
}
