// Issue 18 at the CLI: restore mirrors bind (the IOMMU group is the unit, --split-group to leave
// part of it), and devices another manager holds are shown with their owner, left alone by
// restore --all, refused by bind without --adopt, and given back as they were after --adopt.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { SimulatedKernel } from '@passthru/sysfs-sim';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanFixtures, cli, driverOf, fixtureCopy, kernelWrites } from './runCli';

afterEach(cleanFixtures);
const GPU = ['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.3'];
const ORIGINAL = ['nvidia', 'snd_hda_intel', 'xhci_hcd', 'nvidia-gpu'];

/** Every file and link of a tree but passthru's and the simulator's bookkeeping. */
function tree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const child = rel ? `${rel}/${name}` : name;
      if (['.sysfs-sim', 'var', 'run'].includes(child)) continue;
      const st = fs.lstatSync(path.join(root, child));
      if (st.isSymbolicLink()) out.set(child, `-> ${fs.readlinkSync(path.join(root, child))}`);
      else if (st.isDirectory()) walk(child);
      else out.set(child, fs.readFileSync(path.join(root, child), 'latin1'));
    }
  };
  walk('');
  return out;
}
const changed = (a: Map<string, string>, b: Map<string, string>) => [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));

/** A foreign manager's bind through the simulated kernel (not logged): driver_override vfio-pci, unbind, probe. */
function foreignVfio(root: string, address: string, from: string) {
  const host = new HostFs(root, { kernel: new SimulatedKernel(root, { logWrites: false }) });
  host.writeAttribute(`/sys/bus/pci/devices/${address}/driver_override`, 'vfio-pci');
  host.writeAttribute(`/sys/bus/pci/drivers/${from}/unbind`, address);
  host.writeAttribute('/sys/bus/pci/drivers_probe', address);
}

describe('passthru restore: the group is the unit', () => {
  it('restore of ONE function gives back the whole group (dry-run shows it), tree as before the bind; a second restore writes nothing', async () => {
    const root = fixtureCopy('intel-workstation');
    const before = tree(root);
    expect((await cli('--root', root, 'bind', '01:00.0')).code).toBe(0);
    const dry = await cli('--root', root, 'restore', '01:00.2', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('0000:01:00.0: vfio-pci -> nvidia, clear driver_override (bound with it: IOMMU group 12)');
    expect(dry.stdout).toContain('0000:01:00.2: vfio-pci -> xhci_hcd, clear driver_override\n');
    const writes = kernelWrites(root).length;
    const r = await cli('--root', root, 'restore', '01:00.2');
    expect(r.code).toBe(0);
    expect(GPU.map((a) => driverOf(root, a))).toEqual(ORIGINAL);
    expect(changed(before, tree(root))).toEqual([]);
    expect(kernelWrites(root).length).toBeGreaterThan(writes);
    const after = kernelWrites(root).length;
    const again = await cli('--root', root, 'restore', '01:00.2', '--format', 'json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).result).toMatchObject({ status: 'noop', writes: 0 });
    expect(kernelWrites(root).length).toBe(after);
  });

  it('--split-group restores only that device and names what it leaves on vfio-pci', async () => {
    const root = fixtureCopy('intel-workstation');
    await cli('--root', root, 'bind', '01:00.0');
    const r = await cli('--root', root, 'restore', '01:00.1', '--split-group');
    expect(r.code).toBe(0);
    expect(GPU.map((a) => driverOf(root, a))).toEqual(['vfio-pci', 'snd_hda_intel', 'vfio-pci', 'vfio-pci']);
    expect(r.stdout).toMatch(
      /Left on vfio-pci \(the group is split\): 0000:01:00\.0 \(IOMMU group 12, bound by passthru, not named \(--split-group\)\), 0000:01:00\.2 .*0000:01:00\.3/,
    );
    const json = JSON.parse((await cli('--root', root, 'restore', 'group:12', '--dry-run', '--format', 'json')).stdout);
    expect(json.plan.devices.map((d: { record: { address: string } }) => d.record.address)).toEqual(['0000:01:00.0', '0000:01:00.2', '0000:01:00.3']);
    expect((await cli('--root', root, 'restore', '--all', '--split-group')).code).toBe(2);
    const help = await cli('restore', '--help');
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('--split-group restore only the named devices and leave the rest of their IOMMU group on vfio-pci');
  });

  it('a restore that would leave part of a group on vfio-pci: exit 2, nothing written, names the group and the others; --split-group does it', async () => {
    const root = fixtureCopy('intel-workstation');
    await cli('--root', root, 'bind', '01:00.0');
    // A journal of an older passthru: 01:00.3 was already on vfio-pci (another manager's) and not journaled.
    const journal = path.join(root, 'var/lib/passthru/journal.jsonl');
    const lines = fs
      .readFileSync(journal, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    lines[0].entry.devices = lines[0].entry.devices.filter((d: { address: string }) => d.address !== '0000:01:00.3');
    fs.writeFileSync(
      journal,
      lines
        .filter((l) => l.address !== '0000:01:00.3')
        .map((l) => `${JSON.stringify(l)}\n`)
        .join(''),
    );
    const writes = kernelWrites(root).length;
    const refused = await cli('--root', root, 'restore', '01:00.0');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /would split IOMMU group 12: 0000:01:00\.3 \(held by a driver_override passthru did not write \(vfio-pci\): passthru never restores it\)/,
    );
    expect(refused.stderr).toContain('--split-group');
    expect(kernelWrites(root).length).toBe(writes);
    const split = await cli('--root', root, 'restore', '01:00.0', '--split-group');
    expect(split.code).toBe(0);
    expect(GPU.map((a) => driverOf(root, a))).toEqual(['nvidia', 'vfio-pci', 'vfio-pci', 'vfio-pci']);
    expect(split.stdout).toMatch(/Left on vfio-pci \(the group is split\): 0000:01:00\.1 .*0000:01:00\.3 \(IOMMU group 12, held by a driver_override/);
  });
});

describe('devices another manager holds', () => {
  it('foreign driver_override: owner in list/groups (table and JSON), left alone by restore --all, refused by bind, adopted with --adopt and given back', async () => {
    const root = fixtureCopy('intel-workstation');
    foreignVfio(root, '0000:01:00.0', 'nvidia');
    const before = tree(root);

    const list = JSON.parse((await cli('--root', root, 'list', '--format', 'json')).stdout);
    expect(list.devices.find((d: { address: string }) => d.address === '0000:01:00.0').owner).toMatchObject({ kind: 'driver_override' });
    expect(list.devices.find((d: { address: string }) => d.address === '0000:01:00.1').owner).toBeNull();
    const table = (await cli('--root', root, 'list')).stdout;
    expect(table).toMatch(/^ADDRESS .* OWNER\s*$/m);
    expect(table).toMatch(/0000:01:00\.0 .*vfio-pci .* driver_override\s*$/m);
    expect(table).toContain('0000:01:00.0: held by a driver_override passthru did not write (vfio-pci)');
    const groups = JSON.parse((await cli('--root', root, 'groups', '--format', 'json')).stdout);
    expect(groups.groups.find((g: { id: number }) => g.id === 12).owners).toEqual({ '0000:01:00.0': expect.objectContaining({ kind: 'driver_override' }) });
    expect((await cli('--root', root, 'groups')).stdout).toMatch(/0000:01:00\.0 .*vfio-pci +driver_override\s*$/m);
    const report = JSON.parse((await cli('--root', root, 'report', '--format', 'json')).stdout);
    expect(report.devices.find((d: { address: string }) => d.address === '0000:01:00.0').owner).toMatchObject({ kind: 'driver_override' });

    const all = await cli('--root', root, 'restore', '--all');
    expect(all.code).toBe(0);
    expect(all.stdout).toContain(
      'Left alone (another manager holds them; passthru never restores them): 0000:01:00.0 (a driver_override passthru did not write (vfio-pci))',
    );

    const named = await cli('--root', root, 'restore', '01:00.0');
    expect(named.code).toBe(2);
    expect(named.stderr).toContain(
      "0000:01:00.0 is held by a driver_override passthru did not write (vfio-pci); passthru never restores another manager's device",
    );

    const refused = await cli('--root', root, 'bind', '01:00.0');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused: 0000:01:00\.0 \[owner: driver_override\]/);
    expect(refused.stderr).toContain('--adopt');
    expect(kernelWrites(root)).toEqual([]);

    const adopted = await cli('--root', root, 'bind', '01:00.0', '--adopt');
    expect(adopted.code).toBe(0);
    expect(adopted.stdout).toMatch(/Bound 3 device\(s\) to vfio-pci with \d+ writes; adopted 1 \(0000:01:00\.0\)/);
    const journal = fs.readFileSync(path.join(root, 'var/lib/passthru/journal.jsonl'), 'utf8');
    expect(JSON.parse(journal.split('\n')[0]!).entry.devices[0]).toMatchObject({
      address: '0000:01:00.0',
      owner: 'adopted',
      originalDriver: 'vfio-pci',
      originalOverride: 'vfio-pci',
    });
    expect((await cli('--root', root, 'list')).stdout).toMatch(/0000:01:00\.0 .* passthru \(adopted\)\s*$/m);

    const back = await cli('--root', root, 'restore', '01:00.0');
    expect(back.code).toBe(0);
    expect(GPU.map((a) => driverOf(root, a))).toEqual(['vfio-pci', 'snd_hda_intel', 'xhci_hcd', 'nvidia-gpu']);
    expect(changed(before, tree(root))).toEqual([]);
  });

  it('driverctl override: shown with its owner, refused without --adopt, adopted and restored', async () => {
    const root = fixtureCopy('intel-workstation');
    foreignVfio(root, '0000:01:00.1', 'snd_hda_intel');
    fs.mkdirSync(path.join(root, 'etc/driverctl.d'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc/driverctl.d/pci-0000:01:00.1'), 'vfio-pci\n');
    const before = tree(root);
    expect((await cli('--root', root, 'groups')).stdout).toMatch(/0000:01:00\.1 .*vfio-pci +driverctl\s*$/m);
    const refused = await cli('--root', root, 'bind', '10de:2684', '--dry-run');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('owner: driverctl (override vfio-pci in /etc/driverctl.d/pci-0000:01:00.1) (changed only with --adopt');
    expect(refused.stderr).toContain('evidence: /etc/driverctl.d/pci-0000:01:00.1 = vfio-pci');
    expect((await cli('--root', root, 'bind', '10de:2684')).code).toBe(1);
    expect(kernelWrites(root)).toEqual([]);
    expect((await cli('--root', root, 'bind', '10de:2684', '--adopt')).code).toBe(0);
    expect((await cli('--root', root, 'restore', '--all')).code).toBe(0);
    expect(changed(before, tree(root))).toEqual([]);
  });

  it('an override of 5,000 characters: bind refuses it up front with the reason; with --adopt restore says what it could not put back and exits 0', async () => {
    const root = fixtureCopy('intel-workstation');
    const dev = fs.realpathSync(path.join(root, 'sys/bus/pci/devices/0000:01:00.0'));
    fs.writeFileSync(path.join(dev, 'driver_override'), `${'n'.repeat(5000)}\n`);
    const refused = await cli('--root', root, 'bind', '01:00.0');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /restore could not put back its state: driver_override held 5000 bytes; the kernel refuses overrides of PAGE_SIZE-1 \(4095\) bytes or more \(EINVAL\)/,
    );
    expect(kernelWrites(root)).toEqual([]);
    expect((await cli('--root', root, 'bind', '01:00.0', '--adopt')).code).toBe(0);
    const back = await cli('--root', root, 'restore', '01:00.0');
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/0000:01:00\.0 .*restored .*could not put back: driver_override held 5000 bytes/);
    expect(GPU.map((a) => driverOf(root, a))).toEqual(ORIGINAL);
    expect((await cli('--root', root, 'restore', '--all')).code).toBe(0);
  });
});
