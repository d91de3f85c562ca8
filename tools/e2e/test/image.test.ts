// The image as a user runs it (README, tools/image/daemonset.yaml): `docker run` with a host
// mounted read-only at /host, entrypoint passthru, no network.
import * as path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { FIXTURES, IMAGE, REPO } from '../src/hostContainer';
import type { DoctorJson } from '../src/passthruJson';

const docker = (args: string[]) => execa('docker', ['run', '--rm', '--network', 'none', ...args], { reject: false });

describe(`the image ${IMAGE}`, () => {
  it('passthru --version prints the CLI package version', async () => {
    const { version } = (await import(path.join(REPO, 'apps/cli/package.json'), { with: { type: 'json' } })).default as { version: string };
    const r = await docker([IMAGE, '--version']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('doctor --root /host on a ready fixture exits 0 with verdict ready', async () => {
    const r = await docker(['-v', `${path.join(FIXTURES, 'intel-workstation')}:/host:ro`, IMAGE, 'doctor', '--root', '/host', '--format', 'json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as DoctorJson).verdict).toBe('ready');
  });

  it('doctor --root /host on a fixture with the IOMMU off exits 1 and says why (table output)', async () => {
    const r = await docker(['-v', `${path.join(FIXTURES, 'intel-iommu-off')}:/host:ro`, IMAGE, 'doctor', '--root', '/host']);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/iommu\.kernel/);
    expect(r.stdout).toMatch(/intel_iommu=on/);
  });

  it('with no arguments runs the image default, doctor --root /host', async () => {
    const r = await docker(['-v', `${path.join(FIXTURES, 'intel-workstation')}:/host:ro`, IMAGE]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/iommu\.kernel/);
  });
});
