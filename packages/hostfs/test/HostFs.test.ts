import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HostFs, HostFsError, SYSFS_MAGIC, errnoError, type SimulatedKernelWriter } from '../src/index';

let dir: string;
let outside: string;

function put(rel: string, content: string) {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), content);
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HostFsError);
    return (error as HostFsError).code;
  }
  return undefined;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hostfs-'));
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'hostfs-outside-'));
  fs.writeFileSync(path.join(outside, 'secret'), 'secret\n');
  put('sys/bus/pci/devices/0000:01:00.0/vendor', '0x10de\n');
  put('proc/cmdline', 'quiet intel_iommu=on\n');
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});

describe('HostFs paths', () => {
  it('reads host paths under the root', () => {
    const host = new HostFs(dir);
    expect(host.readAttribute('/sys/bus/pci/devices/0000:01:00.0/vendor')).toBe('0x10de');
    expect(host.readText('/proc/cmdline')).toBe('quiet intel_iommu=on\n');
    expect(host.list('/sys/bus/pci/devices')).toEqual(['0000:01:00.0']);
    expect(host.isLive).toBe(false);
  });

  it('refuses .., relative paths, NUL and empty paths before touching the disk', () => {
    const host = new HostFs(dir);
    expect(codeOf(() => host.readText('/sys/../../etc/passwd'))).toBe('EACCES');
    expect(codeOf(() => host.readText('sys/bus'))).toBe('EINVAL');
    expect(codeOf(() => host.readText('/proc/cmd\0line'))).toBe('EINVAL');
    expect(codeOf(() => host.readText(''))).toBe('EINVAL');
    expect(codeOf(() => host.readText(`/${'a'.repeat(5000)}`))).toBe('ENAMETOOLONG');
  });

  it('refuses symlinks whose target leaves the root, relative or absolute', () => {
    fs.symlinkSync(path.relative(path.join(dir, 'proc'), path.join(outside, 'secret')), path.join(dir, 'proc', 'relative-escape'));
    fs.symlinkSync(path.join(outside, 'secret'), path.join(dir, 'proc', 'absolute-escape'));
    const host = new HostFs(dir);
    expect(codeOf(() => host.readText('/proc/relative-escape'))).toBe('EXDEV');
    expect(codeOf(() => host.readText('/proc/absolute-escape'))).toBe('EXDEV');
    expect(codeOf(() => host.writeFile('/proc/../etc/x', 'x'))).toBe('EACCES');
  });

  it('follows symlinks that stay inside the root and reports the real host path', () => {
    fs.mkdirSync(path.join(dir, 'sys/devices/pci0000:00/0000:01:00.0'), { recursive: true });
    fs.symlinkSync('../../../devices/pci0000:00/0000:01:00.0', path.join(dir, 'sys/bus/pci/devices/link'));
    const host = new HostFs(dir);
    expect(host.realHostPath('/sys/bus/pci/devices/link')).toBe('/sys/devices/pci0000:00/0000:01:00.0');
    expect(host.readlink('/sys/bus/pci/devices/link')).toBe('../../../devices/pci0000:00/0000:01:00.0');
    expect(host.linkName('/sys/bus/pci/devices/link')).toBe('0000:01:00.0');
  });

  it('keeps errno: ENOENT for a missing file, ELOOP for a symlink loop, EFBIG for a huge attribute', () => {
    fs.symlinkSync('b', path.join(dir, 'proc', 'a'));
    fs.symlinkSync('a', path.join(dir, 'proc', 'b'));
    put('sys/garbage', 'x'.repeat(1024 * 1024));
    const host = new HostFs(dir);
    expect(codeOf(() => host.readText('/proc/missing'))).toBe('ENOENT');
    expect(host.readAttributeIfExists('/proc/missing')).toBeUndefined();
    expect(codeOf(() => host.readText('/proc/a'))).toBe('ELOOP');
    expect(codeOf(() => host.readAttribute('/sys/garbage'))).toBe('EFBIG');
    expect(host.readBytes('/sys/garbage').length).toBe(1024 * 1024);
  });

  it('names the doing, the host path and the real path in its messages', () => {
    const host = new HostFs(dir);
    try {
      host.readText('/proc/missing');
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/^Failed reading \/proc\/missing via .*\/proc\/missing: ENOENT/);
      expect((error as Error).cause).toBeDefined();
    }
  });

  it('refuses a root that does not exist', () => {
    expect(() => new HostFs(path.join(dir, 'nope'))).toThrow(/Failed opening host root/);
  });
});

describe('HostFs write rule', () => {
  it('hands sysfs writes on a non-sysfs tree to the simulated kernel, with its errno kept', () => {
    const seen: Array<[string, string]> = [];
    const kernel: SimulatedKernelWriter = {
      write(hostPath, data) {
        seen.push([hostPath, data]);
        if (data === 'busy') throw errnoError('EBUSY', 'device busy');
      },
    };
    const host = new HostFs(dir, { kernel });
    host.writeAttribute('/sys/bus/pci/devices/0000:01:00.0/driver_override', 'vfio-pci');
    expect(seen).toEqual([['/sys/bus/pci/devices/0000:01:00.0/driver_override', 'vfio-pci']]);
    expect(codeOf(() => host.writeAttribute('/sys/bus/pci/drivers_probe', 'busy'))).toBe('EBUSY');
    // The tree itself is untouched by HostFs: the kernel decides what a write means.
    expect(fs.existsSync(path.join(dir, 'sys/bus/pci/devices/0000:01:00.0/driver_override'))).toBe(false);
  });

  it('refuses a sysfs write on a fixture tree with no simulated kernel attached', () => {
    expect(codeOf(() => new HostFs(dir).writeAttribute('/sys/bus/pci/drivers_probe', '0000:01:00.0'))).toBe('ENOTSUP');
  });

  it('writes straight to the file when the target is on a real sysfs mount', () => {
    const host = new HostFs(dir, { fsTypeOf: () => SYSFS_MAGIC, kernel: { write: () => expect.unreachable() } });
    host.writeAttribute('/sys/bus/pci/devices/0000:01:00.0/vendor', 'x');
    expect(fs.readFileSync(path.join(dir, 'sys/bus/pci/devices/0000:01:00.0/vendor'), 'utf8')).toBe('x');
  });

  it('knows the live /sys is a real sysfs', () => {
    expect(new HostFs('/').isRealSysfs('/sys/bus/pci')).toBe(true);
    expect(new HostFs(dir).isRealSysfs('/sys/bus/pci')).toBe(false);
  });

  it('writes regular files atomically, creating folders, and refuses /sys /proc /dev', () => {
    const host = new HostFs(dir);
    host.writeFile('/etc/modprobe.d/vfio.conf', 'options vfio-pci ids=10de:2684\n');
    expect(host.readText('/etc/modprobe.d/vfio.conf')).toBe('options vfio-pci ids=10de:2684\n');
    expect(fs.readdirSync(path.join(dir, 'etc/modprobe.d'))).toEqual(['vfio.conf']);
    expect(codeOf(() => host.writeFile('/proc/cmdline', 'x'))).toBe('EINVAL');
    expect(codeOf(() => host.writeAttribute('/etc/x', 'x'))).toBe('EINVAL');
    host.removeFile('/etc/modprobe.d/vfio.conf');
    expect(host.exists('/etc/modprobe.d/vfio.conf')).toBe(false);
  });

  it('never writes outside the root through a symlinked folder', () => {
    fs.mkdirSync(path.join(dir, 'etc'), { recursive: true });
    fs.symlinkSync(outside, path.join(dir, 'etc', 'evil'));
    const host = new HostFs(dir);
    expect(codeOf(() => host.writeFile('/etc/evil/new', 'x'))).toBe('EXDEV');
    expect(fs.readdirSync(outside)).toEqual(['secret']);
  });
});

describe('appendFile and createExclusive: whole or nothing', () => {
  it('loops over short writes until every byte is written', () => {
    const sizes: number[] = [];
    const host = new HostFs(dir, { writeSync: (fd, buffer, offset, length) => (sizes.push(length), fs.writeSync(fd, buffer, offset, Math.min(length, 7))) });
    host.appendFile('/var/lib/passthru/journal.jsonl', 'first line\n');
    host.appendFile('/var/lib/passthru/journal.jsonl', 'a record longer than seven bytes\n');
    expect(fs.readFileSync(path.join(dir, 'var/lib/passthru/journal.jsonl'), 'utf8')).toBe('first line\na record longer than seven bytes\n');
    expect(sizes.length).toBeGreaterThan(2);
  });

  it('a short write then ENOSPC (a full disk) leaves the file as it was and throws ENOSPC', () => {
    let calls = 0;
    const host = new HostFs(dir, {
      writeSync: (fd, buffer, offset, length) => {
        calls++;
        if (calls === 1) return fs.writeSync(fd, buffer, offset, length);
        if (calls === 2) return fs.writeSync(fd, buffer, offset, 5);
        throw errnoError('ENOSPC', 'no space left on device, write');
      },
    });
    host.appendFile('/var/log/j', 'kept\n');
    expect(codeOf(() => host.appendFile('/var/log/j', 'torn record\n'))).toBe('ENOSPC');
    expect(fs.readFileSync(path.join(dir, 'var/log/j'), 'utf8')).toBe('kept\n');
    expect(() => host.appendFile('/var/log/j', 'x\n')).toThrow(
      /Failed appending to \/var\/log\/j via .*: ENOSPC no space left on device, write; nothing of it was kept \(the file is back to its 5 bytes\)/,
    );
  });

  it('createExclusive: the file appears with its data or not at all, and no temp file stays', () => {
    const host = new HostFs(dir);
    expect(host.createExclusive('/run/passthru/bind.lock', '123\n')).toBe(true);
    expect(host.createExclusive('/run/passthru/bind.lock', '456\n')).toBe(false);
    expect(host.readText('/run/passthru/bind.lock')).toBe('123\n');
    const failing = new HostFs(dir, {
      writeSync: () => {
        throw errnoError('ENOSPC', 'no space left on device, write');
      },
    });
    expect(codeOf(() => failing.createExclusive('/run/passthru/other.lock', '789\n'))).toBe('ENOSPC');
    expect(fs.readdirSync(path.join(dir, 'run/passthru'))).toEqual(['bind.lock']);
  });
});

describe('appendFile on a really full disk (tmpfs, root only)', () => {
  // Not skipped in silence: without root this suite fails and says why.
  beforeAll(() => {
    if (process.getuid?.() !== 0) throw new Error('mounting a tmpfs needs root: run the tests as root (sudo npm test)');
  });
  let mnt: string;
  beforeEach(() => {
    mnt = path.join(dir, 'full');
    fs.mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', mnt]);
  });
  afterEach(() => execFileSync('umount', [mnt]));

  it('a record crossing into the missing block is not kept, and fits once space is freed', () => {
    const host = new HostFs(dir);
    host.appendFile('/full/j', `${'x'.repeat(4000)}\n`);
    // Fill every other block of the tmpfs.
    const filler = fs.openSync(path.join(mnt, 'filler'), 'w');
    try {
      for (;;) fs.writeSync(filler, Buffer.alloc(4096));
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      fs.closeSync(filler);
    }
    const record = `${'y'.repeat(200)}\n`;
    expect(codeOf(() => host.appendFile('/full/j', record))).toBe('ENOSPC');
    expect(fs.statSync(path.join(mnt, 'j')).size).toBe(4001);
    fs.rmSync(path.join(mnt, 'filler'));
    host.appendFile('/full/j', record);
    expect(fs.readFileSync(path.join(mnt, 'j'), 'utf8')).toBe(`${'x'.repeat(4000)}\n${record}`);
  });
});

describe('HostDir', () => {
  it('reads attributes of a resolved folder and still confines a symlinked attribute', () => {
    put('sys/devices/pci0000:00/0000:01:00.0/class', '0x030000\n');
    fs.symlinkSync(path.join(outside, 'secret'), path.join(dir, 'sys/devices/pci0000:00/0000:01:00.0/label'));
    fs.symlinkSync('../../../devices/pci0000:00/0000:01:00.0', path.join(dir, 'sys/bus/pci/devices/0000:02:00.0'));
    const device = new HostFs(dir).openDir('/sys/bus/pci/devices/0000:02:00.0');
    expect(device.realPath).toBe(fs.realpathSync(path.join(dir, 'sys/devices/pci0000:00/0000:01:00.0')));
    expect(device.readAttribute('class')).toBe('0x030000');
    expect(device.readAttributeIfExists('numa_node')).toBeUndefined();
    expect(device.has('class')).toBe(true);
    expect(codeOf(() => device.readAttribute('label'))).toBe('EXDEV');
    expect(codeOf(() => device.readAttribute('../vendor'))).toBe('EINVAL');
  });

  it('folders(): real and symlinked sub-folders from one listing; links leaving the root or leading nowhere are left out', () => {
    put('sys/kernel/iommu_groups/1/devices/.keep', '');
    put('sys/kernel/iommu_groups/1/type', 'DMA\n');
    put('sys/kernel/iommu_groups/elsewhere/2/devices/.keep', '');
    put('sys/kernel/iommu_groups/notafolder', 'x\n');
    fs.symlinkSync('elsewhere/2', path.join(dir, 'sys/kernel/iommu_groups/2'));
    fs.symlinkSync(outside, path.join(dir, 'sys/kernel/iommu_groups/3'));
    fs.symlinkSync('missing', path.join(dir, 'sys/kernel/iommu_groups/4'));
    const folders = new HostFs(dir).openDir('/sys/kernel/iommu_groups').folders();
    expect([...folders.keys()].sort()).toEqual(['1', '2', 'elsewhere']);
    expect(folders.get('1')!.readAttribute('type')).toBe('DMA');
    expect(folders.get('2')!.realPath).toBe(fs.realpathSync(path.join(dir, 'sys/kernel/iommu_groups/elsewhere/2')));
    expect(folders.get('2')!.list('devices')).toEqual(['.keep']);
  });

  it('list(sub) and openDir(name): a real folder directly, a symlink through HostFs (confined), absent is empty', () => {
    put('sys/devices/pci0000:00/0000:01:00.0/net/eth0/address', '00:11:22:33:44:55\n');
    fs.symlinkSync(outside, path.join(dir, 'sys/devices/pci0000:00/0000:01:00.0/drm'));
    const device = new HostFs(dir).openDir('/sys/devices/pci0000:00/0000:01:00.0');
    expect(device.list('net')).toEqual(['eth0']);
    expect(device.openDir('net').list()).toEqual(['eth0']);
    expect(device.list('absent')).toEqual([]);
    expect(codeOf(() => device.list('drm'))).toBe('EXDEV');
    expect(codeOf(() => device.openDir('drm'))).toBe('EXDEV');
    expect(codeOf(() => device.openDir('absent'))).toBe('ENOENT');
  });
});

describe('loadModule: the write rule for modules', () => {
  it("on this machine's real sysfs: the module loader runs (injected here), its words kept on failure", () => {
    const loaded: string[] = [];
    const live = new HostFs('/', { modprobe: (m) => loaded.push(m) });
    if (!live.isRealSysfs('/sys/bus/pci')) throw new Error('this test needs the real /sys mounted (sysfs)');
    live.loadModule('vfio-pci');
    expect(loaded).toEqual(['vfio-pci']);
    const failing = new HostFs('/', {
      modprobe: () => {
        throw Object.assign(new Error('modprobe: FATAL: Module vfio_pci not found in directory /lib/modules/6.1.0'), { code: 'ENOENT' });
      },
    });
    expect(() => failing.loadModule('vfio-pci')).toThrow(/Failed loading module vfio-pci: ENOENT via modprobe: modprobe: FATAL: Module vfio_pci not found/);
  });

  it('on a fixture tree: the simulated kernel loads it; without one, ENOTSUP', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hostfs-mod-'));
    try {
      const asked: string[] = [];
      new HostFs(root, { kernel: { write: () => {}, loadModule: (m) => asked.push(m) } }).loadModule('vfio-pci');
      expect(asked).toEqual(['vfio-pci']);
      expect(() => new HostFs(root).loadModule('vfio-pci')).toThrow(/ENOTSUP/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
