// Writes docs/schemas/<output>.schema.json: the JSON Schema (draft 2020-12) of every JSON output
// of the CLI, generated from the zod schemas listed in apps/cli/src/commands/outputs.ts. `--check` writes nothing
// and exits 1 when a committed file differs (apps/cli/test/report.schemas.test.ts asserts the same).
// Usage: npx tsx tools/gen-schemas.ts [--check]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OUTPUT_SCHEMAS, jsonSchemaOf } from '../apps/cli/src/commands/outputs';

export const SCHEMA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs/schemas');

/** File name -> text, exactly as committed. */
export function generatedSchemas(): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of Object.keys(OUTPUT_SCHEMAS) as Array<keyof typeof OUTPUT_SCHEMAS>) {
    files.set(`${name}.schema.json`, `${JSON.stringify(jsonSchemaOf(name), null, 2)}\n`);
  }
  return files;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const files = generatedSchemas();
  let stale = 0;
  fs.mkdirSync(SCHEMA_DIR, { recursive: true });
  for (const [name, text] of files) {
    const file = path.join(SCHEMA_DIR, name);
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
    if (current === text) continue;
    stale++;
    if (check) console.error(`stale: docs/schemas/${name} (run npx tsx tools/gen-schemas.ts)`);
    else fs.writeFileSync(file, text);
  }
  for (const extra of fs.readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.schema.json') && !files.has(f))) {
    stale++;
    if (check) console.error(`not generated: docs/schemas/${extra}`);
    else fs.rmSync(path.join(SCHEMA_DIR, extra));
  }
  if (check && stale) process.exit(1);
  console.log(check ? `docs/schemas: ${files.size} files up to date` : `docs/schemas: ${files.size} files, ${stale} written`);
}
