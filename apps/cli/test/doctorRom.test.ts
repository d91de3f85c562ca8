// Issue 26 through the CLI: `doctor --device ADDRESS` adds rom.<address>, read through the tree's
// simulated kernel (the enable write, the read, the disable write); without --device, and in the
// report, no ROM is read and the tree is not written.
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DoctorOutputSchema, ReportSchema } from '../src/commands/outputs';
import { cleanFixtures, cli, fixtureCopy, kernelWrites, repo, treeSnapshot } from './runCli';

afterEach(cleanFixtures);

async function doctorJson(root: string, ...devices: string[]) {
  const r = await cli('--root', root, 'doctor', ...devices.flatMap((d) => ['--device', d]), '--format', 'json');
  return { code: r.code, stderr: r.stderr, report: DoctorOutputSchema.parse(JSON.parse(r.stdout)) };
}

const romOf = (report: { checks: Array<{ id: string }> }, address: string) => report.checks.find((c) => c.id === `rom.${address}`);

describe('passthru doctor --device: rom.<address>', () => {
  it('gpu-efi-rom: the RTX A4000 PASSes, the I210 PASSes as information; exit 0; each ROM enabled only while read', async () => {
    const root = fixtureCopy('gpu-efi-rom');
    const { code, stderr, report } = await doctorJson(root, '01:00.0', '03:00.0');
    expect(code, stderr).toBe(0);
    expect(romOf(report, '0000:01:00.0')).toMatchObject({ status: 'PASS', summary: expect.stringMatching(/holds an EFI x64 driver image for 10de:24b0/) });
    expect(romOf(report, '0000:03:00.0')).toMatchObject({ status: 'PASS', summary: expect.stringMatching(/only to network-boot from this NIC/) });
    expect(kernelWrites(root).map((w) => `${path.basename(path.dirname(w.path))} ${w.data} ${w.result}`)).toEqual([
      '0000:01:00.0 1 ok',
      '0000:01:00.0 0 ok',
      '0000:03:00.0 1 ok',
      '0000:03:00.0 0 ok',
    ]);
  });

  it('gpu-legacy-rom: the legacy-only HD 7970 WARNs (ready-with-warnings, exit 0) with the romfile fix for LXD and Incus; the table prints it', async () => {
    const root = fixtureCopy('gpu-legacy-rom');
    const { code, report } = await doctorJson(root, '0b:00.0');
    expect(code).toBe(0);
    expect(report.verdict).toBe('ready-with-warnings');
    const rom = romOf(report, '0000:0b:00.0') as { status: string; summary: string; remediation?: string };
    expect(rom.status).toBe('WARN');
    expect(rom.summary).toMatch(/x86 legacy code only, no EFI \(GOP\) image: a UEFI guest cannot use it, so the VM's display stays black/);
    expect(rom.remediation).toContain(`lxc config set VM raw.qemu.conf=$'[device "dev-lxd_gpu_0b_00_0"]\\nromfile = "/usr/share/qemu/passthru/1002-6798.rom"'`);
    expect(rom.remediation).toContain(
      `incus config set VM raw.qemu.conf=$'[device "dev-incus_gpu_0b_00_0"]\\nromfile = "/usr/share/qemu/passthru/1002-6798.rom"'`,
    );
    const table = await cli('--root', root, 'doctor', '--device', '0b:00.0');
    expect(table.stdout).toMatch(/WARN\s+rom\.0000:0b:00\.0\s+The option ROM of 0000:0b:00\.0 holds x86 legacy code only/);
    expect(table.stdout).toContain('    2. Check it: passthru rom show 0000:0b:00.0 --file 1002-6798.rom (it must say that a UEFI guest on x64 runs it).');
  });

  it('gpu-legacy-rom: the boot GPU whose shadowed ROM reads as garbage WARNs and says why', async () => {
    const { report } = await doctorJson(fixtureCopy('gpu-legacy-rom'), '0a:00.0');
    expect(romOf(report, '0000:0a:00.0')).toMatchObject({
      status: 'WARN',
      summary: expect.stringMatching(
        /reads as garbage \(image 0 at 0x0: no 0x55AA signature\): it is the boot GPU \(boot_vga 1\), whose ROM the firmware shadowed/,
      ),
    });
  });

  it('without --device no ROM is read: doctor and report leave a committed tree exactly as it was, and the report has no rom check', async () => {
    const root = path.join(repo, 'fixtures/hosts/gpu-efi-rom');
    const before = treeSnapshot(root);
    const doctor = await doctorJson(root);
    expect(doctor.report.checks.filter((c) => c.id.startsWith('rom.'))).toEqual([]);
    const report = ReportSchema.parse(JSON.parse((await cli('--root', root, 'report', '--format', 'json')).stdout));
    const deviceChecks = report.devices.flatMap((d) => d.checks.map((c) => c.id));
    expect(deviceChecks).toContain('group.viable.0000:01:00.0');
    expect(deviceChecks.filter((id) => id.startsWith('rom.'))).toEqual([]);
    expect(treeSnapshot(root)).toEqual(before);
  });
});
