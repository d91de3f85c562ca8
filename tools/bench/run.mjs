// `npm run bench [-- NAME [--readme] [ARGS...]]`: every benchmark under tools/bench (or those
// whose file name starts with NAME), each printing its figures as JSON or a Markdown table.
// With --readme, the Markdown table a benchmark prints replaces the README's block
// "bench:<file name>" (tools/readmeBlock.mjs): the README's performance tables are written by
// the runs that measured them.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeBlock } from '../readmeBlock.mjs';

const dir = fileURLToPath(new URL('.', import.meta.url));
const [only, ...rest] = process.argv.slice(2);
const readme = rest.includes('--readme');
const args = rest.filter((a) => a !== '--readme');
for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && (!only || f.startsWith(only)))) {
  console.log(`# ${file}`);
  const run = [process.execPath, ['--import', 'tsx', `${dir}${file}`, ...args]];
  if (!readme) {
    execFileSync(...run, { stdio: 'inherit' });
    continue;
  }
  const out = execFileSync(...run, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(out);
  const table = out.split('\n').filter((line) => line.startsWith('|'));
  if (table.length < 3) throw new Error(`${file} printed no Markdown table to put in the README`);
  writeBlock(`bench:${file.replace(/\.ts$/, '')}`, table.join('\n'));
}
