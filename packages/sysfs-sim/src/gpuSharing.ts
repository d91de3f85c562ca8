// How a GPU is shared, as the kernel and NVIDIA's driver lay it out in sysfs:
// - mediated devices (Documentation/driver-api/vfio-mediated-device.rst): the parent's
//   mdev_supported_types/<type>/{name,description,device_api,available_instances,create,devices/};
//   an mdev is a folder <uuid> below its parent with an `mdev_type` link to its type, listed in
//   /sys/bus/mdev/devices and in its type's devices/; the parent appears in /sys/class/mdev_bus;
// - NVIDIA vGPU 17+ (vendor-specific VFIO, no mdev): each VF's nvidia/creatable_vgpu_types
//   ("ID : vGPU Name" lines) and nvidia/current_vgpu_type (0: none).
// The kernel also gives each mdev an IOMMU group of its own; fixtures leave that group out, so
// that every IOMMU group of a fixture lists PCI functions only.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DeviceSpec } from './HostSpec';
import { treePath } from './treePath';

function write(root: string, hostPath: string, content: string, mode = 0o644): void {
  const file = treePath(root, hostPath);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content, { mode });
}

function link(root: string, hostPath: string, target: string): void {
  const file = treePath(root, hostPath);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.rmSync(file, { force: true });
  fs.symlinkSync(path.posix.relative(path.posix.dirname(hostPath), target), file);
}

/** The mdev types, mdevs and NVIDIA vGPU files of one device whose folder is `folder` (a host path). */
export function materializeGpuSharing(root: string, device: DeviceSpec, folder: string): void {
  for (const t of device.mdevTypes ?? []) {
    const typeDir = `${folder}/mdev_supported_types/${t.type}`;
    // The kernel shows `name` only when the driver has one; i915 and NVIDIA always do.
    if (t.name !== undefined) write(root, `${typeDir}/name`, `${t.name}\n`, 0o444);
    if (t.description !== undefined) write(root, `${typeDir}/description`, `${t.description.replace(/\n*$/, '\n')}`, 0o444);
    write(root, `${typeDir}/device_api`, `${t.deviceApi}\n`, 0o444);
    write(root, `${typeDir}/available_instances`, `${t.availableInstances}\n`, 0o444);
    write(root, `${typeDir}/create`, '', 0o200);
    for (const uuid of t.devices) {
      const mdev = `${folder}/${uuid}`;
      link(root, `${mdev}/mdev_type`, typeDir);
      write(root, `${mdev}/remove`, '', 0o200);
      write(root, `${mdev}/uevent`, `MDEV_TYPE=${t.type}\n`);
      link(root, `${typeDir}/devices/${uuid}`, mdev);
      link(root, `/sys/bus/mdev/devices/${uuid}`, mdev);
    }
  }
  if (device.mdevTypes?.length) link(root, `/sys/class/mdev_bus/${device.address}`, folder);
  if (device.nvidiaVgpu) {
    const lines = device.nvidiaVgpu.creatable.map((t) => `${String(t.id).padEnd(5)} : ${t.name}\n`);
    write(root, `${folder}/nvidia/creatable_vgpu_types`, `ID    : vGPU Name\n${lines.join('')}`, 0o444);
    write(root, `${folder}/nvidia/current_vgpu_type`, `${device.nvidiaVgpu.current}\n`);
  }
}
