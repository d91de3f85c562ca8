import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanFixtures, cli, fixtureCopy } from './runCli';

afterEach(cleanFixtures);

interface Change {
  path: string;
  before: string | null;
  after: string;
  diff: string;
}

const KERNELSTUB = '/etc/kernelstub/configuration';

/** amd-shared-group's GRUB passes amd_iommu=on (not a valid value): doctor and persist both plan its removal. */
function hostWithKernelstub(): string {
  const root = fixtureCopy('amd-shared-group');
  const config = {
    default: { kernel_options: ['quiet', 'splash'], esp_path: '/boot/efi' },
    user: { kernel_options: ['quiet', 'splash', 'amd_iommu=on'], esp_path: '/boot/efi', config_rev: 3 },
  };
  fs.mkdirSync(path.join(root, path.dirname(KERNELSTUB)), { recursive: true });
  fs.writeFileSync(path.join(root, KERNELSTUB), `${JSON.stringify(config, null, 2)}\n`);
  return root;
}

async function persistDryRun(root: string, ...extra: string[]): Promise<Change[]> {
  const r = await cli('--root', root, 'persist', '06:00.0', '--dry-run', '--format', 'json', ...extra);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout).plan.changes as Change[];
}

describe('one patch for one edit: doctor, persist --dry-run and persist show the same unified diff', () => {
  it('GRUB and kernelstub: the patch persist plans is the one doctor prints, in JSON and in the table', async () => {
    const root = hostWithKernelstub();
    const doctorJson = await cli('--root', root, 'doctor', '--format', 'json');
    const remediations = (JSON.parse(doctorJson.stdout).checks as Array<{ remediation?: string }>).map((c) => c.remediation ?? '').join('\n');
    const doctorText = (await cli('--root', root, 'doctor')).stdout;
    for (const loader of ['grub', 'kernelstub']) {
      const changes = await persistDryRun(root, '--bootloader', loader);
      const cmdline = changes.find((c) => c.path === (loader === 'grub' ? '/etc/default/grub' : KERNELSTUB))!;
      expect(cmdline.diff).toMatch(/^--- etc\/.*\n\+\+\+ etc\/.*\n@@ /);
      expect(remediations).toContain(cmdline.diff.trimEnd());
      // The table indents remediation text; the patch is the same, line for line.
      expect(doctorText).toContain(
        cmdline.diff
          .trimEnd()
          .split('\n')
          .map((l) => `    ${l}`)
          .join('\n'),
      );
      const text = await cli('--root', root, 'persist', '06:00.0', '--dry-run', '--bootloader', loader);
      expect(text.stdout).toContain(cmdline.diff.trimEnd());
    }
  });

  it('the whole persist plan, as one patch, applies with GNU patch -p0 and gives what persist writes', async () => {
    const root = hostWithKernelstub();
    const changes = await persistDryRun(root, '--bootloader', 'kernelstub');
    expect(changes.map((c) => c.path)).toContain(KERNELSTUB);
    const patched = fixtureCopy('amd-shared-group');
    fs.mkdirSync(path.join(patched, path.dirname(KERNELSTUB)), { recursive: true });
    fs.copyFileSync(path.join(root, KERNELSTUB), path.join(patched, KERNELSTUB));
    const r = spawnSync('patch', ['-p0', '--batch', '--forward', '--no-backup-if-mismatch'], {
      cwd: patched,
      input: changes.map((c) => c.diff).join(''),
      encoding: 'utf8',
    });
    expect(r.error, 'GNU patch must be installed (Debian package "patch")').toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const written = await cli('--root', root, 'persist', '06:00.0', '--bootloader', 'kernelstub');
    expect(written.code).toBe(0);
    for (const c of changes) {
      expect(fs.readFileSync(path.join(patched, c.path), 'utf8')).toBe(c.after);
      expect(fs.readFileSync(path.join(root, c.path), 'utf8')).toBe(c.after);
    }
  });
});
