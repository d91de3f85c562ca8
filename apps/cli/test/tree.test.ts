// `--tree` in the terminal (the topology itself: packages/pci-discovery/test/topology.test.ts).
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, repo } from './runCli';

describe('--tree in the terminal', () => {
  it('list --tree --class keeps the matches and the bridges above them only', async () => {
    const r = await cli('--root', path.join(repo, 'fixtures/hosts/intel-workstation'), 'list', '--tree', '--class', 'gpu');
    expect(r.code).toBe(0);
    const addresses = r.stdout.match(/[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]/g);
    expect(addresses).toEqual(['0000:00:01.0', '0000:01:00.0', '0000:00:02.0']);
  });

  it('marks devices without a group, and groups shared by several devices', async () => {
    const none = await cli('--root', path.join(repo, 'fixtures/hosts/no-group-device'), 'groups', '--tree');
    expect(none.stdout).toMatch(/\[no group\]/);
    expect(none.stdout).toMatch(/^No IOMMU group: /m);
    const shared = await cli('--root', path.join(repo, 'fixtures/hosts/amd-shared-group'), 'groups', '--tree');
    expect(shared.stdout).toMatch(/0000:06:00\.0 \[group 14\*\]/);
    expect(shared.stdout).toMatch(/^ {2}group 14: .*0000:06:00\.0.*0000:07:00\.0/m);
  });
});
