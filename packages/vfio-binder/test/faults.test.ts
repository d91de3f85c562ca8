// The fault-injection matrix of issue 5: every write of a GPU bind plan x {EBUSY, ENODEV,
// EACCES, EIO, hang, device vanishes, probe binds nothing}, plus faults during rollback.
// Afterwards every device is on its original driver (the tree byte for byte as before), or
// the run reported 'partial' (exit 3) and `restore` completes from the journal.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { readIommuGroups, scanPciDevices } from '@passthru/pci-discovery';
import { SimulatedKernel, loadHostSpec, materialize, type FaultSpec } from '@passthru/sysfs-sim';
import { afterAll, describe, expect, it } from 'vitest';
import { planBind, type BindPlan } from '../src/bind/plan';
import { applyBind } from '../src/bind/apply';
import { applyRestore, planRestore } from '../src/restore/plan';
import { parseTarget, resolveTargets } from '../src/bind/targets';
import { diffSnapshots, snapshotTree } from './treeSnapshot';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bind-faults-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const pristine = path.join(work, 'pristine');
materialize(loadHostSpec(path.resolve(__dirname, '../../../fixtures/specs/intel-workstation.yaml')), pristine);
const ORIGINAL: Record<string, string> = {
  '0000:01:00.0': 'nvidia',
  '0000:01:00.1': 'snd_hda_intel',
  '0000:01:00.2': 'xhci_hcd',
  '0000:01:00.3': 'nvidia-gpu',
};
const options = { verifyTimeoutMs: 0, sleep: () => {} };

let n = 0;
function freshHost() {
  const root = path.join(work, `s${n++}`);
  fs.cpSync(pristine, root, { recursive: true, verbatimSymlinks: true });
  const kernel = new SimulatedKernel(root, { logWrites: false, maxHangMs: 20, sleep: () => {} });
  return { root, kernel, host: new HostFs(root, { kernel }) };
}

function gpuPlan(host: HostFs): BindPlan {
  const { devices } = scanPciDevices(host);
  const groups = readIommuGroups(host, devices);
  return planBind(resolveTargets([parseTarget('0000:01:00.0')], devices, groups), devices, groups);
}

const writes = gpuPlan(freshHost().host).devices.flatMap((d) => d.writes.map((w) => ({ ...w, address: d.address })));
const effects: Array<[string, (w: (typeof writes)[number]) => Omit<FaultSpec, 'path'>]> = [
  ['EBUSY', () => ({ fail: 'EBUSY' })],
  ['ENODEV', () => ({ fail: 'ENODEV' })],
  ['EACCES', () => ({ fail: 'EACCES' })],
  ['EIO', () => ({ fail: 'EIO' })],
  ['hang', () => ({ hang: 50 })],
  ['vanish', (w) => ({ vanish: w.address })],
  ['noBind', () => ({ noBind: true })],
];
// noBind only means something for a write that probes (drivers_probe).
const matrix = writes.flatMap((w) =>
  effects
    .filter(([name]) => name !== 'noBind' || w.path.endsWith('drivers_probe'))
    .map(([name, effect]) => ({ name: `${name} at ${w.path} ${w.data}`, fault: { path: w.path, data: w.data, nth: 1, ...effect(w) } as FaultSpec })),
);

function settle(root: string, host: HostFs, kernel: SimulatedKernel, before: Map<string, string>, status: string) {
  if (status === 'applied') {
    for (const a of Object.keys(ORIGINAL)) expect(host.linkName(`/sys/bus/pci/devices/${a}/driver`)).toBe('vfio-pci');
    return 'applied';
  }
  if (status === 'rolled-back') {
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
    return 'rolled-back';
  }
  expect(status).toBe('partial');
  kernel.clearFaults();
  const restore = applyRestore(host, planRestore(host, scanPciDevices(host).devices, 'all'), options);
  expect(restore.status).not.toBe('partial');
  for (const [a, driver] of Object.entries(ORIGINAL)) {
    if (host.exists(`/sys/bus/pci/devices/${a}`)) expect(host.linkName(`/sys/bus/pci/devices/${a}/driver`)).toBe(driver);
  }
  return 'partial-then-restored';
}

const tally: Record<string, number> = {};
describe('fault-injection matrix', () => {
  it('covers every write of the plan', () => expect(writes.length).toBe(12));

  it.each(matrix)('$name', ({ fault }) => {
    const { root, host, kernel } = freshHost();
    const before = snapshotTree(root);
    kernel.injectFault(fault);
    const result = applyBind(host, gpuPlan(host), options);
    const outcome = settle(root, host, kernel, before, result.status);
    if (fault.fail || fault.noBind) expect(outcome).not.toBe('applied');
    if (fault.vanish) expect(outcome).toBe('partial-then-restored');
    if (fault.hang) expect(outcome).toBe('applied');
    tally[outcome] = (tally[outcome] ?? 0) + 1;
  });

  it.each(['EBUSY', 'EIO', 'ENODEV'])('rollback itself fails with %s: exit-3 state, restore finishes', (errno) => {
    const { root, host, kernel } = freshHost();
    const before = snapshotTree(root);
    kernel.injectFault({ path: '/sys/bus/pci/drivers_probe', data: '0000:01:00.3', nth: 1, fail: 'EIO' });
    kernel.injectFault({ path: '/sys/bus/pci/drivers/nvidia/bind', fail: errno });
    // The fallback probe of the rollback is the second probe of 01:00.0.
    kernel.injectFault({ path: '/sys/bus/pci/drivers_probe', data: '0000:01:00.0', nth: 2, fail: errno });
    const result = applyBind(host, gpuPlan(host), options);
    expect(result.status).toBe('partial');
    expect(result.devices.find((d) => d.address === '0000:01:00.0')).toMatchObject({ status: 'left' });
    expect(settle(root, host, kernel, before, result.status)).toBe('partial-then-restored');
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
    tally['rollback-failed'] = (tally['rollback-failed'] ?? 0) + 1;
  });

  afterAll(() => {
    // The count the README reports (`npm test` prints it).
    console.log(`fault-injection scenarios: ${Object.values(tally).reduce((a, b) => a + b, 0)} (${JSON.stringify(tally)})`);
  });
});
