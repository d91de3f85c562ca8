import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { scanPciDevices } from '@passthru/pci-discovery';
import { SimulatedKernel, loadHostSpec, materialize } from '@passthru/sysfs-sim';
import { afterEach, describe, expect, it } from 'vitest';
import { readIommuGroups } from '@passthru/pci-discovery';
import { MODPROBE_FILE, applyBind, applyPersist, formatPersistPlan, lineDiff, planBind, planPersist, renumberedDevices } from '../src/index';

const roots: string[] = [];
afterEach(() => roots.splice(0).forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

function fixture(name: string) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `persist-${name}-`));
  roots.push(root);
  materialize(loadHostSpec(path.resolve(__dirname, `../../../fixtures/specs/${name}.yaml`)), root);
  const host = new HostFs(root, { kernel: new SimulatedKernel(root, { logWrites: false }) });
  return { root, host, devices: scanPciDevices(host).devices };
}

const gpu = (devices: ReturnType<typeof scanPciDevices>['devices']) => devices.filter((d) => d.address.startsWith('0000:01:00.'));

describe('persist', () => {
  it('plans modprobe.d ids + softdeps and the initramfs modules, with diffs and backups, and applies idempotently', async () => {
    const { host, devices } = fixture('sriov-server');
    const nic = devices.filter((d) => d.sriov?.role === 'vf').slice(0, 2);
    const plan = planPersist(host, nic, devices, [], 'T1');
    const modprobe = plan.changes.find((c) => c.path === MODPROBE_FILE)!;
    expect(modprobe.after).toMatch(/^options vfio-pci ids=8086:1889$/m);
    expect(modprobe.after).toMatch(/^softdep iavf pre: vfio-pci$/m);
    expect(plan.warnings.join('\n')).toMatch(/ids=8086:1889 also claims/);
    expect(formatPersistPlan(plan)).toContain(`+++ ${MODPROBE_FILE}`);
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
    fs.writeFileSync(path.join(fs.realpathSync(path.join(root, 'sys/bus/pci/devices/0000:01:00.0')), 'device'), '0x2704\n');
    const now = scanPciDevices(host).devices;
    expect(renumberedDevices(host, now)).toEqual(['0000:01:00.0: deviceId was 2684, is 2704']);
    expect(() => planPersist(host, gpu(now), now, [], 'T')).toThrow(/now names another device/);
  });

  it('puts files back when a write fails half way', async () => {
    const { root, host, devices } = fixture('intel-workstation');
    host.writeFile('/etc/initramfs-tools/modules', 'loop\n');
    const plan = planPersist(host, gpu(devices), devices, [], 'T');
    fs.mkdirSync(path.join(root, 'etc/initramfs-tools/modules.passthru-' + process.pid + '.tmp'), { recursive: true });
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

  it('diffs minimally', () => {
    expect(lineDiff('/f', 'a\nb\nc\n', 'a\nB\nc\n')).toBe('--- /f\n+++ /f\n@@ -2,1 +2,1 @@\n-b\n+B\n');
    expect(lineDiff('/f', 'same', 'same')).toBe('');
  });
});
