import { readdirSync, readFileSync } from 'node:fs';
import { PciDiscoveryError } from '@passthru/pci-discovery';
import { describe, it, expect } from 'vitest';
import { lspciArgs, runLspci, type Runner } from '../src/lspci';

const ONE =
  'Slot:\t0000:00:03.0\nClass:\tEthernet controller [0200]\nVendor:\tRed Hat, Inc. [1af4]\nDevice:\tVirtio 1.0 network device [1041]\nDriver:\tvirtio-pci\n';

/** A fake Runner that records its calls and answers with a fixed result. */
function fake(result: { stdout?: string; stderr?: string; exitCode?: number }) {
  const calls: Array<{ file: string; args: string[] }> = [];
  const run: Runner = async (file, args) => {
    calls.push({ file, args });
    return { stdout: result.stdout ?? '', stderr: result.stderr ?? '', exitCode: result.exitCode ?? 0 };
  };
  return { run, calls };
}

async function failure(promise: Promise<unknown>): Promise<PciDiscoveryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PciDiscoveryError);
  return error as PciDiscoveryError;
}

describe('runLspci with an injected runner', () => {
  it('builds the command line for the live host and for a fixture root', async () => {
    const live = fake({ stdout: ONE });
    const records = await runLspci({}, live.run);
    expect(live.calls).toEqual([{ file: 'lspci', args: ['-Dvmmnnk', '-O', 'hwdb.disable=1'] }]);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ address: '0000:00:03.0', vendorId: '1af4', driver: 'virtio-pci' });

    const fixture = fake({ stdout: '' });
    await runLspci({ sysfsRoot: '/fx/host1', pciIds: '/opt/pci.ids' }, fixture.run, () => true);
    expect(fixture.calls[0]!.args).toEqual([
      '-Dvmmnnk',
      '-A',
      'linux-sysfs',
      '-O',
      'sysfs.path=/fx/host1/sys/bus/pci',
      '-O',
      'hwdb.disable=1',
      '-i',
      '/opt/pci.ids',
    ]);
    expect(lspciArgs({ sysfsRoot: 'rel/dir/' })).toContain('sysfs.path=rel/dir/sys/bus/pci');
  });

  it('tolerates non-pcilib warnings on stderr', async () => {
    const { run } = fake({ stdout: ONE, stderr: 'lspci: Unable to load libkmod resources: error -2\n' });
    await expect(runLspci({}, run)).resolves.toHaveLength(1);
  });

  it('fails on a pcilib: stderr line even with exit code 0, naming the command and stderr', async () => {
    const { run } = fake({ stdout: ONE, stderr: 'pcilib: Cannot open /fx/sys/bus/pci/devices/0000:00:03.0/config\n' });
    const error = await failure(runLspci({ sysfsRoot: '/fx' }, run));
    expect(error.message).toBe(
      'Failed listing PCI devices via lspci -Dvmmnnk -A linux-sysfs -O sysfs.path=/fx/sys/bus/pci -O hwdb.disable=1: exit code 0; stderr: pcilib: Cannot open /fx/sys/bus/pci/devices/0000:00:03.0/config',
    );
  });

  it('fails on a non-zero exit', async () => {
    const { run } = fake({ stderr: 'lspci: Cannot open /nonexistent/sys/bus/pci/devices', exitCode: 1 });
    const error = await failure(runLspci({ sysfsRoot: '/nonexistent' }, run));
    expect(error.message).toMatch(/^Failed listing PCI devices via lspci -Dvmmnnk .*: exit code 1; stderr: lspci: Cannot open \/nonexistent/);
  });

  it('says how to install lspci when it is missing (ENOENT), keeping the cause', async () => {
    const enoent = Object.assign(new Error('spawn lspci ENOENT'), { code: 'ENOENT' });
    const run: Runner = async () => {
      throw enoent;
    };
    const error = await failure(runLspci({}, run));
    expect(error.message).toContain('apt-get install -y pciutils');
    expect(error.cause).toBe(enoent);
  });

  it('wraps other spawn failures with their cause', async () => {
    const eacces = Object.assign(new Error('spawn lspci EACCES'), { code: 'EACCES' });
    const error = await failure(runLspci({}, async () => Promise.reject(eacces)));
    expect(error.message).toBe('Failed listing PCI devices via lspci -Dvmmnnk -O hwdb.disable=1: spawn lspci EACCES');
    expect(error.cause).toBe(eacces);
  });

  it('refuses a missing pci.ids file instead of letting lspci print unnamed ids', async () => {
    const { run, calls } = fake({ stdout: ONE });
    const error = await failure(runLspci({ pciIds: '/nope/pci.ids' }, run, () => false));
    expect(error.message).toContain('the pci.ids file /nope/pci.ids does not exist');
    expect(calls).toEqual([]);
  });

  it('reports unparsable output via the command', async () => {
    const { run } = fake({ stdout: 'Class:\tHost bridge [0600]\n' });
    const error = await failure(runLspci({}, run));
    expect(error.message).toBe('Failed parsing lspci -vmm record 1 (line 1) via lspci -Dvmmnnk -O hwdb.disable=1: no Slot field');
  });
});

describe('runLspci against the real lspci of this machine', () => {
  const devicesDir = '/sys/bus/pci/devices';
  const sysDevices = readdirSync(devicesDir).sort();

  it('returns one record per /sys/bus/pci/devices entry with the same vendor and device ids', async () => {
    const records = await runLspci({ pciIds: '/usr/share/misc/pci.ids' });
    expect(records.map((r) => r.address).sort()).toEqual(sysDevices);
    for (const record of records) {
      const sysfs = (attr: string) => readFileSync(`${devicesDir}/${record.address}/${attr}`, 'utf8').trim().replace(/^0x/, '');
      expect(record.vendorId).toBe(sysfs('vendor'));
      expect(record.deviceId).toBe(sysfs('device'));
      expect(record.classCode).toBe(sysfs('class'));
    }
    expect(records.some((r) => r.vendorName === 'Red Hat, Inc.')).toBe(true);
  });

  it('reads the live tree through the fixture path option too (sysfsRoot = /)', async () => {
    const records = await runLspci({ sysfsRoot: '/' });
    expect(records.map((r) => r.address).sort()).toEqual(sysDevices);
  });

  it('fails on a fixture root without a sysfs tree', async () => {
    const error = await failure(runLspci({ sysfsRoot: '/nonexistent-fixture' }));
    expect(error.message).toMatch(/exit code 1; stderr: .*Cannot open \/nonexistent-fixture\/sys\/bus\/pci\/devices/);
  });

  it('says how to install lspci when the program is absent (real execa ENOENT)', async () => {
    const { execaRunner } = await import('../src/lspci');
    const missing: Runner = (_file, args) => execaRunner('lspci-not-installed-here', args);
    const error = await failure(runLspci({}, missing));
    expect(error.message).toContain('apt-get install -y pciutils');
    expect((error.cause as { code?: string }).code).toBe('ENOENT');
  });
});
