// @passthru/hostfs: one injected root for every host file, path confinement, the write rule.
export { HostFs } from './HostFs';
export { PassthruError, type ErrorKind } from './PassthruError';
export { SYSFS_MAGIC } from './kernel';
export { HostDir, MAX_ATTRIBUTE_BYTES } from './HostDir';
export type { HostFsOptions } from './HostFs';
export type { ModprobeRunner, SimulatedKernelWriter } from './kernel';
export { HostFsError, errnoOf, errnoError } from './HostFsError';
export { sleepSync } from './sleepSync';
export { randomHex } from './randomHex';
export { readInputFile, writeOutputFile } from './regularFile';
export { tryReadText, tryReadBytes, tryList, type ReadResult } from './tryRead';
