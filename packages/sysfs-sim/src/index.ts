// @passthru/sysfs-sim: host specs -> trees on disk, kernel write semantics, fault injection,
// large-host generator, live-host capture. This is the package's whole face: what other
// packages, the CLI, tools/ and users call; the rest (tree building blocks, the kernel's
// modules under ./kernel/, sidecar file names) is internal, and tests import it by path.
export { SysfsSimError } from './SysfsSimError';
export { parseHostSpec } from './HostSpec';
export { loadHostSpec } from './loadHostSpec';
export type { HostSpec, HostSpecInput, DeviceSpec, DriverSpec } from './HostSpec';
export { materialize, allDevices } from './materialize';
export { SimulatedKernel } from './SimulatedKernel';
export type { KernelWrite, SimulatedKernelOptions } from './SimulatedKernel';
export type { FaultSpec, InjectedFault } from './kernel/faults';
export type { DynamicId } from './kernel/IdTables';
export { generateLargeHost } from './generateLargeHost';
export type { LargeHostOptions } from './generateLargeHost';
export { capture } from './capture';
export type { CaptureOptions, CaptureResult } from './capture';
