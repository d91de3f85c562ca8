// `npm run bench`: every benchmark under tools/bench, each printing its figures as JSON.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv[2];
for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && (!only || f.startsWith(only)))) {
  console.log(`# ${file}`);
  execFileSync(process.execPath, ['--import', 'tsx', `${dir}${file}`, ...process.argv.slice(3)], { stdio: 'inherit' });
}
