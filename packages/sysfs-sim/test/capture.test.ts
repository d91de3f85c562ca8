import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { capture, generateLargeHost, materialize, SysfsSimError } from '../src/index';
import { zeroSerialNumbers } from '../src/redact';
import { lspci, pcilibLines, type LspciDevice } from './lspciOracle';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sysfs-sim-capture-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const key = (d: LspciDevice) => ({
  slot: d.slot,
  vendor: d.vendor,
  device: d.device,
  class: d.class,
  revision: d.revision,
  driver: d.driver,
  iommuGroup: d.iommuGroup,
});
const sorted = (devices: LspciDevice[]) => devices.map(key).sort((a, b) => a.slot.localeCompare(b.slot));

function files(dir: string): Map<string, Buffer | string> {
  const out = new Map<string, Buffer | string>();
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else if (entry.isSymbolicLink()) out.set(child, `-> ${fs.readlinkSync(path.join(dir, child))}`);
      else out.set(child, fs.readFileSync(path.join(dir, child)));
    }
  };
  walk('');
  return out;
}

describe('capture', () => {
  it('captures the live host so lspci on the capture agrees with lspci on the host', () => {
    // Needs a host with PCI devices (every machine this project's CI runs on has some).
    expect(fs.readdirSync('/sys/bus/pci/devices').length, 'no PCI devices under /sys/bus/pci/devices').toBeGreaterThan(0);
    const out = path.join(tmp, 'live');
    const result = capture('/', out);
    const live = lspci();
    const captured = lspci(out);
    expect(pcilibLines(captured.stderr)).toEqual([]);
    expect(result.devices).toBe(live.devices.length);
    expect(result.files).toBeGreaterThan(result.devices * 5);
    expect(sorted(captured.devices)).toEqual(sorted(live.devices));
    // Privacy: no vpd, no DMI serials or UUIDs anywhere in the capture.
    const names = [...files(out).keys()];
    expect(names.filter((n) => /(^|\/)(vpd|\w*_serial|product_uuid)$/.test(n))).toEqual([]);
    expect(fs.readFileSync(path.join(out, 'proc/cmdline'), 'utf8')).toBe(fs.readFileSync('/proc/cmdline', 'utf8'));
    for (const line of fs.readFileSync(path.join(out, 'proc/cpuinfo'), 'utf8').split('\n').filter(Boolean)) {
      expect(line).toMatch(/^(processor|vendor_id|model name|flags)\s*:/);
    }
  });

  // The GPU fixtures of issue 26 too: Resizable BAR sizes, /proc/iomem, mdev types and mdevs,
  // NVIDIA vGPU files, MIG's procfs and captured nvidia-smi answers.
  it.each([
    'intel-workstation',
    'sriov-server',
    'vmd-gaps',
    'amd-shared-group',
    'intel-iommu-off',
    'gpu-rebar-32g',
    'gpu-boot-efifb',
    'intel-gvtg',
    'sriov-gpu',
    'nvidia-mig',
  ])('reproduces the committed fixture %s (all but MAC addresses and the spec)', (name) => {
    const source = path.join(repo, 'fixtures/hosts', name);
    const out = path.join(tmp, `fixture-${name}`);
    const result = capture(source, out);
    expect(result.skipped).toEqual([]);
    expect(sorted(lspci(out).devices)).toEqual(sorted(lspci(source).devices));
    const want = files(source);
    const have = files(out);
    const dropped = [...want.keys()].filter((k) => !have.has(k));
    // Never an option ROM: reading one takes a write (the enable), and a capture writes nothing.
    expect(dropped.filter((k) => !/^\.sysfs-sim\/|\/net\/[^/]+\/address$|\/rom$/.test(k))).toEqual([]);
    expect([...have.keys()].filter((k) => !want.has(k))).toEqual([]);
    const differs = [...have.keys()].filter((k) => !Buffer.from(have.get(k)!).equals(Buffer.from(want.get(k)!)));
    // A GPU's UUID is a serial number: zeroed, the rest of NVIDIA's `information` kept.
    const uuids = differs.filter((k) => /^proc\/driver\/nvidia\/gpus\/[^/]+\/information$/.test(k));
    expect(differs.filter((k) => !uuids.includes(k))).toEqual([]);
    const withoutUuid = (b: Uint8Array) =>
      Buffer.from(b)
        .toString()
        .replace(/GPU-[0-9a-f-]+/g, 'GPU-');
    for (const k of uuids) {
      expect(Buffer.from(have.get(k)!).toString()).toContain('GPU UUID: \t GPU-00000000-0000-0000-0000-000000000000');
      expect(withoutUuid(have.get(k)!)).toBe(withoutUuid(want.get(k)!));
    }
    expect(uuids.length).toBe(name === 'nvidia-mig' ? 2 : 0);
  });

  it('zeroes DSN serial numbers in config and skips unreadable files without failing', () => {
    const source = path.join(tmp, 'dsn-source');
    materialize(generateLargeHost({ nics: 1, vfsPerNic: 0, gpus: 0, name: 'dsn-host' }), source);
    const nic = fs.realpathSync(path.join(source, 'sys/bus/pci/devices/0000:01:00.0'));
    const config = fs.readFileSync(path.join(nic, 'config'));
    // Append a DSN capability to the end of the extended chain.
    let offset = 0x100;
    while ((config.readUInt32LE(offset) >>> 20) & 0xffc) offset = (config.readUInt32LE(offset) >>> 20) & 0xffc;
    config.writeUInt32LE(config.readUInt32LE(offset) | (0x400 << 20), offset);
    config.writeUInt32LE(0x0003 | (1 << 16), 0x400);
    config.write('SERIAL01', 0x404, 'latin1');
    fs.writeFileSync(path.join(nic, 'config'), config);
    fs.writeFileSync(path.join(nic, 'vpd'), 'PN SN=SECRET');
    fs.mkdirSync(path.join(nic, 'label'), { recursive: true }); // EISDIR on read
    const out = path.join(tmp, 'dsn-out');
    const result = capture(source, out);
    const copied = fs.readFileSync(
      path.join(out, fs.realpathSync(path.join(source, 'sys/bus/pci/devices/0000:01:00.0')).slice(fs.realpathSync(source).length), 'config'),
    );
    expect(copied.subarray(0x404, 0x40c)).toEqual(Buffer.alloc(8));
    expect(copied.readUInt32LE(0x400) & 0xffff).toBe(0x0003);
    expect(copied.subarray(0, 0x400)).toEqual(config.subarray(0, 0x400));
    expect(zeroSerialNumbers(config).subarray(0x404, 0x40c)).toEqual(Buffer.alloc(8));
    expect([...files(out).keys()].some((k) => k.endsWith('/vpd'))).toBe(false);
    expect(result.skipped).toEqual([expect.stringMatching(/0000:01:00\.0\/label: EISDIR$/)]);
  });

  it('refuses a non-empty output folder', () => {
    const out = path.join(tmp, 'busy');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'x'), '');
    expect(() => capture(path.join(repo, 'fixtures/hosts/intel-workstation'), out)).toThrow(/not empty/);
  });

  it('refuses an output path that is a file, lies under a file, or is empty, and creates nothing', () => {
    const fixture = path.join(repo, 'fixtures/hosts/intel-workstation');
    const file = path.join(tmp, 'a-file');
    fs.writeFileSync(file, 'x');
    expect(() => capture(fixture, file)).toThrow(SysfsSimError);
    expect(() => capture(fixture, file)).toThrow(`Failed capturing ${fixture} via ${file}: the output path exists and is not a folder`);
    expect(() => capture(fixture, path.join(file, 'out'))).toThrow(/the output path cannot be used: ENOTDIR/);
    expect(() => capture(fixture, '')).toThrow(/the output folder must be named/);
    expect(fs.readFileSync(file, 'utf8')).toBe('x');
  });
});

describe('capture never leaves the root (issue 22, item 8)', () => {
  it('skips what a symlink out of the root names (EXDEV, listed), keeps each file its own mode, and reads a FIFO as empty', () => {
    const source = path.join(tmp, 'hostile-source');
    materialize(generateLargeHost({ nics: 1, vfsPerNic: 0, gpus: 0, name: 'hostile-host' }), source);
    const secret = path.join(tmp, 'secret.txt');
    fs.writeFileSync(secret, 'SECRET OUTSIDE THE ROOT\n');
    fs.rmSync(path.join(source, 'proc/cmdline'), { force: true });
    fs.symlinkSync(secret, path.join(source, 'proc/cmdline'));
    const nic = fs.realpathSync(path.join(source, 'sys/bus/pci/devices/0000:01:00.0'));
    fs.rmSync(path.join(nic, 'numa_node'));
    fs.symlinkSync(secret, path.join(nic, 'numa_node'));
    fs.rmSync(path.join(nic, 'local_cpulist'), { force: true });
    execFileSync('mkfifo', [path.join(nic, 'local_cpulist')]);
    fs.mkdirSync(path.join(source, 'etc/default'), { recursive: true });
    fs.writeFileSync(path.join(source, 'etc/default/grub.real'), 'GRUB_CMDLINE_LINUX=""\n', { mode: 0o600 });
    fs.chmodSync(path.join(source, 'etc/default/grub.real'), 0o600);
    fs.symlinkSync('grub.real', path.join(source, 'etc/default/grub'));
    fs.mkdirSync(path.join(source, 'etc/modprobe.d'), { recursive: true });
    fs.writeFileSync(path.join(source, 'etc/modprobe.d/private.conf'), 'options x y=1\n', { mode: 0o600 });
    fs.chmodSync(path.join(source, 'etc/modprobe.d/private.conf'), 0o600);

    const out = path.join(tmp, 'hostile-out');
    const result = capture(source, out);
    const all = files(out);
    for (const content of all.values()) expect(String(content)).not.toContain('SECRET');
    expect(result.skipped).toEqual(expect.arrayContaining([expect.stringMatching(/^\/proc\/cmdline: EXDEV$/), expect.stringMatching(/numa_node: EXDEV$/)]));
    expect(fs.statSync(path.join(out, 'etc/default/grub')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(out, 'etc/modprobe.d/private.conf')).mode & 0o777).toBe(0o600);
  });
});
