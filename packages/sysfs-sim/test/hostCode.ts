import { HostFsError } from '@passthru/hostfs';
import { expect } from 'vitest';

/** The errno of the HostFsError `fn` throws, or undefined when it does not throw. */
export function hostCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HostFsError);
    return (error as HostFsError).code;
  }
  return undefined;
}
