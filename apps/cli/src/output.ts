import type { Writable } from 'node:stream';

/** Version of every JSON document the CLI prints; bump on a breaking change of any of them. */
export const SCHEMA_VERSION = 1;

export interface Output {
  stdout: Writable;
  stderr: Writable;
  color: boolean;
}

/** Colour only on a TTY, never with NO_COLOR or --no-color (https://no-color.org). */
export function wantsColor(stream: Writable, flag: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (flag === false || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) return false;
  return Boolean((stream as Writable & { isTTY?: boolean }).isTTY);
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1 } as const;
export type Colour = keyof typeof CODES;

export function paint(out: Output, colour: Colour, text: string): string {
  return out.color ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text;
}

/** Prints a domain object as the JSON contract: `schemaVersion` first, then the object. */
export function printJson(out: Output, value: object): void {
  out.stdout.write(`${JSON.stringify({ schemaVersion: SCHEMA_VERSION, ...value }, null, 2)}\n`);
}

const ANSI = /\u001b\[[0-9;]*m/g;
const visibleLength = (s: string) => s.replace(ANSI, '').length;

/** A plain aligned table: header row, then rows; cells may carry colour codes. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - visibleLength(c))))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}
