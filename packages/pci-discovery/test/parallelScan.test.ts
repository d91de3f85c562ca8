// The parallel scan's contract without a worker module: a worker that cannot start (or dies)
// leaves its entries to the calling thread, and the result is the sequential scan's. The
// threaded path itself runs in the CLI bundle (apps/cli/test/jsonOutputs.test.ts compares
// 1, 2 and 3 threads byte for byte on every fixture and on a 2,038-function host).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { generateLargeHost, materialize } from '@passthru/sysfs-sim';
import { afterAll, describe, expect, it } from 'vitest';
import { scanPciDevices, scanPciDevicesParallel } from '../src/index';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'parallel-scan-'));
materialize(generateLargeHost({ nics: 2, vfsPerNic: 8, gpus: 2 }), root);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('scanPciDevicesParallel', () => {
  const host = new HostFs(root);
  const sequential = scanPciDevices(host);

  it('with workers that cannot start, reads every entry here and gives the sequential scan', async () => {
    const missing = new URL(`file://${path.join(root, 'no-such-worker.mjs')}`);
    const scan = await scanPciDevicesParallel(host, undefined, { workerUrl: missing, threads: 3 });
    expect(sequential.devices.length).toBeGreaterThan(20);
    expect(JSON.stringify(scan)).toBe(JSON.stringify(sequential));
  });

  it('with a worker that claims entries and exits without sending them, the same: they are read here', async () => {
    const claiming = path.join(root, 'claiming-worker.mjs');
    fs.writeFileSync(
      claiming,
      "import { parentPort, workerData } from 'node:worker_threads';\n" +
        "parentPort.once('message', () => { for (let i = 0; i < 3; i++) Atomics.add(workerData.counter, 0, 16); process.exit(0); });\n",
    );
    let shared: { workers: number; readByWorkers: number } | undefined;
    const scan = await scanPciDevicesParallel(host, undefined, { workerUrl: new URL(`file://${claiming}`), threads: 2, onShared: (s) => (shared = s) });
    expect(shared).toMatchObject({ workers: 1, readByWorkers: 0 });
    expect(JSON.stringify(scan)).toBe(JSON.stringify(sequential));
  });

  it('with a worker that throws before claiming anything, the same', async () => {
    const throwing = path.join(root, 'throwing-worker.mjs');
    fs.writeFileSync(throwing, "throw new Error('no scan here');\n");
    const scan = await scanPciDevicesParallel(host, undefined, { workerUrl: new URL(`file://${throwing}`), threads: 2 });
    expect(JSON.stringify(scan)).toBe(JSON.stringify(sequential));
  });
});
