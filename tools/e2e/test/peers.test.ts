// Each fixture host in a container, read by passthru (with no flags, and with --root /host)
// and by the peer tools (lspci, driverctl, dpdk-devbind.py, virt-host-validate) with no flags:
// every field both sides report is compared, and a disagreement fails unless it is a
// documented anchor bug (ANCHOR_BUGS.md). The run also writes tmp/e2e/peer-table.md, the
// README's per-fixture table of what each tool says.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  parseDevbindStatus,
  parseDriverctlList,
  parseLspciVmm,
  parseVirtHostValidate,
  type DevbindDevice,
  type DriverctlDevice,
  type LspciRecord,
  type ValidateCheck,
} from '../../peers/src/index';
import { FIXTURES, HostContainer } from '../src/hostContainer';
import type { DoctorJson, GroupsJson, ListJson } from '../src/passthruJson';
import { describeDisagreements, Tally, TALLY_DIR } from '../src/tally';

const fixtures = fs
  .readdirSync(FIXTURES)
  .filter((d) => fs.existsSync(path.join(FIXTURES, d, 'sys/bus/pci/devices')))
  .sort();
const tally = new Tally('peers');
const rows = new Map<string, string[]>();

afterAll(() => {
  tally.write();
  const head = '| fixture | lspci | driverctl | dpdk-devbind.py | virt-host-validate (IOMMU) | passthru |\n|---|---|---|---|---|---|\n';
  const body = fixtures
    .filter((f) => rows.has(f))
    .map((f) => `| ${f} | ${rows.get(f)!.join(' | ')} |`)
    .join('\n');
  fs.mkdirSync(TALLY_DIR, { recursive: true });
  fs.writeFileSync(path.join(TALLY_DIR, 'peer-table.md'), `${head}${body}\n`);
});

const vhvResult = (checks: ValidateCheck[], pattern: RegExp) => checks.find((c) => pattern.test(c.check));
const doctorCheck = (d: DoctorJson, id: string) => d.checks.find((c) => c.id === id);
const passes = (status: string | undefined) => status === 'PASS';

describe.each(fixtures)('%s', (fixture) => {
  let host: HostContainer;
  const live = {} as { list: ListJson; groups: GroupsJson; doctor: DoctorJson };
  const rooted = {} as typeof live;
  let lspci: LspciRecord[];
  let driverctl: DriverctlDevice[];
  let devbind: DevbindDevice[];
  let vhv: ValidateCheck[];
  let kernelHasProcModules: boolean;

  beforeAll(async () => {
    host = await HostContainer.start(fixture, path.join(FIXTURES, fixture));
    for (const cmd of ['list', 'groups', 'doctor'] as const) {
      (live as Record<string, unknown>)[cmd] = await host.passthruJson([cmd]);
      (rooted as Record<string, unknown>)[cmd] = await host.passthruJson(['--root', '/host', cmd]);
    }
    lspci = parseLspciVmm((await host.run(['lspci', '-PP', '-Dvmmnnk'])).stdout);
    driverctl = parseDriverctlList((await host.run(['driverctl', 'list-devices'])).stdout);
    devbind = parseDevbindStatus((await host.run(['dpdk-devbind.py', '--status'])).stdout);
    vhv = parseVirtHostValidate((await host.run(['virt-host-validate', 'qemu'], [0, 1, 2])).stdout);
    kernelHasProcModules = (await host.exec(['test', '-e', '/proc/modules'])).exitCode === 0;
  });
  afterAll(async () => {
    await host?.stop();
  });

  // Each test fails on the unexplained disagreements it recorded itself.
  let mark = 0;
  beforeEach(() => {
    mark = tally.comparisons.length;
  });
  const check = (tool: string) => {
    const bad = tally.comparisons.slice(mark).filter((c) => !c.agreed && !c.anchorBug && c.tool === tool);
    expect(bad, describeDisagreements(bad)).toEqual([]);
  };

  it('passthru with no flags (fixture mounted over /sys, /proc, /etc) says what --root /host says', () => {
    const strip = <T extends { root?: string }>(j: T) => ({ ...j, root: undefined });
    // A GPU's MIG state comes from the running kernel's /proc/driver/nvidia (nothing can be created
    // inside procfs) and from nvidia-smi, which passthru reads captured for a tree and runs only on a
    // live host that has it: with no flags the container cannot show the fixture's, so it is left out.
    const noMig = (j: ListJson) => ({
      ...strip(j),
      devices: j.devices.map((d) => (d.gpuModes ? { ...d, gpuModes: { ...d.gpuModes, modes: d.gpuModes.modes.filter((m) => m !== 'mig'), mig: null } } : d)),
    });
    tally.compareJson(fixture, 'passthru --root /host', 'list', noMig(rooted.list), noMig(live.list));
    tally.compareJson(fixture, 'passthru --root /host', 'groups', strip(rooted.groups), strip(live.groups));
    // This VM's kernel is built without modules: it has no /proc/modules, and nothing can be
    // created inside procfs, so with no flags the vfio.modules check cannot see the fixture's.
    // Likewise memlock (running processes' /proc/<pid>/limits), hugepages (/proc/meminfo of the
    // running kernel when the tree has no node folders) and iommufd (the container's own
    // /dev/iommu) read what a mount namespace cannot swap for the fixture's: they are left out,
    // and the verdict is judged on the checks compared, the same way on both sides.
    const runtimeOnly = new Set(['memlock', 'hugepages', 'iommufd']);
    const doctor = (d: DoctorJson & { absent?: string[] }) => {
      const checks = d.checks.filter((c) => (kernelHasProcModules || c.id !== 'vfio.modules') && !runtimeOnly.has(c.id));
      const has = (status: string) => checks.some((c) => c.status === status);
      const verdict = has('FAIL') ? 'not-ready' : d.absent?.length ? 'incomplete' : has('WARN') ? 'ready-with-warnings' : 'ready';
      return { ...d, checks, verdict };
    };
    tally.compareJson(fixture, 'passthru --root /host', 'doctor', doctor(rooted.doctor), doctor(live.doctor));
    check('passthru --root /host');
  });

  it('lspci agrees on addresses, ids, class, revision, driver, IOMMU group, NUMA node and parent bridge', () => {
    const mine = new Map(rooted.list.devices.map((d) => [d.address, d]));
    const theirs = new Map(lspci.map((d) => [d.address, d]));
    // The loops below compare row by row: they must have rows to compare.
    expect(lspci.length, 'lspci printed no device').toBeGreaterThan(0);
    expect(live.list.devices.length, 'passthru (no --root) listed no device').toBeGreaterThan(0);
    tally.compare(fixture, 'lspci', 'devices', 'addresses', [...theirs.keys()].sort(), [...mine.keys()].sort());
    for (const l of lspci) {
      const p = mine.get(l.address);
      if (!p) continue;
      const c = (field: string, peer: unknown, ours: unknown) => tally.compare(fixture, 'lspci', l.address, field, peer, ours);
      c('vendor:device', `${l.vendorId}:${l.deviceId}`, `${p.vendorId}:${p.deviceId}`);
      c(
        'subsystem',
        l.subsystemVendorId ? `${l.subsystemVendorId}:${l.subsystemDeviceId}` : null,
        p.subsystemVendorId && `${p.subsystemVendorId}:${p.subsystemDeviceId}`,
      );
      c('class', l.classCode, p.class);
      c('revision', l.revision ?? '00', p.revision ?? '00');
      c('driver', l.driver ?? null, p.driver);
      c('iommuGroup', l.iommuGroup ?? null, p.iommuGroup);
      c('numaNode', l.numaNode ?? null, p.numaNode);
      c('parent', l.parent ?? null, p.parent);
    }
    // The same with no flags: the live read path (realpath of /sys links) must agree too.
    for (const p of live.list.devices) {
      const l = theirs.get(p.address);
      if (l) tally.compare(fixture, 'lspci', p.address, 'parent (no --root)', l.parent ?? null, p.parent);
    }
    check('lspci');
  });

  it('IOMMU groups: passthru groups has the members lspci reports per IOMMUGroup', () => {
    const byGroup = new Map<number, string[]>();
    for (const l of lspci) if (l.iommuGroup !== undefined) byGroup.set(l.iommuGroup, [...(byGroup.get(l.iommuGroup) ?? []), l.address]);
    const peer = Object.fromEntries([...byGroup].sort((a, b) => a[0] - b[0]).map(([g, m]) => [g, m.sort()]));
    const ours = Object.fromEntries(rooted.groups.groups.map((g) => [g.id, [...g.devices].sort()]));
    tally.compare(fixture, 'lspci', 'groups', 'members', peer, ours);
    check('lspci');
  });

  it('driverctl list-devices agrees on every driver and every driver_override', () => {
    const mine = new Map(rooted.list.devices.map((d) => [d.address, d]));
    expect(driverctl.length, 'driverctl listed no device').toBeGreaterThan(0);
    tally.compare(fixture, 'driverctl', 'devices', 'addresses', driverctl.map((d) => d.address).sort(), [...mine.keys()].sort());
    for (const d of driverctl) {
      const p = mine.get(d.address);
      if (!p) continue;
      tally.compare(fixture, 'driverctl', d.address, 'driver', d.driver, p.driver);
      tally.compare(fixture, 'driverctl', d.address, 'override set', d.overridden, p.driverOverride !== null);
    }
    check('driverctl');
  });

  it('dpdk-devbind.py --status agrees on the network devices, their drivers and interfaces', () => {
    const mine = new Map(rooted.list.devices.map((d) => [d.address, d]));
    const nics = devbind.filter((d) => d.section.startsWith('Network') || d.section.startsWith('Other Network'));
    tally.compare(
      fixture,
      'dpdk-devbind',
      'network devices',
      'addresses',
      nics.map((d) => d.address).sort(),
      rooted.list.devices
        .filter((d) => d.class.startsWith('02'))
        .map((d) => d.address)
        .sort(),
    );
    for (const d of devbind) {
      const p = mine.get(d.address);
      tally.compare(fixture, 'dpdk-devbind', d.address, 'driver', d.driver, p ? p.driver : 'absent');
      tally.compare(fixture, 'dpdk-devbind', d.address, 'interfaces', [...d.interfaces].sort(), p ? [...p.net].sort() : 'absent');
    }
    check('dpdk-devbind');
  });

  it('virt-host-validate agrees on CPU virtualization, the IOMMU in firmware and in the kernel', () => {
    const d = rooted.doctor;
    const hw = vhvResult(vhv, /^for hardware virtualization/);
    const fw = vhvResult(vhv, /^for device assignment IOMMU support/);
    const kernel = vhvResult(vhv, /^if IOMMU is enabled by kernel/);
    tally.compare(fixture, 'virt-host-validate', 'hardware virtualization', 'PASS', passes(hw?.result), passes(doctorCheck(d, 'cpu.virtualization')?.status));
    tally.compare(fixture, 'virt-host-validate', 'IOMMU in firmware', 'PASS', passes(fw?.result), passes(doctorCheck(d, 'iommu.firmware')?.status));
    // virt-host-validate checks the kernel only once the firmware check passed.
    if (kernel) {
      tally.compare(fixture, 'virt-host-validate', 'IOMMU enabled by kernel', 'PASS', passes(kernel.result), passes(doctorCheck(d, 'iommu.kernel')?.status));
      tally.compare(fixture, 'virt-host-validate', 'IOMMU enabled by kernel', 'groups exist', passes(kernel.result), rooted.groups.groups.length > 0);
    }
    check('virt-host-validate');

    const groups = new Set(lspci.map((l) => l.iommuGroup).filter((g) => g !== undefined)).size;
    const overrides = driverctl.filter((x) => x.overridden).length;
    const nics = devbind.filter((x) => x.section.includes('Network'));
    const short = (c: ValidateCheck | undefined) => (c ? `${c.result}${c.message ? ` (${c.message.replace(/\|/g, '/')})` : ''}` : 'not checked');
    const kernelCheck = doctorCheck(d, 'iommu.kernel');
    rows.set(fixture, [
      `${lspci.length} devices, ${groups} IOMMU groups, ${lspci.filter((l) => l.driver).length} with a driver`,
      `${driverctl.length} devices, ${overrides} overrides`,
      nics.length <= 2
        ? nics.map((n) => `${n.address} ${n.driver ?? 'no driver'}${n.interfaces.length ? ` if=${n.interfaces.join(',')}` : ''}`).join('; ') ||
          'no network devices'
        : `${nics.length} NICs: ${[...nics.reduce((m, n) => m.set(n.driver ?? 'no driver', (m.get(n.driver ?? 'no driver') ?? 0) + 1), new Map<string, number>())].map(([drv, k]) => (k > 1 ? `${drv} x${k}` : drv)).join(', ')}`,
      `firmware: ${short(fw)}; kernel: ${short(kernel)}`,
      `list: ${rooted.list.devices.length} devices; groups: ${rooted.groups.groups.length}; doctor: ${d.verdict} (iommu.kernel ${kernelCheck?.status ?? '?'})`,
    ]);
  });
});
