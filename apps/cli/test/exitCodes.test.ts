// One error-to-exit mapping (CliError.toCliError), applied where commands run: each package's
// error base class maps once, and the package error stays as the cause.
import { BaselineError } from '@passthru/baseline';
import { ExportersError } from '@passthru/exporters';
import { FleetError } from '@passthru/fleet';
import { HostFsError } from '@passthru/hostfs';
import { IommuCheckError } from '@passthru/iommu-check';
import { LxdError } from '@passthru/lxd-device-attach';
import { PciDiscoveryError } from '@passthru/pci-discovery';
import { SysfsSimError } from '@passthru/sysfs-sim';
import { VfioBinderError } from '@passthru/vfio-binder';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { CliError, toCliError } from '../src/CliError';

const zodError = (() => {
  try {
    z.object({ n: z.number() }).parse({ n: 'x' });
  } catch (error) {
    return error;
  }
})();

describe('toCliError', () => {
  it.each([
    ['VfioBinderError usage', new VfioBinderError('bad-input', 'Failed parsing target x'), 2],
    ['VfioBinderError refused', new VfioBinderError('refused', 'Failed planning bind'), 1],
    ['VfioBinderError failed', new VfioBinderError('failed', 'Failed binding'), 1],
    ['VfioBinderError partial', new VfioBinderError('partial', 'Failed rolling back'), 3],
    ['LxdError bad-input', new LxdError('attaching', 'x', '', 'bad', { reason: 'bad-input' }), 2],
    ['LxdError not-found', new LxdError('reading', 'instance c1', '/sock', 'not found', { status: 404 }), 2],
    ['LxdError preflight', new LxdError('attaching', 'x', '', 'no', { reason: 'preflight' }), 2],
    ['LxdError conflict', new LxdError('attaching', 'x', '', 'etag', { status: 412 }), 1],
    ['LxdError unreachable', new LxdError('connecting', 'LXD', '/sock', 'ECONNREFUSED', { reason: 'unreachable' }), 1],
    ['LxdError rollback', new LxdError('attaching', 'x', '', 'left', { reason: 'rollback', leftover: ['device gpu0'] }), 3],
    ['IommuCheckError', new IommuCheckError('parsing', 'GRUB defaults', '/etc/default/grub', 'unterminated double quote', { line: 2 }), 2],
    ['PciDiscoveryError', new PciDiscoveryError('reading', 'the pci.ids database', '/x'), 2],
    ['SysfsSimError', new SysfsSimError('capturing', '/', '/out', 'the output folder is not empty'), 2],
    ['ZodError', zodError, 2],
    ['HostFsError', new HostFsError('writing', '/sys/bus/pci/drivers_probe', 'EIO', ''), 1],
    [
      'HostFsError refused (a FIFO where a file goes)',
      Object.assign(new HostFsError('writing', '/out.json', 'EINVAL', 'not a regular file'), { refused: true }),
      2,
    ],
    ['FleetError bad-input', new FleetError('checking', 'the LXD server', '/sock', 'not a cluster member', 'bad-input'), 2],
    ['FleetError conflict', new FleetError('publishing', 'member m1', '/sock', 'kept changing', 'conflict'), 1],
    ['BaselineError bad-input', new BaselineError('bad-input', 'Failed reading the baseline via x: not JSON'), 2],
    ['ExportersError', new ExportersError('Failed writing x via y: ENOSPC'), 1],
    ['a plain Error', new Error('boom'), 1],
    ['a CliError', new CliError('--class must be one of gpu', 2), 2],
  ])('%s: its exit code, the error kept as cause', (_name, error, code) => {
    const mapped = toCliError(error);
    expect(mapped.exitCode).toBe(code);
    if (!(error instanceof CliError)) expect(mapped.cause).toBe(error);
    expect(mapped.message.length).toBeGreaterThan(0);
  });

  it('says what an LXD rollback left to undo', () => {
    expect(toCliError(new LxdError('attaching', 'x', '', 'left', { reason: 'rollback', leftover: ['device gpu0'] })).message).toMatch(
      /left to undo by hand:\n {2}device gpu0/,
    );
  });
});
