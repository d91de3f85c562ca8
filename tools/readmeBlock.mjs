// The README's figures are written by the runs that measure them, never typed: a block
//   <!-- figures: NAME (COMMAND) -->
//   ...
//   <!-- /figures: NAME -->
// is replaced as a whole by COMMAND's output (tools/workspace/figures.test.ts checks that every
// block is well formed and names a command that exists).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const README = fileURLToPath(new URL('../README.md', import.meta.url));

/** The README with block `name`'s body replaced by `body`; throws when the block is missing. */
export function replaceBlock(text, name, body) {
  const open = new RegExp(`^<!-- figures: ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\((.+)\\) -->$`, 'm');
  const m = open.exec(text);
  if (!m) throw new Error(`README.md has no block "<!-- figures: ${name} (COMMAND) -->"`);
  const close = `<!-- /figures: ${name} -->`;
  const end = text.indexOf(close, m.index);
  if (end < 0) throw new Error(`README.md's block "${name}" is not closed by "${close}"`);
  const start = m.index + m[0].length + 1;
  return `${text.slice(0, start)}${body.trimEnd()}\n${text.slice(end)}`;
}

/** Rewrites block `name` of the README in place. */
export function writeBlock(name, body, file = README) {
  writeFileSync(file, replaceBlock(readFileSync(file, 'utf8'), name, body));
  console.log(`README.md: block "${name}" rewritten`);
}
