// @passthru/hostfs: one injected root for every host file, path confinement, the write rule.
export { HostFs, SYSFS_MAGIC } from './HostFs';
export { HostDir, MAX_ATTRIBUTE_BYTES } from './HostDir';
export type { HostFsOptions, ModprobeRunner, SimulatedKernelWriter } from './HostFs';
export { HostFsError, errnoOf, errnoError } from './HostFsError';
export { sleepSync } from './sleepSync';
export { readInputFile, writeOutputFile } from './regularFile';
