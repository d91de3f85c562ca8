// Snapshots of the table (human) output of every command on one fixture host, names from the
// bundled pci.ids so they do not depend on this machine's database.
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanFixtures, cli, fixtureCopy, repo } from './runCli';

afterEach(cleanFixtures);
const pciIds = path.join(repo, 'fixtures/pci.ids');
const fixture = (name: string) => path.join(repo, 'fixtures/hosts', name);
/** stdout of a run, which must succeed (or end with the expected code). */
async function table(root: string, argv: string[], code = 0): Promise<string> {
  const r = await cli('--root', root, '--pci-ids', pciIds, ...argv);
  expect(r.code, r.stderr).toBe(code);
  expect(r.stdout).not.toMatch(/\u001b\[/);
  return r.stdout;
}

describe('table output on intel-workstation (snapshots)', () => {
  const root = fixture('intel-workstation');
  it('list', async () => expect(await table(root, ['list'])).toMatchSnapshot());
  it('list --tree', async () => expect(await table(root, ['list', '--tree'])).toMatchSnapshot());
  it('groups', async () => expect(await table(root, ['groups'])).toMatchSnapshot());
  it('groups --tree', async () => expect(await table(root, ['groups', '--tree'])).toMatchSnapshot());
  it('doctor', async () => {
    const r = await cli('--root', root, '--pci-ids', pciIds, 'doctor');
    expect([0, 1]).toContain(r.code);
    expect(r.stdout).toMatchSnapshot();
  });
  it('bind --dry-run (an isolated GPU group, and the boot VGA a guard refuses)', async () => {
    expect(await table(root, ['bind', '01:00.0', '--dry-run'])).toMatchSnapshot();
    const refused = await cli('--root', root, '--pci-ids', pciIds, 'bind', '00:02.0', '--dry-run');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused: 0000:00:02.0 \[boot-vga\]/);
    expect(refused.stdout).toMatchSnapshot();
  });
  it('restore --dry-run (nothing journalled, then after a bind)', async () => {
    const copy = fixtureCopy('intel-workstation');
    expect(await table(copy, ['restore', '--all', '--dry-run'])).toMatchSnapshot();
    await table(copy, ['bind', '01:00.0']);
    expect(await table(copy, ['restore', '--all', '--dry-run'])).toMatchSnapshot();
    expect(await table(copy, ['groups', '--tree'])).toMatchSnapshot('groups --tree after the bind');
  });
  it('report --html (its summary line)', async () => {
    const copy = fixtureCopy('intel-workstation');
    const out = (await table(root, ['report', '--html', path.join(copy, 'r.html')])).replace(copy, '<tmp>').replace(/\(\d+ KiB\)/, '(N KiB)');
    expect(out).toMatchSnapshot();
  });
});

describe('tree output of the other topologies (snapshots)', () => {
  it('sriov-server: VFs under their PF, several host bridges', async () => {
    expect(await table(fixture('sriov-server'), ['groups', '--tree'])).toMatchSnapshot();
    expect(await table(fixture('sriov-server'), ['list', '--tree', '--class', 'gpu'])).toMatchSnapshot();
  });
  it('vmd-gaps: a VMD domain under its controller', async () => expect(await table(fixture('vmd-gaps'), ['groups', '--tree'])).toMatchSnapshot());
  it('amd-shared-group: a group several devices share is starred and listed', async () =>
    expect(await table(fixture('amd-shared-group'), ['groups', '--tree'])).toMatchSnapshot());
  it('intel-iommu-off: no groups', async () => expect(await table(fixture('intel-iommu-off'), ['groups', '--tree'])).toMatchSnapshot());
});
