// Issue 5 benchmark: plan + apply + verify binding every VF of a generated ~2,000-function
// host to vfio-pci in the simulator (one process, library calls), then restore. Reports the
// time per device for each phase. The simulator writes real files, so this measures passthru's
// own cost plus the file-system work a fixture tree needs (a live sysfs is not slower).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { readIommuGroups, scanPciDevices } from '@passthru/pci-discovery';
import { SimulatedKernel, generateLargeHost, materialize } from '@passthru/sysfs-sim';
import { applyBind, applyRestore, planBind, planRestore } from '@passthru/vfio-binder';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-bind-'));
materialize(generateLargeHost({ nics: 30, vfsPerNic: 64, gpus: 8 }), root);
// vfio-pci must be loaded for a bind; the generated host lists it.
const host = new HostFs(root, { kernel: new SimulatedKernel(root, { logWrites: false }) });
const ms = (t: bigint) => Number(t) / 1e6;

let t = process.hrtime.bigint();
const { devices } = scanPciDevices(host);
const groups = readIommuGroups(host, devices);
const vfs = devices.filter((d) => d.sriov?.role === 'vf');
const plan = planBind(vfs, devices, groups);
const planMs = ms(process.hrtime.bigint() - t);

t = process.hrtime.bigint();
const result = applyBind(host, plan, { verifyTimeoutMs: 0 });
const applyMs = ms(process.hrtime.bigint() - t);
if (result.status !== 'applied') throw new Error(`bind ${result.status}: ${result.error}`);

t = process.hrtime.bigint();
const restore = applyRestore(host, planRestore(host, scanPciDevices(host).devices, 'all'), { verifyTimeoutMs: 0 });
const restoreMs = ms(process.hrtime.bigint() - t);
if (restore.status !== 'restored') throw new Error(`restore ${restore.status}`);

const n = plan.devices.length;
console.log(
  JSON.stringify(
    {
      functions: devices.length,
      vfsBound: n,
      writes: result.writes,
      scanAndPlanMs: Math.round(planMs),
      applyAndVerifyMs: Math.round(applyMs),
      applyPerDeviceMs: Number((applyMs / n).toFixed(2)),
      restorePerDeviceMs: Number((restoreMs / n).toFixed(2)),
    },
    null,
    2,
  ),
);
console.log('\n| functions | VFs bound | sysfs writes | scan + plan | apply + verify | per device | restore, per device |');
console.log('|---|---|---|---|---|---|---|');
console.log(
  `| ${devices.length} | ${n} | ${result.writes} | ${(planMs / 1000).toFixed(2)} s | ${(applyMs / 1000).toFixed(1)} s | ${(applyMs / n).toFixed(2)} ms | ${(restoreMs / n).toFixed(2)} ms |`,
);
fs.rmSync(root, { recursive: true, force: true });
