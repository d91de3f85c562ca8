// printJson writes large arrays in batches; what a script reads must be the bytes of
// JSON.stringify(value, null, 2) (with DEL, C1 and bidi controls as \u escapes), whatever the shape.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, printJson, type Output } from '../src/render/output';

function printed(value: object): { text: string; writes: number } {
  const stdout = new PassThrough();
  let text = '';
  let writes = 0;
  stdout.on('data', (c) => {
    text += c;
    writes++;
  });
  const out: Output = { stdout, stderr: new PassThrough(), color: false, raw: { stdout, stderr: new PassThrough() } };
  printJson(out, value);
  return { text, writes };
}

const reference = (value: object) =>
  `${JSON.stringify({ schemaVersion: SCHEMA_VERSION, ...value }, null, 2).replace(/[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;

const device = (i: number) => ({
  address: `0000:${(i >> 8).toString(16).padStart(2, '0')}:00.${i % 8}`,
  names: i % 3 === 0 ? [] : ['a', `b${i}`],
  nested: { empty: {}, list: [[], [1, { x: null }]], skipped: undefined },
  // Batches of 256: a bidi control with DEL, DEL alone in ASCII text, non-ASCII without a control, a C1 control.
  text: { 7: 'bidi \u202e and DEL \u007f and "quotes"\n', 300: 'only DEL \u007f', 600: 'café ü', 900: 'C1 \u0085' }[i] ?? 'plain',
});

describe('printJson', () => {
  it('a 1,000-member array, written in batches, is JSON.stringify byte for byte', () => {
    const value = { root: '/', devices: Array.from({ length: 1000 }, (_, i) => device(i)), problems: [] };
    const { text, writes } = printed(value);
    expect(text).toBe(reference(value));
    expect(writes).toBeGreaterThan(4);
    for (const i of [7, 300, 600, 900]) expect(JSON.parse(text).devices[i].text).toBe(value.devices[i]!.text);
    expect(text).toContain('only DEL \\u007f');
  });

  it('members JSON leaves out or writes as null, arrays of exactly one batch and one more, scalars', () => {
    const fn = () => 1;
    const value = {
      gone: undefined,
      alsoGone: fn,
      holes: Array.from({ length: 257 }, (_, i) => (i % 2 === 0 ? undefined : i % 5 === 0 ? fn : { i })),
      exact: Array.from({ length: 256 }, (_, i) => i),
      big: Array.from({ length: 513 }, (_, i) => `s${i}`),
      n: 0,
      b: false,
      s: '',
      nul: null,
      empty: [],
      date: new Date(0),
    };
    expect(printed(value).text).toBe(reference(value));
  });

  it('an object with nothing but the schema version', () => {
    expect(printed({}).text).toBe(reference({}));
  });
});
