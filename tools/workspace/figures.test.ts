// The README's figures are written by the runs that measure them (tools/readmeBlock.mjs): each
// block names the command that rewrites it, that command exists, and the test count appears
// nowhere else in the README to go stale by hand.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM script of the tools, without type declarations
import { replaceBlock } from '../readmeBlock.mjs';

const repo = path.resolve(__dirname, '../..');
const readme = fs.readFileSync(path.join(repo, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/^<!-- figures: (\S+) \((.+)\) -->$/gm)].map((m) => ({ name: m[1]!, command: m[2]! }));

describe("the README's generated figures", () => {
  it('has the last run and every benchmark table as blocks, each closed', () => {
    expect(blocks.map((b) => b.name)).toEqual(expect.arrayContaining(['last-run', 'bench:scale', 'bench:bind-vfs', 'bench:pci-ids']));
    for (const { name } of blocks) expect(readme.split(`<!-- /figures: ${name} -->`).length, name).toBe(2);
  });

  it('names a command that exists and writes that block', () => {
    for (const { name, command } of blocks) {
      const bench = /^npm run bench -- (\S+) --readme$/.exec(command);
      if (bench) {
        expect(`bench:${bench[1]}`).toBe(name);
        expect(fs.existsSync(path.join(repo, 'tools/bench', `${bench[1]}.ts`)), command).toBe(true);
      } else {
        expect(command).toBe('node tools/test-summary.mjs --readme');
        expect(name).toBe('last-run');
      }
    }
  });

  it('rewrites a block as a whole and nothing else; a missing block is an error', () => {
    const text = 'a\n<!-- figures: x (cmd) -->\nold\nlines\n<!-- /figures: x -->\nb\n';
    expect(replaceBlock(text, 'x', 'new\n')).toBe('a\n<!-- figures: x (cmd) -->\nnew\n<!-- /figures: x -->\nb\n');
    expect(replaceBlock(readme, 'last-run', readme.split('<!-- /figures: last-run -->')[0]!.split(/<!-- figures: last-run .*-->\n/)[1]!)).toBe(readme);
    expect(() => replaceBlock(text, 'y', 'z')).toThrow(/no block/);
  });

  it('states the test count only in the block the run writes', () => {
    const outside = readme.replace(/^<!-- figures: last-run[\s\S]*?<!-- \/figures: last-run -->$/m, '');
    expect(outside).not.toMatch(/\d tests passed/);
  });
});
