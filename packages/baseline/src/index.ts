// @passthru/baseline: a record of everything passthrough depends on (addresses with identities,
// groups and members, drivers, reset methods, kernel and firmware) and the diff that says which
// changes after an upgrade break a binding or a VM's device.
export {
  BaselineSchema,
  BaselineDeviceSchema,
  BaselineChangeSchema,
  BaselineDiffSchema,
  type Baseline,
  type BaselineDevice,
  type BaselineChange,
  type BaselineDiff,
} from './Baseline';
export { BaselineError } from './BaselineError';
export { takeBaseline, readBaselineFile, writeBaselineFile } from './takeBaseline';
export { diffBaselines } from './diffBaselines';
