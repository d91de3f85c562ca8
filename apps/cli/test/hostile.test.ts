// Bad and hostile input: exit 2, one clear line on stderr, no stack trace, and not one byte
// written to the fixture tree (sidecar included).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanFixtures, cli, fixtureCopy, treeSnapshot } from './runCli';

afterEach(cleanFixtures);

/** Runs argv (ROOT stands for the fixture copy) and checks exit 2, a short message and an unchanged tree. */
async function refusedUnchanged(argv: string[], message: RegExp, arrange: (root: string) => void = () => {}) {
  const root = fixtureCopy('intel-workstation');
  arrange(root);
  const before = treeSnapshot(root);
  const r = await cli(...argv.map((a) => a.replaceAll('ROOT', root)));
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr.length).toBeLessThan(2000);
  expect(treeSnapshot(root)).toEqual(before);
  return r;
}

describe('persist', () => {
  it('a GRUB defaults file it cannot parse exits 2 (bad input), names the line, and writes nothing', async () => {
    const r = await refusedUnchanged(['--root', 'ROOT', 'persist', '01:00.0'], /Failed parsing GRUB defaults via \/etc\/default\/grub:2: unterminated double quote/, (root) =>
      fs.writeFileSync(path.join(root, 'etc/default/grub'), 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet splash\n'),
    );
    expect(r.stdout).toBe('');
  });
});
