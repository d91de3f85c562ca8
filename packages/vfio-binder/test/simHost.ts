import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { parseTarget, readIommuGroups, scanPciDevices } from '@passthru/pci-discovery';
import { SimulatedKernel, loadHostSpec, materialize } from '@passthru/sysfs-sim';

const specs = path.resolve(__dirname, '../../../fixtures/specs');
const made: string[] = [];

/** A fixture spec materialized in a temp folder, with a simulated kernel giving writes their meaning. */
export function simHost(name: string, prefix: string): { root: string; host: HostFs; kernel: SimulatedKernel } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-${name}-`));
  made.push(root);
  materialize(loadHostSpec(path.join(specs, `${name}.yaml`)), root);
  const kernel = new SimulatedKernel(root, { logWrites: false });
  return { root, host: new HostFs(root, { kernel }), kernel };
}

/** A tree the kernel lab captured from a real kernel (fixtures/kernel-lab), copied to a temp folder, with a simulated kernel that logs its writes. */
export function capturedHost(name: string): { root: string; host: HostFs; kernel: SimulatedKernel } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `real-${name}-`));
  made.push(root);
  fs.cpSync(path.resolve(__dirname, '../../../fixtures/kernel-lab', name), root, { recursive: true, verbatimSymlinks: true });
  const kernel = new SimulatedKernel(root, { logWrites: true });
  return { root, host: new HostFs(root, { kernel }), kernel };
}

/** The devices and groups of one scan, as the use cases take them. */
export const state = (host: HostFs) => {
  const { devices } = scanPciDevices(host);
  return { devices, groups: readIommuGroups(host, devices) };
};
export const driverOf = (host: HostFs, a: string) => host.linkName(`/sys/bus/pci/devices/${a}/driver`) ?? null;
/** Apply options for the simulator: verify at once, never sleep. */
export const instant = { verifyTimeoutMs: 0, sleep: () => {} };
export const targets = (...raw: string[]) => raw.map(parseTarget);

/** Removes every host simHost and capturedHost made (afterEach). */
export const cleanSimHosts = () =>
  made.splice(0).forEach((r) => {
    fs.rmSync(r, { recursive: true, force: true });
  });
