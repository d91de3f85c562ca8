// @passthru/hostfs: one injected root for every host file, path confinement, the write rule.
export { HostFs, HostDir, SYSFS_MAGIC, MAX_ATTRIBUTE_BYTES } from './HostFs';
export type { HostFsOptions, SimulatedKernelWriter } from './HostFs';
export { HostFsError, errnoOf, errnoError } from './HostFsError';
export { sleepSync } from './sleepSync';
