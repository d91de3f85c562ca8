// Issue 22, item 14: the kernel changes sriov_numvfs whole. A process killed (SIGKILL) while the
// simulator makes 128 VFs leaves a tree that the next SimulatedKernel finishes: no VF, no
// virtfn link, the count 0, and the PF ready for the next change.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostFs } from '@passthru/hostfs';
import { afterAll, describe, expect, it } from 'vitest';
import { SimulatedKernel, loadHostSpec, materialize } from '../src/index';

const SPEC = fileURLToPath(new URL('../../../fixtures/specs/sriov-server.yaml', import.meta.url));
const SRC = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const HOSTFS = fileURLToPath(new URL('../../hostfs/src/index.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const PF = '0000:18:00.0';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sriov-kill-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const vfFolders = (root: string) => fs.readdirSync(path.join(root, 'sys/bus/pci/devices')).filter((a) => a.startsWith('0000:18:') && a !== PF);
const virtfnLinks = (root: string) => fs.readdirSync(path.join(root, 'sys/bus/pci/devices', PF)).filter((n) => n.startsWith('virtfn'));

describe('sriov_numvfs under SIGKILL (the simulator)', () => {
  it('a write of 128 killed half way: the next kernel on the tree shows 0 VFs and nothing half made', { timeout: 60_000 }, async () => {
    const root = path.join(work, 'tree');
    materialize(loadHostSpec(SPEC), root);
    const script = path.join(work, 'enable.ts');
    fs.writeFileSync(
      script,
      `import { HostFs } from ${JSON.stringify(HOSTFS)};\nimport { SimulatedKernel } from ${JSON.stringify(SRC)};\n` +
        `const root = ${JSON.stringify(root)};\nconst host = new HostFs(root, { kernel: new SimulatedKernel(root, { logWrites: false }) });\n` +
        `host.writeAttribute('/sys/bus/pci/devices/${PF}/sriov_numvfs', '0');\nhost.writeAttribute('/sys/bus/pci/devices/${PF}/sriov_numvfs', '128');\n`,
    );
    // One process (node with tsx's loader, not the tsx CLI, which would run the script in a child of its own).
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO, stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // Killed once it has made some of the 128 VFs (each costs the simulator many file operations).
    for (let i = 0; i < 3000 && virtfnLinks(root).length < 10; i++) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    await exited;
    const made = virtfnLinks(root).length;
    expect(made, 'the kill came too late to cut the change short').toBeGreaterThan(0);
    expect(made).toBeLessThan(128);
    expect(fs.readFileSync(path.join(root, 'sys/bus/pci/devices', PF, 'sriov_numvfs'), 'utf8').trim()).toBe('0');

    const kernel = new SimulatedKernel(root, { logWrites: false });
    expect(virtfnLinks(root)).toEqual([]);
    expect(vfFolders(root)).toEqual([]);
    expect(fs.readFileSync(path.join(root, 'sys/bus/pci/devices', PF, 'sriov_numvfs'), 'utf8').trim()).toBe('0');
    const host = new HostFs(root, { kernel });
    host.writeAttribute(`/sys/bus/pci/devices/${PF}/sriov_numvfs`, '4');
    expect(virtfnLinks(root)).toHaveLength(4);
  });
});
