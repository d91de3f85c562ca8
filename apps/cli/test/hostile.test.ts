// Bad and hostile input: exit 2, one clear line on stderr, no stack trace, and not one byte
// written to the fixture tree (sidecar included). And data that carries terminal escapes is
// shown without them (text), or exactly (JSON).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli';
import { cleanFixtures, cli, fixtureCopy, kernelWrites, treeSnapshot } from './runCli';

afterEach(cleanFixtures);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-hostile-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A file outside the fixture, made once per name. */
function outside(name: string, make: (file: string) => void): string {
  const file = path.join(scratch, name);
  if (!fs.existsSync(file)) make(file);
  return file;
}

/**
 * Each case: argv (ROOT stands for the fixture copy, OUT for the scratch folder), what stderr
 * must say, and optionally how to spoil the tree first.
 */
const CASES: Array<[string, string[], RegExp, ((root: string) => void)?]> = [
  [
    'persist: a GRUB defaults file it cannot parse',
    ['--root', 'ROOT', 'persist', '01:00.0'],
    /Failed parsing GRUB defaults via \/etc\/default\/grub:2: unterminated double quote/,
    (root) => fs.writeFileSync(path.join(root, 'etc/default/grub'), 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet splash\n'),
  ],
  ['--pci-ids /dev/zero', ['--root', 'ROOT', '--pci-ids', '/dev/zero', 'list'], /via \/dev\/zero: not a regular file \(a device, FIFO or socket\)/],
  ['--pci-ids a folder', ['--root', 'ROOT', '--pci-ids', 'OUT', 'list'], /not a regular file \(a folder\)/],
  ['--pci-ids a FIFO', ['--root', 'ROOT', '--pci-ids', 'OUT/fifo', 'groups'], /not a regular file \(a device, FIFO or socket\)/],
  ['--pci-ids over 64 MiB', ['--root', 'ROOT', '--pci-ids', 'OUT/huge.ids', 'list'], /68157440 bytes is more than the 67108864 a pci.ids may have/],
  ['--pci-ids .gz inflating past 64 MiB', ['--root', 'ROOT', '--pci-ids', 'OUT/bomb.ids.gz', 'list'], /inflates to more than 67108864 bytes/],
  ['--pci-ids empty', ['--root', 'ROOT', '--pci-ids', '', 'list'], /--pci-ids must name a file/],
  ['--pci-ids missing', ['--root', 'ROOT', '--pci-ids', 'OUT/nope.ids', 'list'], /no such file/],
  ['--root empty', ['--root', '', 'list'], /--root must name a folder \(got an empty path/],
  ['--root a file', ['--root', 'ROOT/proc/cmdline', 'bind', '01:00.0'], /the --root path must be a folder, not a file/],
  ['--root missing', ['--root', 'ROOT/nope', 'bind', '01:00.0'], /the --root folder must exist \(ENOENT\)/],
  ['--root with NUL', ['--root', 'ROOT\0/etc', 'bind', '01:00.0'], /--root must not contain a NUL/],
  ['snapshot OUTDIR is a file', ['--root', 'ROOT', 'snapshot', 'OUT/a-file'], /the output path exists and is not a folder/],
  ['snapshot OUTDIR under a file', ['--root', 'ROOT', 'snapshot', 'OUT/a-file/x'], /the output path cannot be used: ENOTDIR/],
  ['snapshot OUTDIR empty', ['--root', 'ROOT', 'snapshot', ''], /the output folder must be named/],
  ['snapshot OUTDIR not empty', ['--root', 'ROOT', 'snapshot', 'ROOT'], /the output folder is not empty/],
  ['snapshot without OUTDIR', ['--root', 'ROOT', 'snapshot'], /missing required argument/],
  ['bind function 8', ['--root', 'ROOT', 'bind', '0000:00:1f.8'], /not a valid PCI address/],
  ['bind slot 20', ['--root', 'ROOT', 'bind', '00:20.0'], /not a valid PCI address/],
  ['bind an absent address', ['--root', 'ROOT', 'bind', '0000:7f:00.0'], /Failed resolving target/],
  ['bind group:-1', ['--root', 'ROOT', 'bind', 'group:-1'], /Failed (parsing|resolving) target/],
  ['bind an absent group', ['--root', 'ROOT', 'bind', 'group:999999'], /Failed resolving target/],
  ['bind 10de:zzzz', ['--root', 'ROOT', 'bind', '10de:zzzz'], /Failed (parsing|resolving) target/],
  ['bind a vendor:device nobody has', ['--root', 'ROOT', 'bind', 'dead:beef'], /Failed resolving target/],
  ['bind with NUL', ['--root', 'ROOT', 'bind', '01:00.0\0'], /Failed (parsing|resolving) target/],
  ['bind a 100k-character target', ['--root', 'ROOT', 'bind', 'a'.repeat(100_000)], /Failed (parsing|resolving) target/],
  ['bind an escape sequence', ['--root', 'ROOT', 'bind', '\u001b]0;owned\u0007\u001b[2J'], /Failed (parsing|resolving) target/],
  ['bind ../', ['--root', 'ROOT', 'bind', '../../etc'], /Failed (parsing|resolving) target/],
  ['bind no target', ['--root', 'ROOT', 'bind'], /missing required argument/],
  ['bind unknown flag', ['--root', 'ROOT', 'bind', '01:00.0', '--frobnicate'], /unknown option '--frobnicate'/],
  ['unknown global flag', ['--frob', '--root', 'ROOT', 'list'], /unknown option '--frob'/],
  ['unknown command', ['--root', 'ROOT', 'frobnicate'], /unknown command 'frobnicate'/],
  ['bind group:1e3', ['--root', 'ROOT', 'bind', 'group:1e3'], /Failed parsing target "group:1e3"/],
  ['bind a domain over ffff', ['--root', 'ROOT', 'bind', '10000:00:00.0'], /Failed resolving target/],
  ['bind --format xml', ['--root', 'ROOT', '--format', 'xml', 'bind', '01:00.0', '--dry-run'], /--format must be one of table, json/],
  ['attach --lxc-config an empty target', ['--root', 'ROOT', 'attach', 'c1', '', '--lxc-config'], /Failed resolving target "": empty target/],
  ['report --html into a missing folder', ['--root', 'ROOT', 'report', '--html', 'OUT/nodir/x.html'], /Failed writing the report via .*: ENOENT/],
  ['restore with no target', ['--root', 'ROOT', 'restore'], /restore needs a TARGET or --all/],
  ['restore a target and --all', ['--root', 'ROOT', 'restore', '01:00.0', '--all'], /not both/],
  ['restore what was never bound', ['--root', 'ROOT', 'restore', '01:00.0'], /no record of binding it/],
  ['persist a bad target', ['--root', 'ROOT', 'persist', 'group:abc'], /Failed (parsing|resolving) target/],
  ['persist --bootloader lilo', ['--root', 'ROOT', 'persist', '01:00.0', '--bootloader', 'lilo'], /Allowed choices are grub, systemd-boot, kernelstub/],
  ['list --class bogus', ['--root', 'ROOT', 'list', '--class', 'bogus'], /Allowed choices are gpu, net/],
  ['list --format yaml', ['--root', 'ROOT', 'list', '--format', 'yaml'], /table, json/],
  ['doctor --device 0000:00:1f.8', ['--root', 'ROOT', 'doctor', '--device', '0000:00:1f.8'], /not a PCI address/],
  ['doctor --device with an escape', ['--root', 'ROOT', 'doctor', '--device', '\u001b[2Jx'], /not a PCI address/],
  ['attach --lxc-config a bad container name', ['--root', 'ROOT', 'attach', '../c1', '01:00.0', '--lxc-config'], /not a valid container name/],
  ['attach --type bogus', ['--root', 'ROOT', 'attach', 'c1', '01:00.0', '--type', 'bogus'], /Allowed choices are/],
  ['report without --html', ['--root', 'ROOT', 'report'], /report needs --html FILE/],
  ['completion fish', ['--root', 'ROOT', 'completion', 'fish'], /Allowed choices are bash, zsh/],
];

describe(`${CASES.length} hostile inputs: exit 2, one clear message, nothing written`, () => {
  it.each(CASES)('%s', async (_name, argv, message, arrange) => {
    outside('fifo', (f) => execFileSync('mkfifo', [f]));
    outside('huge.ids', (f) => {
      fs.writeFileSync(f, '');
      fs.truncateSync(f, 65 * 1024 * 1024);
    });
    outside('bomb.ids.gz', (f) => fs.writeFileSync(f, gzipSync(Buffer.alloc(65 * 1024 * 1024))));
    outside('a-file', (f) => fs.writeFileSync(f, 'x'));
    const root = fixtureCopy('intel-workstation');
    arrange?.(root);
    const before = treeSnapshot(root);
    const scratchBefore = treeSnapshot(scratch);
    const r = await cli(...argv.map((a) => a.replaceAll('ROOT', root).replaceAll('OUT', scratch)));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    // One line says what is wrong; a top-level usage error is followed by the help (about 6 KB, a line per command), never a dump.
    expect(r.stderr.length).toBeLessThan(8000);
    expect(r.stdout).toBe('');
    expect(treeSnapshot(root)).toEqual(before);
    expect(treeSnapshot(scratch)).toEqual(scratchBefore);
  });
});

/** Every writing command that writes a host file, and the file it writes. */
const WRITERS: Array<[string, string[], string, string?]> = [
  ['persist', ['persist', '01:00.0'], 'etc/modprobe.d/passthru-vfio.conf'],
  ['bind --persist', ['bind', '01:00.0', '--persist'], 'etc/modprobe.d/passthru-vfio.conf'],
  ['tune', ['tune'], 'etc/sysctl.d/60-passthru-lxd.conf'],
  ['sriov --persist', ['sriov', '0000:18:00.0', '--numvfs', '2', '--persist'], 'etc/systemd/system/passthru-sriov-0000-18-00.0.service', 'sriov-server'],
];
/** What can stand where the file goes: each is refused before the first write of any kind. */
const SPOILERS: Array<[string, RegExp, (file: string) => void]> = [
  ['a FIFO', /a FIFO/, (f) => execFileSync('mkfifo', [f])],
  ['a device node', /a device node/, (f) => execFileSync('mknod', [f, 'c', '1', '3'])],
  ['a folder', /EISDIR/, (f) => fs.mkdirSync(f)],
  ['a symlink out of the root', /EXDEV/, (f) => fs.symlinkSync('/etc/hostname', f)],
  ['a file in place of its folder', /ENOTDIR/, (f) => fs.writeFileSync(path.dirname(f), 'x')],
  ['its folder a symlink out of the root', /EXDEV/, (f) => fs.symlinkSync(os.tmpdir(), path.dirname(f))],
  ['its folder read-only (immutable)', /EPERM/, (f) => execFileSync('chattr', ['+i', path.dirname(f)])],
];

describe('every writing command checks the file it will write before any write (issue 22: plan before any write)', () => {
  const cases = WRITERS.flatMap(([name, argv, file, fixture]) =>
    SPOILERS.map(([what, why, spoil]) => ({ name: `${name}: ${what}`, argv, file, fixture, why, spoil })),
  );
  const immutable: string[] = [];
  afterEach(() => {
    for (const f of immutable.splice(0)) execFileSync('chattr', ['-i', f]);
  });
  it.each(cases)('$name: exit 2, nothing written (--dry-run too)', async ({ argv, file, fixture, why, spoil }) => {
    const root = fixtureCopy(fixture ?? 'intel-workstation');
    if (why.source === 'EPERM') immutable.push(path.join(root, path.dirname(file)));
    const target = path.join(root, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (why.source === 'ENOTDIR' || (why.source === 'EXDEV' && spoil.toString().includes('dirname'))) fs.rmSync(path.dirname(target), { recursive: true });
    spoil(target);
    const before = treeSnapshot(root);
    for (const dry of [['--dry-run'], []]) {
      const r = await cli('--root', root, ...argv, ...dry);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(why);
      expect(r.stderr).toMatch(/nothing was written/);
    }
    expect(treeSnapshot(root)).toEqual(before);
    expect(kernelWrites(root)).toEqual([]);
  });
});

/** Runs on streams that say they are terminals (colour on), so only passthru's own colours may appear. */
async function onTerminal(argv: string[]) {
  const stdout = Object.assign(new PassThrough(), { isTTY: true });
  const stderr = Object.assign(new PassThrough(), { isTTY: true });
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const code = await runCli(argv, { stdout, stderr, env: {} });
  return { code, stdout: out, stderr: err };
}

/** Any escape or control character but passthru's own colour codes, tab and newline. */
const FOREIGN_CONTROL = /\u001b(?!\[(?:0|1|3[1-6]|90)m)|[\u0000-\u0008\u000b-\u001a\u001c-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('terminal escapes in data (a driver folder, a pci.ids name)', () => {
  const DRIVER = 'nv\u001b]0;owned\u0007\u001b[2J\u009b31m\u202eevil';
  const VENDOR = 'NVIDIA\u001b[8m hidden\u001b]8;;http://x.test\u0007 Corp';
  function hostileHost() {
    const root = fixtureCopy('intel-workstation');
    const drivers = path.join(root, 'sys/bus/pci/drivers');
    fs.renameSync(path.join(drivers, 'nvidia'), path.join(drivers, DRIVER));
    const link = path.join(root, 'sys/bus/pci/devices/0000:01:00.0/driver');
    fs.rmSync(link);
    fs.symlinkSync(`../../../../bus/pci/drivers/${DRIVER}`, link);
    const ids = path.join(root, 'hostile.ids');
    fs.writeFileSync(ids, `10de  ${VENDOR}\n\t2684  AD102\u001b[2J [GeForce RTX 4090]\u001b]52;c;cHduZWQ=\u0007\n`);
    return { root, ids };
  }

  it.each([
    ['list', ['list']],
    ['groups', ['groups']],
    ['groups --tree', ['groups', '--tree']],
    ['doctor --device', ['doctor', '--device', '01:00.0', '--verbose']],
    ['bind --dry-run', ['bind', '01:00.0', '--dry-run']],
  ])('%s shows them without control characters, colour on or off', async (_name, args) => {
    const { root, ids } = hostileHost();
    for (const run of [onTerminal, (argv: string[]) => cli(...argv)]) {
      const r = await run(['--root', root, '--pci-ids', ids, ...args]);
      expect(r.stdout + r.stderr).toMatch(/owned|hidden|AD102/);
      expect(r.stdout).not.toMatch(FOREIGN_CONTROL);
      expect(r.stderr).not.toMatch(FOREIGN_CONTROL);
    }
  });

  it("without colour (--no-color, NO_COLOR) no escape at all reaches the output, not even one shaped like passthru's own colours (issue 22, item 12)", async () => {
    const root = fixtureCopy('intel-workstation');
    const drivers = path.join(root, 'sys/bus/pci/drivers');
    const painted = 'nv\u001b[31mRED\u001b[0m';
    fs.renameSync(path.join(drivers, 'nvidia'), path.join(drivers, painted));
    const link = path.join(root, 'sys/bus/pci/devices/0000:01:00.0/driver');
    fs.rmSync(link);
    fs.symlinkSync(`../../../../bus/pci/drivers/${painted}`, link);
    for (const argv of [
      ['--root', root, '--no-color', 'list'],
      ['--root', root, '--no-color', 'groups', '--tree'],
      ['--root', root, '--no-color', 'bind', '01:00.0', '--dry-run'],
    ]) {
      const r = await onTerminal(argv);
      expect(r.stdout + r.stderr, argv.join(' ')).toContain('nv[31mRED[0m');
      expect(r.stdout + r.stderr, argv.join(' ')).not.toContain('\u001b');
    }
  });

  it('JSON keeps them exact (escaped, never raw)', async () => {
    const { root, ids } = hostileHost();
    const r = await onTerminal(['--root', root, '--pci-ids', ids, 'list', '--format', 'json']);
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    const gpu = JSON.parse(r.stdout).devices.find((d: { address: string }) => d.address === '0000:01:00.0');
    expect(gpu.driver).toBe(DRIVER);
    expect(gpu.vendorName).toBe(VENDOR);
  });
});

describe('the simulated kernel never leaves the tree (issue 22, item 7)', () => {
  it('with dev/vfio a symlink to a folder outside, bind creates nothing there and restore deletes nothing there', async () => {
    const root = fixtureCopy('intel-workstation');
    const outside = fs.mkdtempSync(path.join(scratch, 'outside-'));
    for (const f of fs.readdirSync(path.join(root, 'dev/vfio'))) fs.copyFileSync(path.join(root, 'dev/vfio', f), path.join(outside, f));
    fs.writeFileSync(path.join(outside, 'keep'), "not the simulator's\n");
    fs.rmSync(path.join(root, 'dev/vfio'), { recursive: true });
    fs.symlinkSync(outside, path.join(root, 'dev/vfio'));
    const before = fs.readdirSync(outside).sort();
    const bound = await cli('--root', root, 'bind', '01:00.0');
    expect(bound.stderr).toMatch(/EXDEV|leads out of the simulated tree/);
    expect(bound.code).toBe(1);
    expect(fs.readdirSync(outside).sort()).toEqual(before);
    const restored = await cli('--root', root, 'restore', '--all');
    expect([0, 1]).toContain(restored.code);
    expect(fs.readdirSync(outside).sort()).toEqual(before);
  });
});

describe('the one output writer: report, export and baseline replace only regular files (issue 22, items 5, 6, 11)', () => {
  const targets: Array<[string, (file: string) => void]> = [
    ['a FIFO', (f) => execFileSync('mkfifo', [f])],
    ['a device node', (f) => execFileSync('mknod', [f, 'c', '1', '3'])],
    ['a folder', (f) => fs.mkdirSync(f)],
    [
      'a symlink to a file elsewhere',
      (f) => {
        const elsewhere = `${f}.elsewhere`;
        fs.writeFileSync(elsewhere, "not passthru's\n");
        fs.symlinkSync(elsewhere, f);
      },
    ],
  ];
  const commands: Array<[string, (root: string, file: string) => string[]]> = [
    ['report --html', (root, file) => ['--root', root, 'report', '--html', file]],
    ['export prometheus', (root, file) => ['--root', root, 'export', 'prometheus', file]],
    ['baseline save', (root, file) => ['--root', root, 'baseline', 'save', file]],
  ];
  const describeTarget = (file: string) => {
    const st = fs.lstatSync(file);
    return `${st.mode.toString(8)} ${st.isSymbolicLink() ? fs.readlinkSync(file) : ''} ${st.rdev}`;
  };
  for (const [what, argv] of commands) {
    it.each(targets)(`${what} onto %s: exit 2, it is left as it was, nothing beside it`, async (_kind, make) => {
      const root = fixtureCopy('intel-workstation');
      const dir = fs.mkdtempSync(path.join(scratch, 'out-'));
      const file = path.join(dir, 'target');
      make(file);
      const before = describeTarget(file);
      const entries = fs.readdirSync(dir).sort();
      const r = await cli(...argv(root, file));
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/replaces only regular files; nothing was written/);
      expect(describeTarget(file)).toBe(before);
      expect(fs.readdirSync(dir).sort()).toEqual(entries);
    });
  }

  it('a failed write keeps the old file whole (an immutable folder: exit 2, nothing written, no temp file left)', async () => {
    const root = fixtureCopy('intel-workstation');
    const dir = fs.mkdtempSync(path.join(scratch, 'ro-'));
    const file = path.join(dir, 'page.html');
    fs.writeFileSync(file, 'the old page\n');
    execFileSync('chattr', ['+i', dir], { stdio: 'ignore' });
    try {
      const r = await cli('--root', root, 'report', '--html', file);
      expect(r.code).toBe(2);
      expect(fs.readFileSync(file, 'utf8')).toBe('the old page\n');
      expect(fs.readdirSync(dir)).toEqual(['page.html']);
    } finally {
      execFileSync('chattr', ['-i', dir], { stdio: 'ignore' });
    }
  });
});

describe('inputs that are not regular files never hang or eat memory (issue 22, item 9)', () => {
  it('baseline diff of a FIFO, /dev/zero or a folder: exit 2 at once, nothing compared', async () => {
    const root = fixtureCopy('intel-workstation');
    const dir = fs.mkdtempSync(path.join(scratch, 'in-'));
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    for (const file of [fifo, '/dev/zero', dir]) {
      const r = await cli('--root', root, 'baseline', 'diff', file);
      expect(r.code, `${file}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/not a regular file/);
    }
  });

  it('a FIFO in place of a sysfs attribute (sriov_totalvfs) reads as absent: list, groups and doctor finish', async () => {
    const root = fixtureCopy('sriov-server');
    const pf = fs.realpathSync(path.join(root, 'sys/bus/pci/devices/0000:18:00.0'));
    fs.rmSync(path.join(pf, 'sriov_totalvfs'));
    execFileSync('mkfifo', [path.join(pf, 'sriov_totalvfs')]);
    for (const argv of [['list'], ['groups'], ['doctor', '--device', '18:00.0']]) {
      const r = await cli('--root', root, ...argv);
      expect([0, 1], `${argv.join(' ')}: ${r.stderr}`).toContain(r.code);
    }
  });
});
