// The JSON Schemas under docs/schemas: generated from the zod schemas (committed copies must
// equal a fresh generation), and real CLI output validated against the committed files.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { generatedSchemas, SCHEMA_DIR } from '../../../tools/gen-schemas';
import { cleanFixtures, cli, fixtureCopy, repo } from './runCli';

afterEach(cleanFixtures);
const host = (name: string) => path.join(repo, 'fixtures/hosts', name);
const committed = (name: string) => JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, `${name}.schema.json`), 'utf8'));
/** A validator built from the committed JSON Schema file (not from the zod source). */
const validator = (name: string) => z.fromJSONSchema(committed(name));

async function jsonOf(...argv: string[]): Promise<unknown> {
  const r = await cli(...argv);
  expect(r.stdout.length, r.stderr).toBeGreaterThan(0);
  return JSON.parse(r.stdout);
}
function expectValid(name: string, doc: unknown): void {
  const result = validator(name).safeParse(doc);
  expect(result.success, result.success ? '' : `${name}: ${JSON.stringify(result.error.issues.slice(0, 3), null, 1)}`).toBe(true);
}

describe('docs/schemas', () => {
  it('the committed files equal freshly generated ones (npx tsx tools/gen-schemas.ts)', () => {
    const fresh = generatedSchemas();
    const files = fs
      .readdirSync(SCHEMA_DIR)
      .filter((f) => f.endsWith('.schema.json'))
      .sort();
    expect(files).toEqual([...fresh.keys()].sort());
    for (const [name, text] of fresh) expect(fs.readFileSync(path.join(SCHEMA_DIR, name), 'utf8'), name).toBe(text);
  });

  it('every schema is draft 2020-12, closed (no undocumented keys), and requires schemaVersion', () => {
    for (const name of generatedSchemas().keys()) {
      const schema = JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, name), 'utf8'));
      expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      const variants = schema.anyOf ?? [schema];
      for (const v of variants) {
        expect(v.additionalProperties, name).toBe(false);
        expect(v.required, name).toContain('schemaVersion');
      }
    }
  });

  it('list, groups, doctor and report output of every fixture host validates', async () => {
    for (const name of fs.readdirSync(path.join(repo, 'fixtures/hosts'))) {
      const root = host(name);
      expectValid('list', await jsonOf('--root', root, 'list', '--format', 'json'));
      expectValid('groups', await jsonOf('--root', root, 'groups', '--format', 'json'));
      expectValid('doctor', await jsonOf('--root', root, 'doctor', '--format', 'json'));
      expectValid('report', await jsonOf('--root', root, 'report', '--format', 'json'));
    }
  });

  it('bind, restore, persist (plans and results) and snapshot output validates', async () => {
    const root = fixtureCopy('intel-workstation');
    const plan = await jsonOf('--root', root, 'bind', '01:00.0', '--dry-run', '--format', 'json');
    expect(plan).toMatchObject({ dryRun: true });
    expectValid('bind', plan);
    expectValid('bind', await jsonOf('--root', root, 'bind', '00:02.0', '--dry-run', '--format', 'json')); // with a guard
    const bound = await jsonOf('--root', root, 'bind', '01:00.0', '--format', 'json');
    expect(bound).toMatchObject({ result: { status: 'applied' } });
    expectValid('bind', bound);
    expectValid('restore', await jsonOf('--root', root, 'restore', '--all', '--dry-run', '--format', 'json'));
    const restored = await jsonOf('--root', root, 'restore', '--all', '--format', 'json');
    expect(restored).toMatchObject({ result: { status: 'restored' } });
    expectValid('restore', restored);
    expectValid('persist', await jsonOf('--root', root, 'persist', '01:00.0', '--dry-run', '--format', 'json'));
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'snap-schema-')), 'host');
    expectValid('snapshot', await jsonOf('--root', host('sriov-server'), '--format', 'json', 'snapshot', out));
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  });

  it('the validators reject what the contract does not allow', async () => {
    const doc = (await jsonOf('--root', host('intel-workstation'), 'list', '--format', 'json')) as { devices: Array<Record<string, unknown>> };
    expect(validator('list').safeParse({ ...doc, extra: 1 }).success).toBe(false);
    expect(validator('list').safeParse({ ...doc, schemaVersion: 2 }).success).toBe(false);
    doc.devices[0]!.iommuGroup = '12';
    expect(validator('list').safeParse(doc).success).toBe(false);
  });
});
