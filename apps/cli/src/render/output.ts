import type { Writable } from 'node:stream';

/** Version of every JSON document the CLI prints; bump on a breaking change of any of them. */
export const SCHEMA_VERSION = 1;

export interface Output {
  /** Text for people (tables, plans, notes): every write passes through printable(). */
  stdout: Writable;
  stderr: Writable;
  color: boolean;
  /** The unfiltered streams, for documents (JSON, HTML) and the progress line. */
  raw: { stdout: Writable; stderr: Writable };
}

/** The escape sequences passthru itself writes to a terminal: paint's colours and reset. */
const OWN_SGR = /^\u001b\[(?:0|1|3[1-6]|90)m/;
/**
 * Control characters a terminal acts on: C0 but tab and newline, DEL, C1 (8-bit CSI, OSC...),
 * and the bidirectional overrides and isolates that reorder what is shown.
 */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/**
 * Text safe to show on a terminal: every control character of the data (a driver folder or a
 * pci.ids name may carry escapes) is dropped; with `ownColours` (the output is in colour) the
 * colour sequences paint() writes (`ESC[31m`..`ESC[36m`, `ESC[90m`, `ESC[1m`, `ESC[0m`) are
 * kept, and without it every escape goes, so data shaped like them cannot colour a --no-color
 * output either. What followed a dropped ESC stays visible as text. Tabs and newlines stay.
 * JSON does not pass here (printJson escapes instead).
 */
export function printable(text: string, ownColours = false): string {
  if (!CONTROL.test(text)) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\u001b') {
      const own = ownColours ? OWN_SGR.exec(text.slice(i, i + 5)) : null;
      if (own) {
        out += own[0];
        i += own[0].length - 1;
      }
      continue;
    }
    if (!CONTROL.test(c)) out += c;
  }
  return out;
}

/** A stream whose string writes pass through printable() (keeping paint's colours when `ownColours`); everything else is the stream's own. */
export function printableStream<S extends NodeJS.WritableStream>(stream: S, ownColours: boolean): S {
  return new Proxy(stream, {
    get(target, prop) {
      if (prop === 'write')
        return (chunk: unknown, ...rest: never[]) => target.write(typeof chunk === 'string' ? printable(chunk, ownColours) : (chunk as Uint8Array), ...rest);
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A progress line that rewrites itself on a terminal: `\r`, the text (printable), erase to the end. */
export function progressLine(out: Output, text: string): void {
  out.raw.stderr.write(`\r${printable(text, out.color)}\u001b[K`);
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

/** JSON.stringify leaves DEL, C1 and the bidi controls raw; as `\u` escapes the value is the same. */
const JSON_RAW_CONTROL = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const HAS_RAW_CONTROL = new RegExp(JSON_RAW_CONTROL.source);

/** JSON text with the raw controls escaped (a search first: a replace copies megabytes even when nothing matches). */
const escapeControls = (text: string) =>
  HAS_RAW_CONTROL.test(text) ? text.replace(JSON_RAW_CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : text;

/** Array members written per write(2): large enough to be few writes, small enough to stay small. */
const ARRAY_BATCH = 256;
const BATCH_HEAD = '{\n  "k": [';
const BATCH_TAIL = '\n  ]\n}';

/**
 * Prints a domain object as the JSON contract: `schemaVersion` first, then the object. The data
 * stays exact: control characters are JSON escapes (never raw bytes a terminal would act on).
 * The bytes are JSON.stringify(value, null, 2)'s, written as they are made: a top-level array
 * (8,000 devices) goes out in batches instead of one string of many megabytes.
 */
export function printJson(out: Output, value: object): void {
  const write = (text: string) => {
    // One UTF-8 encoding serves the search and the write: text of one byte a character is ASCII,
    // where DEL is the only raw control, and a native search finds it.
    const bytes = Buffer.from(text, 'utf8');
    out.raw.stdout.write(bytes.length === text.length && !bytes.includes(0x7f) ? bytes : escapeControls(text));
  };
  // JSON.stringify leaves out members it cannot write: undefined, functions, symbols.
  const entries = Object.entries({ schemaVersion: SCHEMA_VERSION, ...value }).filter(
    ([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol',
  );
  write('{');
  for (const [i, [key, v]] of entries.entries()) {
    write(`${i === 0 ? '' : ','}\n  ${JSON.stringify(key)}: `);
    if (!Array.isArray(v) || v.length <= ARRAY_BATCH) {
      write(indent(JSON.stringify(v, null, 2), '  '));
      continue;
    }
    write('[');
    for (let at = 0; at < v.length; at += ARRAY_BATCH) {
      // One stringify per batch, inside a one-key object so its members come out at the
      // document's depth ('{\n  "k": [\n    {...},\n    {...}\n  ]\n}'): only the wrapper is cut off.
      const batch = JSON.stringify({ k: v.slice(at, at + ARRAY_BATCH) }, null, 2);
      // The comma goes alone: prepended, it would make the batch a new string of its megabyte.
      if (at > 0) write(',');
      write(batch.slice(BATCH_HEAD.length, -BATCH_TAIL.length));
    }
    write('\n  ]');
  }
  write('\n}\n');
}

/** A JSON.stringify(x, null, 2) text placed at an indentation (its strings hold no raw newline). */
const indent = (text: string, by: string) => text.replaceAll('\n', `\n${by}`);

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
