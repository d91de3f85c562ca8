import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs, HostFsError } from '@passthru/hostfs';
import { moduleOptions, parseModprobeConfig } from '@passthru/boot-config';
import { identityOf, scanPciDevices } from '@passthru/pci-discovery';
import { SimulatedKernel, loadHostSpec, materialize } from '@passthru/sysfs-sim';
import { afterEach, describe, expect, it } from 'vitest';
import { readIommuGroups } from '@passthru/pci-discovery';
import { planBind } from '../src/bind/plan';
import { VfioBinderError } from '../src/VfioBinderError';
import { applyBind } from '../src/bind/apply';
import { MODPROBE_FILE, applyPersist, formatPersistPlan, planPersist } from '../src/persist/plan';
import { PERSIST_RECORD, readPersistRecord, renumberedDevices } from '../src/persist/record';
import { giveDeviceId } from './renumber';

const roots: string[] = [];
afterEach(() =>
  roots.splice(0).forEach((r) => {
    fs.rmSync(r, { recursive: true, force: true });
  }),
);

function fixture(name: string) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `persist-${name}-`));
  roots.push(root);
  materialize(loadHostSpec(path.resolve(__dirname, `../../../fixtures/specs/${name}.yaml`)), root);
  const host = new HostFs(root, { kernel: new SimulatedKernel(root, { logWrites: false }) });
  return { root, host, devices: scanPciDevices(host).devices };
}

const gpu = (devices: ReturnType<typeof scanPciDevices>['devices']) => devices.filter((d) => d.address.startsWith('0000:01:00.'));

/**
 * Fault injection for the second file of a persist: the file made immutable (chattr +i, root on
 * ext4), so renaming the new text over it fails with EPERM while its backup can still be read.
 * The temp names are unpredictable now, so a folder planted at one cannot make the write fail.
 */
const immutables: string[] = [];
function immutable(file: string): void {
  execFileSync('chattr', ['+i', file]);
  immutables.push(file);
}
afterEach(() => {
  for (const f of immutables.splice(0)) execFileSync('chattr', ['-i', f]);
});

describe('persist', () => {
  it('plans modprobe.d ids + softdeps and the initramfs modules, with diffs and backups, and applies idempotently', async () => {
    const { host, devices } = fixture('sriov-server');
    // Every 8086:1889 VF (issue 18: ids= only when all devices with those ids persist).
    const nic = devices.filter((d) => d.sriov?.role === 'vf' && d.deviceId === '1889');
    const plan = planPersist(host, nic, devices, [], 'T1');
    const modprobe = plan.changes.find((c) => c.path === MODPROBE_FILE)!;
    expect(modprobe.after).toMatch(/^options vfio-pci ids=8086:1889$/m);
    expect(modprobe.after).toMatch(/^softdep iavf pre: vfio-pci$/m);
    expect(plan.boot).toEqual({ ids: ['8086:1889'], addresses: [] });
    expect(modprobe.after).not.toMatch(/^install /m);
    expect(formatPersistPlan(plan)).toContain(`--- /dev/null\n+++ ${MODPROBE_FILE.slice(1)}\n`);
    const before = new Map(plan.changes.map((c) => [c.path, c.before]));
    const ran: string[] = [];
    await applyPersist(host, plan, async (command) => {
      ran.push(command);
      return { exitCode: 0, output: '' };
    });
    expect(ran).toEqual(plan.followUp);
    for (const c of plan.changes) {
      expect(host.readText(c.path)).toBe(c.after);
      if (c.backup) expect(host.readText(c.backup)).toBe(before.get(c.path));
    }
    const again = planPersist(host, nic, devices, [], 'T2');
    expect(again.changes).toEqual([]);
  });

  it('keeps every other line of an existing initramfs-tools modules file', async () => {
    const { host, devices } = fixture('intel-workstation');
    host.writeFile('/etc/initramfs-tools/modules', '# List of modules\nloop\n');
    const plan = planPersist(host, gpu(devices), devices, [], 'T');
    const change = plan.changes.find((c) => c.path === '/etc/initramfs-tools/modules')!;
    expect(change.after.startsWith('# List of modules\nloop\n')).toBe(true);
    expect(change.after).toMatch(/^vfio_pci$/m);
    expect(plan.followUp).toContain('update-initramfs -u -k all');
    expect(plan.changes.find((c) => c.path === MODPROBE_FILE)!.after).toMatch(/softdep nvidia pre: vfio-pci/);
  });

  it('records identities and refuses when an address now names another device', async () => {
    const { root, host, devices } = fixture('intel-workstation');
    await applyPersist(host, planPersist(host, gpu(devices), devices, [], 'T'));
    expect(renumberedDevices(host, devices)).toEqual([]);
    giveDeviceId(fs.realpathSync(path.join(root, 'sys/bus/pci/devices/0000:01:00.0')), 0x2704);
    const now = scanPciDevices(host).devices;
    expect(renumberedDevices(host, now)).toEqual([{ address: '0000:01:00.0', changes: ['deviceId was 2684, is 2704'] }]);
    expect(() => planPersist(host, gpu(now), now, [], 'T')).toThrow(/now names another device/);
  });

  it('puts files back when a write fails half way', async () => {
    const { root, host, devices } = fixture('intel-workstation');
    host.writeFile('/etc/initramfs-tools/modules', 'loop\n');
    const plan = planPersist(host, gpu(devices), devices, [], 'T');
    immutable(path.join(root, 'etc/initramfs-tools/modules'));
    await expect(applyPersist(host, plan)).rejects.toThrow(/put back/);
    expect(host.exists(MODPROBE_FILE)).toBe(false);
    expect(host.readText('/etc/initramfs-tools/modules')).toBe('loop\n');
  });

  it('after a bind, takes the native drivers for the softdeps from the journal', () => {
    const { host, devices } = fixture('intel-workstation');
    applyBind(host, planBind(gpu(devices), devices, readIommuGroups(host, devices)), { verifyTimeoutMs: 0 });
    const now = scanPciDevices(host).devices;
    expect(gpu(now).every((d) => d.driver === 'vfio-pci')).toBe(true);
    const modprobe = planPersist(host, gpu(now), now, [], 'T').changes.find((c) => c.path === MODPROBE_FILE)!;
    expect(modprobe.after).toMatch(/^softdep nvidia pre: vfio-pci$/m);
    expect(modprobe.after).toMatch(/^softdep snd_hda_intel pre: vfio-pci$/m);
  });
});

/**
 * What a modprobe.d text claims for vfio-pci at boot, read with iommu-check's kmod-compatible
 * parser: every device matched by `options vfio-pci ids=`, plus every address the vfio-pci
 * install command writes driver_override for.
 */
function claimedAtBoot(text: string, devices: ReturnType<typeof scanPciDevices>['devices']): string[] {
  const config = parseModprobeConfig([{ path: MODPROBE_FILE, text }]);
  expect(config.ignored).toEqual([]);
  const ids = (moduleOptions(config, 'vfio-pci').ids ?? '').split(',').filter(Boolean);
  const installs = config.installs.filter((i) => i.module === 'vfio_pci').map((i) => i.command);
  const overridden = installs.flatMap((c) => [...c.matchAll(/echo vfio-pci > \/sys\/bus\/pci\/devices\/(\S+)\/driver_override/g)].map((m) => m[1]!));
  return devices.filter((d) => ids.includes(`${d.vendorId}:${d.deviceId}`) || overridden.includes(d.address)).map((d) => d.address);
}

const CARD = (bus: string) => [`0000:${bus}:00.0`, `0000:${bus}:00.1`];
const byAddress = (devices: ReturnType<typeof scanPciDevices>['devices'], addresses: string[]) => devices.filter((d) => addresses.includes(d.address));

describe('persist on a host with two identical GPUs (twin-gpu: 01:00.0 is the boot VGA device)', () => {
  it('binds the second card by address at boot and leaves no ids= line that matches the first', async () => {
    const { host, devices } = fixture('twin-gpu');
    const [first, second] = [byAddress(devices, CARD('01')), byAddress(devices, CARD('02'))];
    expect(first.map((d) => `${d.vendorId}:${d.deviceId}:${d.subsystemVendorId}:${d.subsystemDeviceId}`)).toEqual(
      second.map((d) => `${d.vendorId}:${d.deviceId}:${d.subsystemVendorId}:${d.subsystemDeviceId}`),
    );
    expect(devices.find((d) => d.address === '0000:01:00.0')!.bootVga).toBe(true);

    const plan = planPersist(host, second, devices, [], 'T');
    expect(plan.boot).toEqual({ ids: [], addresses: CARD('02') });
    const modprobe = plan.changes.find((c) => c.path === MODPROBE_FILE)!.after;
    expect(modprobe).not.toMatch(/ids=/);
    expect(modprobe).toMatch(/^softdep nvidia pre: vfio-pci$/m);
    expect(modprobe).toMatch(/^softdep snd_hda_intel pre: vfio-pci$/m);
    expect(claimedAtBoot(modprobe, devices)).toEqual(CARD('02'));
    expect(plan.warnings.join('\n')).toMatch(/0000:02:00\.0 binds at boot by address \(driver_override\): its ids are shared with 0000:01:00\.0/);
    // vfio-pci is loaded from the initramfs too (its install hook then runs there).
    expect(plan.changes.find((c) => c.path === '/etc/initramfs-tools/modules')!.after).toMatch(/^vfio_pci$/m);
    expect(formatPersistPlan(plan)).toContain('+install vfio-pci echo vfio-pci > /sys/bus/pci/devices/0000:02:00.0/driver_override');

    await applyPersist(host, plan);
    expect(claimedAtBoot(host.readText(MODPROBE_FILE), devices)).toEqual(CARD('02'));
    expect(planPersist(host, second, devices, [], 'T2').changes).toEqual([]);
  });

  it('the install command is valid for kmod (modprobe -C FILE -c) and for sh -n', () => {
    const { root, host, devices } = fixture('twin-gpu');
    const text = planPersist(host, byAddress(devices, CARD('02')), devices, [], 'T').changes.find((c) => c.path === MODPROBE_FILE)!.after;
    const file = path.join(root, 'passthru-vfio.conf');
    fs.writeFileSync(file, text);
    // kmod's own parser (Debian package kmod); it reports lines it ignores on stderr.
    const kmod = spawnSync('modprobe', ['-C', file, '-c'], { encoding: 'utf8' });
    expect(kmod.error, 'modprobe (kmod) is needed: apt-get install -y kmod').toBeUndefined();
    expect(kmod.stderr).not.toMatch(/ignoring|bad line/i);
    const install = text.split('\n').find((l) => l.startsWith('install '))!;
    expect(kmod.stdout.split('\n')).toContain(install.replace('install vfio-pci', 'install vfio_pci'));
    expect(kmod.stdout.split('\n')).toContain('softdep nvidia pre: vfio-pci');
    // kmod runs the command with /bin/sh -c after replacing $CMDLINE_OPTS: parse it, never run it.
    const sh = spawnSync('sh', ['-n', '-c', install.slice('install vfio-pci '.length).replace('$CMDLINE_OPTS', '')], { encoding: 'utf8' });
    expect(sh.status, sh.stderr).toBe(0);
  });

  it('refuses to claim the boot VGA card, writes nothing, and --force turns the refusal into a warning', () => {
    const { host, devices } = fixture('twin-gpu');
    const first = byAddress(devices, CARD('01'));
    expect(() => planPersist(host, first, devices, [], 'T')).toThrow(/the boot configuration would claim guarded devices: 0000:01:00\.0 \[boot-vga\]/);
    expect(host.exists(MODPROBE_FILE)).toBe(false);
    const forced = planPersist(host, first, devices, [], 'T', { force: true });
    expect(forced.warnings.join('\n')).toMatch(/overridden \(--force\): 0000:01:00\.0 \[boot-vga\]/);
    expect(forced.boot).toEqual({ ids: [], addresses: CARD('01') });
  });

  it('once both cards persist, ids= is written again (every device with the ids is claimed)', async () => {
    const { host, devices } = fixture('twin-gpu');
    await applyPersist(host, planPersist(host, byAddress(devices, CARD('02')), devices, [], 'T1'));
    const both = planPersist(host, byAddress(devices, CARD('01')), devices, [], 'T2', { force: true });
    expect(both.boot).toEqual({ ids: ['10de:22ba', '10de:2684'], addresses: [] });
    const text = both.changes.find((c) => c.path === MODPROBE_FILE)!.after;
    expect(text).toMatch(/^options vfio-pci ids=10de:22ba,10de:2684$/m);
    expect(text).not.toMatch(/^install /m);
  });

  it('rewrites an ids= line an earlier persist wrote for one card into a claim by address', () => {
    const { host, devices } = fixture('twin-gpu');
    const second = byAddress(devices, CARD('02'));
    // What persist wrote before issue 18: ids= of the second card, recorded for it alone.
    host.writeFile(MODPROBE_FILE, '# Written by passthru persist\noptions vfio-pci ids=10de:22ba,10de:2684\nsoftdep nvidia pre: vfio-pci\n');
    host.writeFile(PERSIST_RECORD, JSON.stringify({ schemaVersion: 1, devices: second.map((d) => ({ address: d.address, identity: identityOf(d) })) }));
    expect(claimedAtBoot(host.readText(MODPROBE_FILE), devices)).toEqual([...CARD('01'), ...CARD('02')]);
    const plan = planPersist(host, second, devices, [], 'T');
    expect(claimedAtBoot(plan.changes.find((c) => c.path === MODPROBE_FILE)!.after, devices)).toEqual(CARD('02'));
  });

  it('two VFs of a PF with more: by address; the other VFs are not claimed', () => {
    const { host, devices } = fixture('sriov-server');
    const vfs = devices.filter((d) => d.sriov?.role === 'vf' && d.deviceId === '1889');
    const plan = planPersist(host, vfs.slice(0, 2), devices, [], 'T');
    expect(plan.boot).toEqual({ ids: [], addresses: vfs.slice(0, 2).map((d) => d.address) });
    expect(claimedAtBoot(plan.changes.find((c) => c.path === MODPROBE_FILE)!.after, devices)).toEqual(vfs.slice(0, 2).map((d) => d.address));
  });
});

describe('persist failures (issue 18)', () => {
  it('a corrupt persist record: usage error naming the record, cause kept, nothing written', () => {
    const { host, devices } = fixture('intel-workstation');
    host.writeFile(PERSIST_RECORD, '{"schemaVersion": 1, "devices": [');
    let thrown: unknown;
    try {
      planPersist(host, gpu(devices), devices, [], 'T');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(VfioBinderError);
    expect((thrown as VfioBinderError).kind).toBe('bad-input');
    expect((thrown as Error).message).toMatch(/^Failed reading the persist record via \/var\/lib\/passthru\/persist\.json: .*JSON/);
    expect((thrown as Error).cause).toBeInstanceOf(SyntaxError);
    expect(host.exists(MODPROBE_FILE)).toBe(false);
    host.writeFile(PERSIST_RECORD, '{"schemaVersion": 2}');
    expect(() => readPersistRecord(host)).toThrow(
      /^Failed reading the persist record via \/var\/lib\/passthru\/persist\.json: unexpected content \(schemaVersion: /,
    );
  });

  it('names the file whose write failed, not the first one written', async () => {
    const { root, host, devices } = fixture('intel-workstation');
    host.writeFile('/etc/initramfs-tools/modules', 'loop\n');
    const plan = planPersist(host, gpu(devices), devices, [], 'T');
    expect(plan.changes.map((c) => c.path).slice(0, 2)).toEqual([MODPROBE_FILE, '/etc/initramfs-tools/modules']);
    immutable(path.join(root, 'etc/initramfs-tools/modules'));
    const error = await applyPersist(host, plan).catch((e: unknown) => e as VfioBinderError);
    expect(error.kind).toBe('failed');
    expect(error.message).toMatch(/^Failed persisting via \/etc\/initramfs-tools\/modules: .*; the 1 file\(s\) written so far were put back$/);
    expect(host.exists(PERSIST_RECORD)).toBe(false);
    expect(host.exists('/etc/initramfs-tools/modules.passthru-T.bak')).toBe(false);
  });

  it('a failure while putting back: kind partial, both errors kept, and what is left named', async () => {
    const { root, devices } = fixture('intel-workstation');
    // Fault injection: removing the new modprobe.d file fails (as on a read-only /etc).
    class StuckEtc extends HostFs {
      override removeFile(hostPath: string): void {
        if (hostPath === MODPROBE_FILE) throw new HostFsError('removing', hostPath, 'EROFS', 'read-only file system');
        super.removeFile(hostPath);
      }
    }
    const host = new StuckEtc(root, { kernel: new SimulatedKernel(root, { logWrites: false }) });
    host.writeFile('/etc/initramfs-tools/modules', 'loop\n');
    const plan = planPersist(host, gpu(devices), devices, [], 'T');
    immutable(path.join(root, 'etc/initramfs-tools/modules'));
    const error = await applyPersist(host, plan).catch((e: unknown) => e as VfioBinderError);
    expect(error.kind).toBe('partial');
    expect(error.message).toMatch(
      /^Failed persisting via \/etc\/initramfs-tools\/modules: .*; then failed putting back 1 of 1 file\(s\) written: \/etc\/modprobe\.d\/passthru-vfio\.conf has the new text \(it did not exist before\): .*EROFS/,
    );
    expect(error.cause).toBeInstanceOf(AggregateError);
    const errors = (error.cause as AggregateError).errors as Error[];
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/initramfs-tools\/modules/), expect.stringMatching(/EROFS|read-only/)]);
    expect(host.readText(MODPROBE_FILE)).toBe(plan.changes[0]!.after);
    expect(host.readText('/etc/initramfs-tools/modules')).toBe('loop\n');
  });
});

describe('persist by address on a kernel with vfio-pci built in', () => {
  it('warns that the install command will not run', () => {
    const { host, devices } = fixture('twin-gpu');
    const release = host.readText('/proc/sys/kernel/osrelease').trim();
    host.writeFile(`/lib/modules/${release}/modules.builtin`, 'kernel/drivers/vfio/pci/vfio-pci.ko\n');
    const plan = planPersist(host, byAddress(devices, CARD('02')), devices, [], 'T');
    expect(plan.warnings.join('\n')).toMatch(
      /vfio-pci is built into this kernel .*: its modprobe.d install command never runs, so 0000:02:00\.0, 0000:02:00\.1 will not be bound at boot/,
    );
  });
});
