// SR-IOV (drivers/pci/iov.c): sriov_numvfs enables and disables VFs, sriov_drivers_autoprobe
// says whether new VFs are probed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errnoError } from '@passthru/hostfs';
import { EXT_CAP_OFFSET, EXT_CAP_SRIOV } from '../configSpace';
import { parseHostSpec, type DeviceSpec, type HostSpec } from '../HostSpec';
import { virtualFunctionSpecs } from '../materialize';
import { treePath } from '../treePath';
import type { WriteContext } from './WriteContext';
import { addVirtualFunction, removeDevice } from './deviceLifecycle';
import { attach } from './probe';
import * as z from 'zod';
import { SIM_STATE_DIR } from '../materialize';
import { readSidecar, writeSidecar } from './sidecar';
import { kstrtobool, kstrtoul } from './sysfsParse';
import type { SysfsTree } from './SysfsTree';

/** sriov_drivers_autoprobe: a kstrtobool, shown as 1 or 0. */
export function writeSriovDriversAutoprobe(tree: SysfsTree, file: string, data: string): void {
  tree.writeFile(file, kstrtobool(data, 'sriov_drivers_autoprobe') ? '1\n' : '0\n');
}

/**
 * sriov_numvfs_store: kstrtou16 (EINVAL, ERANGE), ERANGE above sriov_totalvfs, no change when
 * equal, ENOENT without a PF driver, EBUSY from non-zero to another non-zero (pass through 0).
 */
export function writeSriovNumvfs(ctx: WriteContext, address: string, folder: string, data: string): void {
  const { tree } = ctx;
  const count = kstrtoul(data, 'sriov_numvfs', 0xffff);
  const total = Number(tree.readFile(`${folder}/sriov_totalvfs`)?.trim() ?? '0');
  if (count > total) throw errnoError('ERANGE', `sriov_numvfs: ${count} exceeds sriov_totalvfs ${total}`);
  const current = Number(tree.readFile(`${folder}/sriov_numvfs`)?.trim() ?? '0');
  if (count === current) return;
  if (!tree.driverOf(folder)) throw errnoError('ENOENT', `sriov_numvfs: no driver bound to ${address}; cannot configure SR-IOV`);
  if (count === 0) {
    markPending(tree, { folder, vfs: [] });
    removeVfs(tree, folder, []);
    clearPending(tree);
    return;
  }
  if (current !== 0) throw errnoError('EBUSY', `sriov_numvfs: ${current} VFs already enabled; disable before enabling ${count}`);
  enableVfs(ctx, address, folder, count);
}

/**
 * The kernel changes sriov_numvfs whole: a process killed while writing it finds, when it comes
 * back, the write done or not done, never half. The simulator does the work in many file
 * operations, so it marks the change first; a change a kill cut short is finished the way both
 * directions end in the kernel when they cannot complete: every VF of the PF gone, the count 0
 * (an enable starts from 0, a disable goes to 0). Run when a SimulatedKernel opens the tree.
 */
const SriovPendingSchema = z.object({ folder: z.string(), vfs: z.array(z.string()) });
const SIM_SRIOV_PENDING_FILE = `${SIM_STATE_DIR}/sriov-pending.json`;

function markPending(tree: SysfsTree, pending: z.infer<typeof SriovPendingSchema>): void {
  writeSidecar(tree.root, SIM_SRIOV_PENDING_FILE, JSON.stringify(pending));
}

function clearPending(tree: SysfsTree): void {
  fs.rmSync(path.join(tree.root, SIM_SRIOV_PENDING_FILE), { force: true });
}

/** Removes every VF of the PF (its virtfn links and the `also` addresses a cut-short enable made) and shows 0. */
function removeVfs(tree: SysfsTree, folder: string, also: string[]): void {
  for (const link of tree.virtfnLinks(folder)) {
    const vf = tree.linkName(`${folder}/${link}`);
    if (vf && tree.device(vf)) removeDevice(tree, vf);
    tree.remove(`${folder}/${link}`);
  }
  for (const vf of also) if (tree.device(vf)) removeDevice(tree, vf);
  disableSriov(tree, folder);
}

export function finishInterruptedSriov(tree: SysfsTree): void {
  const pending = readSidecar(tree.root, SIM_SRIOV_PENDING_FILE, SriovPendingSchema, 'reading the interrupted sriov change');
  if (!pending) return;
  removeVfs(tree, pending.folder, pending.vfs);
  clearPending(tree);
}

/** sriov_numvfs shows 0 and the capability's VF Enable is off (also what a rescanned PF shows). */
export function disableSriov(tree: SysfsTree, folder: string): void {
  tree.writeFile(`${folder}/sriov_numvfs`, '0\n');
  setSriovControl(tree, folder, 0);
}

function enableVfs(ctx: WriteContext, address: string, folder: string, count: number): void {
  const { tree } = ctx;
  const { spec, pf } = sriovTemplate(ctx, address, folder);
  const vfs = virtualFunctionSpecs({ ...pf, sriov: pf.sriov ? { ...pf.sriov, vfDriver: undefined } : undefined }, count);
  const existing = tree.deviceAddresses();
  const slots = new Map<string, number>();
  for (const a of [...existing, ...vfs.map((v) => v.address)]) slots.set(a.slice(0, -2), (slots.get(a.slice(0, -2)) ?? 0) + 1);
  const taken = vfs.find((vf) => existing.includes(vf.address));
  if (taken) throw errnoError('EBUSY', `sriov_numvfs: VF address ${taken.address} is taken by another device`);
  markPending(tree, { folder, vfs: vfs.map((v) => v.address) });
  vfs.forEach((vf, i) => {
    addVirtualFunction(tree, spec, folder, vf, i, (slots.get(vf.address.slice(0, -2)) ?? 0) > 1);
  });
  tree.writeFile(`${folder}/sriov_numvfs`, `${count}\n`);
  setSriovControl(tree, folder, count);
  clearPending(tree);
  // pci_bus_add_device -> device_attach, unless bus autoprobe is off; pci_device_can_probe
  // keeps VFs unbound when the PF's sriov_drivers_autoprobe is 0.
  if (tree.autoprobeOff()) return;
  for (const vf of vfs) {
    const device = tree.device(vf.address);
    if (device) attach(ctx, device);
  }
}

/** The PF's SR-IOV capability follows: VF Enable + VF MSE in SR-IOV Control (cap + 0x08), NumVFs (cap + 0x10). */
function setSriovControl(tree: SysfsTree, folder: string, count: number): void {
  const config = tree.readConfig(folder);
  if (!config || config.length <= EXT_CAP_OFFSET) return;
  for (let offset = EXT_CAP_OFFSET, hops = 0; offset >= EXT_CAP_OFFSET && offset + 0x14 <= config.length && hops < 64; hops++) {
    const header = config.readUInt32LE(offset);
    if ((header & 0xffff) === EXT_CAP_SRIOV) {
      config.writeUInt16LE(count > 0 ? 0x0009 : 0x0000, offset + 0x08);
      config.writeUInt16LE(count, offset + 0x10);
      fs.writeFileSync(treePath(tree.root, `${folder}/config`), config);
      return;
    }
    offset = header >>> 20;
  }
}

/** The PF's spec (from host.json) or, for a captured tree, one read back from its attributes. */
function sriovTemplate(ctx: WriteContext, address: string, folder: string): { spec: HostSpec; pf: DeviceSpec } {
  const { tree } = ctx;
  const listed = ctx.spec?.devices.find((d) => d.address === address && d.sriov);
  if (ctx.spec && listed) return { spec: ctx.spec, pf: listed };
  const attr = (name: string) => tree.readFile(`${folder}/${name}`)?.trim();
  const hex = (name: string, digits: number, fallback: string) => (attr(name) ?? fallback).replace(/^0x/, '').padStart(digits, '0').slice(-digits);
  const groups = tree.list('/sys/kernel/iommu_groups').map(Number).filter(Number.isInteger);
  const group = tree.linkName(`${folder}/iommu_group`);
  const groupType = group ? tree.readFile(`/sys/kernel/iommu_groups/${group}/type`)?.trim() : undefined;
  const cpus = /^(\d+)-(\d+)$/.exec(attr('local_cpulist') ?? '');
  const spec =
    ctx.spec ??
    parseHostSpec({
      name: 'captured',
      cpu: { vendor: 'other', count: cpus ? Number(cpus[2]) - Number(cpus[1]) + 1 : 1 },
      iommu: { enabled: groups.length > 0, groupType: groupType === 'identity' || groupType === 'DMA-FQ' ? groupType : 'DMA' },
      devices: [],
    });
  const pf: DeviceSpec = {
    address,
    vendor: hex('vendor', 4, 'ffff'),
    device: hex('device', 4, 'ffff'),
    class: hex('class', 6, 'ff0000'),
    revision: hex('revision', 2, '00'),
    subsystem: attr('subsystem_vendor') ? { vendor: hex('subsystem_vendor', 4, '0000'), device: hex('subsystem_device', 4, '0000') } : undefined,
    numaNode: Number(attr('numa_node') ?? '-1'),
    sriov: {
      totalVfs: Number(attr('sriov_totalvfs') ?? '0'),
      numVfs: 0,
      vfDevice: hex('sriov_vf_device', 4, 'ffff'),
      offset: Number(attr('sriov_offset') ?? '1'),
      stride: Number(attr('sriov_stride') ?? '1'),
      vfGroupBase: groups.length > 0 ? Math.max(...groups) + 1 : undefined,
    },
    net: [],
    drm: [],
    omit: [],
  };
  return { spec, pf };
}
