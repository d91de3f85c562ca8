// Mediated devices (Documentation/driver-api/vfio-mediated-device.rst) and NVIDIA's vGPU files.
// A parent device lists what it can make under mdev_supported_types/<type>/: `name` (optional),
// `description`, `device_api` (vfio-pci for a GPU), `available_instances` (how many more can be
// made now: it falls as mdevs are created) and `devices/` (the mdevs made from it). Each mdev is
// /sys/bus/mdev/devices/<uuid>, a folder below its parent with an `mdev_type` link to its type.
// NVIDIA vGPU 17+ has no mdev: each VF of the GPU shows nvidia/creatable_vgpu_types ("ID : vGPU
// Name" lines of what can be made on it now) and nvidia/current_vgpu_type (0: none).
import * as path from 'node:path';
import { HostFsError, type HostFs } from '@passthru/hostfs';
import type * as z from 'zod';
import { PCI_ADDRESS_RE } from './pciAddress';
import type { MdevTypeSchema, VgpuFilesSchema } from './schemas';
import { MDEV_DEVICES, pciDevicePath } from './sysfsPaths';

/** One of a device's mdev_supported_types, with the mdevs made from it. */
export type MdevType = z.infer<typeof MdevTypeSchema>;

/** A function's NVIDIA vGPU 17+ files (nvidia/creatable_vgpu_types, current_vgpu_type). */
export type VgpuFiles = z.infer<typeof VgpuFilesSchema>;

/** The mdevs of the host: parent address -> type -> UUIDs, from /sys/bus/mdev/devices. */
export type MdevsByParent = Map<string, Map<string, string[]>>;

const optional = (host: HostFs, file: string) => {
  try {
    return host.readAttributeIfExists(file, 64 * 1024);
  } catch (error) {
    if (error instanceof HostFsError) return undefined;
    throw error;
  }
};

/** Every mdev under /sys/bus/mdev/devices, by parent and type (an mdev whose links cannot be followed is left out). */
export function readMdevs(host: HostFs): MdevsByParent {
  const out: MdevsByParent = new Map();
  for (const uuid of host.list(MDEV_DEVICES)) {
    let folder: string;
    try {
      folder = host.realHostPath(`${MDEV_DEVICES}/${uuid}`);
    } catch (error) {
      if (error instanceof HostFsError) continue;
      throw error;
    }
    const parent = path.posix.basename(path.posix.dirname(folder));
    const type = host.linkName(`${MDEV_DEVICES}/${uuid}/mdev_type`);
    if (!PCI_ADDRESS_RE.test(parent) || !type) continue;
    const types = out.get(parent) ?? new Map<string, string[]>();
    types.set(type, [...(types.get(type) ?? []), uuid]);
    out.set(parent, types);
  }
  return out;
}

/** The mdev types of one device, sorted by name, each with the mdevs made from it. */
export function readMdevTypes(host: HostFs, address: string, mdevs: MdevsByParent = readMdevs(host)): MdevType[] {
  const dir = pciDevicePath(address, 'mdev_supported_types');
  return host.list(dir).map((type) => {
    const available = optional(host, `${dir}/${type}/available_instances`);
    const made = [...host.list(`${dir}/${type}/devices`), ...(mdevs.get(address)?.get(type) ?? [])];
    return {
      type,
      name: optional(host, `${dir}/${type}/name`) ?? null,
      description: optional(host, `${dir}/${type}/description`)?.trim() ?? null,
      deviceApi: optional(host, `${dir}/${type}/device_api`) ?? null,
      availableInstances: available !== undefined && /^\d+$/.test(available) ? Number(available) : null,
      mdevs: [...new Set(made)].sort(),
    };
  });
}

/** `creatable_vgpu_types`: `1155  : NVIDIA L4-1B` lines (a header line `ID : vGPU Name` is skipped). */
export function parseCreatableVgpuTypes(text: string): VgpuFiles['creatable'] {
  return text.split('\n').flatMap((line) => {
    const m = /^\s*(\d+)\s*:\s*(.*\S)\s*$/.exec(line);
    return m ? [{ id: Number(m[1]), name: m[2]! }] : [];
  });
}

/** A function's nvidia/ vGPU files, or null when it has none. */
export function readVgpuFiles(host: HostFs, address: string): VgpuFiles | null {
  const dir = pciDevicePath(address, 'nvidia');
  const creatable = optional(host, `${dir}/creatable_vgpu_types`);
  const current = optional(host, `${dir}/current_vgpu_type`);
  if (creatable === undefined && current === undefined) return null;
  return {
    creatable: creatable === undefined ? [] : parseCreatableVgpuTypes(creatable),
    current: current !== undefined && /^\d+$/.test(current) ? Number(current) : null,
  };
}
