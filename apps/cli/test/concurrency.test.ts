// Two binds at once on one host, as two real processes of the bundled CLI: one holds the host
// lock (its first write hangs 3 s through an injected fault), the other refuses with the
// lock holder's pid; the tree ends consistent.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SimulatedKernel } from '@passthru/sysfs-sim';
import { afterEach, expect, it } from 'vitest';
import { cleanFixtures, driverOf, fixtureCopy, repo } from './runCli';

afterEach(cleanFixtures);

function passthru(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repo, 'apps/cli/bin/passthru.js'), ...args], { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

it('two binds at once: one binds, the other refuses the lock; the tree ends consistent', async () => {
  const root = fixtureCopy('intel-workstation');
  new SimulatedKernel(root).injectFault({ path: '/sys/bus/pci/devices/0000:01:00.0/driver_override', nth: 1, hang: 3000 });
  const first = passthru('--root', root, 'bind', '01:00.0');
  // Start the second once the first holds the lock (its first write then hangs 3 s).
  const lock = path.join(root, 'run/passthru/bind.lock');
  for (let waited = 0; !fs.existsSync(lock) && waited < 20_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  expect(fs.existsSync(lock)).toBe(true);
  const second = await passthru('--root', root, 'bind', '01:00.1');
  const done = await first;
  expect(done.code).toBe(0);
  expect(second.code).toBe(1);
  expect(second.stderr).toMatch(/another passthru run \(pid \d+\) is binding or restoring/);
  for (const a of ['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.3']) expect(driverOf(root, a)).toBe('vfio-pci');
  expect(SimulatedKernel.writeLog(root).filter((w) => w.result !== 'ok')).toEqual([]);
});
