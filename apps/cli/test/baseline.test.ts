import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BaselineDiffOutputSchema, BaselineSaveOutputSchema } from '../src/commands/outputs';
import { cli, repo } from './runCli';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-baseline-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const host = (name: string) => path.join(repo, 'fixtures/hosts', name);

describe('passthru baseline', () => {
  it('save, then diff after the upgrade: each change named, exit 1; the same host: exit 0', async () => {
    const file = path.join(work, 'before.json');
    const saved = await cli('--root', host('upgrade-before'), 'baseline', 'save', file, '--format', 'json');
    expect(saved.code).toBe(0);
    expect(BaselineSaveOutputSchema.parse(JSON.parse(saved.stdout))).toMatchObject({ devices: 12, groups: 9 });
    const after = await cli('--root', host('upgrade-after'), 'baseline', 'diff', file);
    expect(after.code).toBe(1);
    expect(after.stdout).toMatch(/BREAKS\s+device-renumbered\s+0000:01:00\.0 \(1002:731f, vfio-pci\) is now at 0000:0a:00\.0/);
    expect(after.stdout).toMatch(/BREAKS\s+group-members-changed 0000:04:00\.0 \(8086:1563, ixgbe\): IOMMU group 5 -> 4, now shared with 0000:05:00\.0/);
    expect(after.stdout).toContain('9 change(s) since the baseline, 6 breaking passthrough.');
    const json = await cli('--root', host('upgrade-after'), 'baseline', 'diff', file, '--format', 'json');
    expect(BaselineDiffOutputSchema.parse(JSON.parse(json.stdout)).breaking).toBe(true);
    const same = await cli('--root', host('upgrade-before'), 'baseline', 'diff', file);
    expect(same.code).toBe(0);
    expect(same.stdout).toBe('No change since the baseline.\n');
  });

  it('a file that is not a baseline: exit 2', async () => {
    const file = path.join(work, 'bad.json');
    fs.writeFileSync(file, '[]');
    const r = await cli('--root', host('upgrade-before'), 'baseline', 'diff', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a passthru baseline/);
    expect((await cli('--root', host('upgrade-before'), 'baseline', 'diff', path.join(work, 'none.json'))).code).toBe(2);
  });
});
