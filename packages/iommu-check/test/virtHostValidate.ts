// Runs libvirt's virt-host-validate (Debian libvirt-clients) against a fixture tree: inside a
// private mount namespace the tree's sys/ is bind-mounted read-only over /sys and its proc files
// over /proc/cmdline and /proc/cpuinfo, so the tool reads the fixture with no flags at all.
// Needs root (unshare -m) and the binary; `available()` says whether both are there.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type VhvStatus = 'PASS' | 'WARN' | 'FAIL' | 'NOTE';

export interface VhvLine {
  /** "for device assignment IOMMU support" */
  check: string;
  status: VhvStatus;
  /** The text in parentheses after the status, if any. */
  message?: string;
}

export interface VhvResult {
  lines: VhvLine[];
  /** "Checking for device assignment IOMMU support" (the ACPI DMAR / IVRS table). */
  firmware?: VhvLine;
  /** "Checking if IOMMU is enabled by kernel" (printed only when the firmware line passed). */
  kernel?: VhvLine;
  stdout: string;
  stderr: string;
}

export function virtHostValidateAvailable(): { ok: boolean; why?: string } {
  if (process.getuid?.() !== 0) return { ok: false, why: 'not root (unshare -m and bind mounts need it)' };
  const which = spawnSync('sh', ['-c', 'command -v virt-host-validate && command -v unshare'], { encoding: 'utf8' });
  if (which.status !== 0) return { ok: false, why: 'virt-host-validate or unshare missing (apt-get install -y --no-install-recommends libvirt-clients)' };
  return { ok: true };
}

const LINE = /^\s*(\S+): Checking (.*?)\s*: (PASS|WARN|FAIL|NOTE)(?: \((.*)\))?\s*$/;

/** Pure: virt-host-validate's output -> lines (colour codes stripped). */
export function parseVirtHostValidate(text: string): VhvLine[] {
  const out: VhvLine[] = [];
  for (const raw of text.replace(/\u001b\[[0-9;]*m/g, '').split('\n')) {
    const m = LINE.exec(raw);
    if (!m) continue;
    const line: VhvLine = { check: m[2]!, status: m[3] as VhvStatus };
    if (m[4] !== undefined) line.message = m[4];
    out.push(line);
  }
  return out;
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** virt-host-validate qemu with `tree` (a fixture root, or '/' for the live host) as the host. */
export function runVirtHostValidate(tree: string): VhvResult {
  let script = 'virt-host-validate qemu';
  if (path.resolve(tree) !== '/') {
    const t = path.resolve(tree);
    const mounts = [`mount --bind -o ro ${q(`${t}/sys`)} /sys`];
    for (const f of ['cmdline', 'cpuinfo']) if (fs.existsSync(`${t}/proc/${f}`)) mounts.push(`mount --bind ${q(`${t}/proc/${f}`)} /proc/${f}`);
    script = `set -e; ${mounts.join('; ')}; set +e; virt-host-validate qemu`;
  }
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  const stdout = r.stdout ?? '';
  const lines = parseVirtHostValidate(stdout);
  const result: VhvResult = { lines, stdout, stderr: r.stderr ?? '' };
  const fw = lines.find((l) => l.check === 'for device assignment IOMMU support');
  const kernel = lines.find((l) => l.check === 'if IOMMU is enabled by kernel');
  if (fw) result.firmware = fw;
  if (kernel) result.kernel = kernel;
  if (lines.length === 0) throw new Error(`virt-host-validate printed no check lines for ${tree} (exit ${r.status}): ${result.stderr.trim() || stdout.trim()}`);
  return result;
}
