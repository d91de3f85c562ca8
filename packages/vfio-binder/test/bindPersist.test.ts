// Issue 22: `bind --persist` is one transaction. Its boot configuration is planned and every file
// checked before the bind's first write; each step failing in turn (a bind write, each persist
// file, its backup, the record) leaves the host as it was: the bind undone, the files put back.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { afterEach, describe, expect, it } from 'vitest';
import { bindAndPersist } from '../src/bind/bindAndPersist';
import { persistDevices } from '../src/persist/persistDevices';
import { PERSIST_RECORD } from '../src/persist/record';
import type { VfioBinderError } from '../src/VfioBinderError';
import { cleanSimHosts, driverOf, instant, simHost, state, targets } from './simHost';
import { diffSnapshots, snapshotTree } from './treeSnapshot';

afterEach(cleanSimHosts);
const GPU = ['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.3'];

/** A HostFs whose writeFile of one path fails as a full disk would, after every check passed. */
class FailingWrites extends HostFs {
  failOn = '';
  override writeFile(hostPath: string, data: string | Buffer, mode?: number): void {
    if (hostPath === this.failOn) throw Object.assign(new Error(`ENOSPC: no space left on device, write '${hostPath}'`), { code: 'ENOSPC' });
    super.writeFile(hostPath, data, mode);
  }
}

function workstation() {
  const { root, kernel } = simHost('intel-workstation', 'bind-persist');
  const host = new FailingWrites(root, { kernel });
  // An existing file persist edits, so a backup is among the writes.
  host.writeFile('/etc/initramfs-tools/modules', 'loop\n');
  return { root, host, kernel };
}

const run = (host: HostFs) => bindAndPersist(host, state(host), { targets: targets('01:00.0'), persist: { stamp: 'T' } }, instant);

async function failure(promise: Promise<unknown>): Promise<VfioBinderError> {
  try {
    await promise;
  } catch (error) {
    return error as VfioBinderError;
  }
  throw new Error('expected a failure');
}

describe('bind --persist: one transaction', () => {
  it('binds the group and writes the boot configuration', async () => {
    const { host } = workstation();
    const outcome = await run(host);
    expect(outcome.bind.status).toBe('applied');
    expect(outcome.persist!.status).toBe('written');
    for (const a of GPU) expect(driverOf(host, a)).toBe('vfio-pci');
    expect(host.readText('/etc/modprobe.d/passthru-vfio.conf')).toMatch(/^options vfio-pci ids=/m);
  });

  it('a boot configuration that cannot be written (/etc/modprobe.d a file) refuses before the bind: usage, nothing written', async () => {
    const { root, host } = workstation();
    fs.rmSync(path.join(root, 'etc/modprobe.d'), { recursive: true, force: true });
    fs.writeFileSync(path.join(root, 'etc/modprobe.d'), 'not a folder');
    const before = snapshotTree(root);
    const error = await failure(run(host));
    expect(error.kind).toBe('bad-input');
    expect(error.message).toMatch(/^Failed planning persist via \/etc\/modprobe\.d\/passthru-vfio\.conf: .*ENOTDIR.*; nothing was written$/);
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
  });

  it('the planned writes are the ones the fault matrix covers', async () => {
    const { host } = workstation();
    const { plan } = await persistDevices(host, state(host), { targets: targets('01:00.0'), dryRun: true, stamp: 'T' });
    expect([...plan.changes.flatMap((c) => (c.backup ? [c.backup, c.path] : [c.path])), PERSIST_RECORD]).toEqual(PERSIST_WRITES);
  });

  const PERSIST_WRITES = ['/etc/modprobe.d/passthru-vfio.conf', '/etc/initramfs-tools/modules.passthru-T.bak', '/etc/initramfs-tools/modules', PERSIST_RECORD];

  it.each(PERSIST_WRITES)('%s fails after the bind: the bind is undone and every file put back', async (file) => {
    const { root, host } = workstation();
    const before = snapshotTree(root);
    host.failOn = file;
    const error = await failure(run(host));
    expect(error.kind).toBe('failed');
    expect(error.message).toMatch(
      new RegExp(`^Failed persisting via ${file.replace(/[.]/g, '\\.')}: .*ENOSPC.*; the bind was undone: ${GPU.join(', ')} are back on their drivers$`),
    );
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
  });

  it('a bind write fails: the bind rolls back and nothing of persist is written', async () => {
    const { root, host, kernel } = workstation();
    const before = snapshotTree(root);
    kernel.injectFault({ path: '/sys/bus/pci/drivers_probe', data: '0000:01:00.2', nth: 1, fail: 'EIO' });
    const outcome = await run(host);
    expect(outcome.bind.status).toBe('rolled-back');
    expect(outcome.persist).toBeUndefined();
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);
  });
});
