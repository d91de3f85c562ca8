/**
 * Blocks the thread for `ms` without spinning (a sysfs write(2) that does not return yet, a
 * verify poll, a lock wait): the default `sleep` of whoever injects one, so tests pass their own.
 */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
