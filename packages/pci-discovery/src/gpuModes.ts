// How each GPU can be given to an instance, in LXD's and Incus's `gputype` words, read per GPU
// after the scan: `physical` (the whole function), `mdev` (a mediated vGPU: Intel GVT-g, NVIDIA
// vGPU before Ampere, or on each VF with NVIDIA's older Ampere drivers), `sriov` (a VF of an
// SR-IOV GPU, which LXD picks: the first VF with no driver bound) and `mig` (an NVIDIA MIG
// compute instance, for containers). LXD reads the same files: lxd/resources (mdev types of a
// card and of its VFs) and lxd/device/gpu_mig.go (/proc/driver/nvidia/capabilities/gpuN/mig/giX/ciY/access).
import { HostFsError, type HostFs } from '@passthru/hostfs';
import type * as z from 'zod';
import type { PciDevice } from './PciDevice';
import { readMdevs, readMdevTypes, readVgpuFiles, type MdevType, type MdevsByParent } from './mdevTypes';
import type { NvidiaSmiOutput } from './nvidiaSmi';
import { readNvidiaMig } from './nvidiaMig';
import type { GpuModesSchema, GpuVfSchema } from './schemas';
import { pciDevicePath } from './sysfsPaths';

export const GPU_TYPES = ['physical', 'mdev', 'sriov', 'mig'] as const;
export type GpuType = (typeof GPU_TYPES)[number];

/** A VF of an SR-IOV GPU: its driver and vGPU types. */
export type GpuVf = z.infer<typeof GpuVfSchema>;

/** How one GPU can be given to an instance now (readGpuModesOf), and why not when it cannot. */
export type GpuModes = z.infer<typeof GpuModesSchema>;

/** A display-class function (03xx): what `gpuModes` describes. */
export const isGpu = (d: Pick<PciDevice, 'class'>) => d.class.startsWith('03');

function orNull<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof HostFsError) return fallback;
    throw error;
  }
}

/**
 * Every mdev type of a card, by name: its own and its VFs' (LXD and Incus look on the VFs when
 * the card has no such type), with the highest availability and all mdevs made from it; `on`:
 * the functions where an instance of it is free now; `free`: how many, summed over them.
 */
export function mdevTypesOfCard(address: string, modes: Pick<GpuModes, 'mdevTypes' | 'sriov'>): Map<string, { type: MdevType; on: string[]; free: number }> {
  const all = new Map<string, { type: MdevType; on: string[]; free: number }>();
  const add = (t: MdevType, at: string) => {
    const free = t.availableInstances ?? 0;
    const seen = all.get(t.type);
    if (!seen) {
      all.set(t.type, { type: t, on: free > 0 ? [at] : [], free });
      return;
    }
    if (free > 0) seen.on.push(at);
    seen.free += free;
    const best = free > (seen.type.availableInstances ?? 0) ? t : seen.type;
    seen.type = { ...best, mdevs: [...new Set([...seen.type.mdevs, ...t.mdevs])] };
  };
  for (const t of modes.mdevTypes) add(t, address);
  for (const vf of modes.sriov?.vfs ?? []) for (const t of vf.mdevTypes) add(t, vf.address);
  return all;
}

/** The modes of one GPU (`devices` is the scan it belongs to: its VFs' drivers are read from it). */
export function readGpuModesOf(host: HostFs, d: PciDevice, devices: readonly PciDevice[], smi: NvidiaSmiOutput | null, mdevs = readMdevs(host)): GpuModes {
  return modesOf(host, d, new Map(devices.map((x) => [x.address, x])), smi, mdevs);
}

function modesOf(host: HostFs, d: PciDevice, byAddress: ReadonlyMap<string, PciDevice>, smi: NvidiaSmiOutput | null, mdevs: MdevsByParent): GpuModes {
  const notes: string[] = [];
  const mdevTypes = orNull(() => readMdevTypes(host, d.address, mdevs), []);
  const vgpu = orNull(() => readVgpuFiles(host, d.address), null);
  let sriov: GpuModes['sriov'] = null;
  if (d.sriov?.role === 'pf') {
    const vfs = d.sriov.vfs.map((address) => ({
      address,
      driver: byAddress.get(address)?.driver ?? orNull(() => host.linkName(pciDevicePath(address, 'driver')) ?? null, null),
      mdevTypes: orNull(() => readMdevTypes(host, address, mdevs), []),
      vgpu: orNull(() => readVgpuFiles(host, address), null),
    }));
    sriov = { totalVfs: d.sriov.totalVfs, numVfs: d.sriov.numVfs, freeVfs: vfs.filter((v) => v.driver === null).map((v) => v.address), vfs };
    const vgpuVfs = vfs.some((v) => v.mdevTypes.length > 0 || v.vgpu !== null);
    if (d.sriov.numVfs === 0)
      notes.push(
        `SR-IOV capable (0 of ${d.sriov.totalVfs} VFs enabled): passthru sriov ${d.address} --numvfs N --no-autoprobe makes VFs free for gputype=sriov`,
      );
    else if (sriov.freeVfs.length === 0 && !vgpuVfs) {
      const drivers = [...new Set(vfs.map((v) => v.driver))].join(', ');
      notes.push(
        `every VF has a driver (${drivers}): gputype=sriov takes only a VF with none (make VFs with passthru sriov ${d.address} --numvfs N --no-autoprobe)`,
      );
    }
    if (vfs.some((v) => v.vgpu) && !vfs.some((v) => v.mdevTypes.length))
      notes.push(
        "NVIDIA vGPU types on its VFs come through NVIDIA's own VFIO (nvidia/creatable_vgpu_types, vGPU 17+): LXD and Incus create a vGPU only from mdev_supported_types, so gputype=mdev cannot make these",
      );
  }
  const mig = d.vendorId === '10de' ? readNvidiaMig(host, d.address, smi) : null;
  if (mig?.mode === 'enabled' && mig.computeInstances.length === 0)
    notes.push('MIG is enabled but has no compute instance: create them first (nvidia-smi mig -cgi PROFILE -C)');

  const card = mdevTypesOfCard(d.address, { mdevTypes, sriov });
  const modes: GpuType[] = [];
  if (d.iommuGroup !== null) modes.push('physical');
  if ([...card.values()].some((t) => t.on.length > 0)) modes.push('mdev');
  else if (card.size > 0) notes.push(`no mdev type has a free instance (${[...card.keys()].join(', ')})`);
  if (sriov && sriov.freeVfs.length > 0) modes.push('sriov');
  if (mig && mig.mode !== 'disabled' && mig.computeInstances.length > 0) modes.push('mig');
  return { modes, mdevTypes, sriov, vgpu, mig, notes };
}

/**
 * The modes of GPUs (display class 03xx) of a scan, by address: every GPU of `devices`, or those
 * of `shown`; nvidia-smi's view when there is one (readNvidiaSmi).
 */
export function readGpuModes(
  host: HostFs,
  devices: readonly PciDevice[],
  smi: NvidiaSmiOutput | null = null,
  shown: readonly PciDevice[] = devices,
): Map<string, GpuModes> {
  const out = new Map<string, GpuModes>();
  const gpus = shown.filter(isGpu);
  if (gpus.length === 0) return out;
  const mdevs = orNull(() => readMdevs(host), new Map());
  // One index of the scan for every GPU (8 GPUs of an 8,000-function host: not 64,000 entries).
  const byAddress = new Map(devices.map((x) => [x.address, x]));
  for (const d of gpus) out.set(d.address, modesOf(host, d, byAddress, smi, mdevs));
  return out;
}
