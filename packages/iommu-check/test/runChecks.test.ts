import * as fs from 'node:fs';
import { planCmdlineRemediation } from '../src/cmdlineRemediation';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { SimulatedKernel } from '@passthru/sysfs-sim';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckStatus, DoctorReport } from '../src/DoctorReport';
import { DoctorReportSchema } from '../src/schemas';
import { runChecks } from '../src/runChecks';
import { cleanupFixtures, fixtureRoot, specNames, variantRoot } from './fixtureHosts';

afterAll(cleanupFixtures);

function run(name: string, devices: string[] = []): DoctorReport {
  const root = fixtureRoot(name);
  // rom.* reads an asked device's ROM, which takes the enable write: the tree's simulated kernel takes it.
  return runChecks(new HostFs(root, { kernel: new SimulatedKernel(root, { logWrites: false }) }), { devices });
}

function statuses(r: DoctorReport): Record<string, CheckStatus> {
  return Object.fromEntries(r.checks.map((c) => [c.id, c.status]));
}

function byId(r: DoctorReport, id: string) {
  const c = r.checks.find((x) => x.id === id);
  if (c === undefined) throw new Error(`no check ${id} in ${r.checks.map((x) => x.id).join(', ')}`);
  return c;
}

const BASE_IDS = [
  'pci.devices',
  'cpu.virtualization',
  'iommu.firmware',
  'iommu.kernel',
  'iommu.cmdline',
  'bootloader.pending',
  'iommu.mode',
  'irq.remapping',
  'vfio.modules',
  'vfio.modprobe',
  'vfio.initramfs',
];

/** Per fixture host: the verdict and every check's status, with and without asked devices. */
const EXPECTED: Record<string, { devices: string[]; verdict: DoctorReport['verdict']; checks: Record<string, CheckStatus> }[]> = {
  'intel-workstation': [
    {
      devices: [],
      verdict: 'ready',
      checks: {
        'pci.devices': 'PASS',
        'cpu.virtualization': 'PASS',
        'iommu.firmware': 'PASS',
        'iommu.kernel': 'PASS',
        'iommu.cmdline': 'PASS',
        'bootloader.pending': 'PASS',
        'iommu.mode': 'PASS',
        'irq.remapping': 'PASS',
        'vfio.modules': 'PASS',
        'vfio.modprobe': 'PASS',
        'vfio.initramfs': 'SKIP',
      },
    },
    // The RTX 4090's group holds only its own four functions, still on host drivers: movable together.
    {
      devices: ['01:00.0'],
      verdict: 'ready-with-warnings',
      checks: { 'group.viable.0000:01:00.0': 'WARN', 'acs.0000:01:00.0': 'PASS', 'vfio.initramfs': 'SKIP' },
    },
  ],
  'intel-iommu-off': [
    {
      devices: [],
      verdict: 'not-ready',
      checks: {
        'pci.devices': 'PASS',
        'cpu.virtualization': 'PASS',
        'iommu.firmware': 'PASS',
        'iommu.kernel': 'FAIL',
        'iommu.cmdline': 'FAIL',
        'bootloader.pending': 'PASS',
        'iommu.mode': 'SKIP',
        'irq.remapping': 'SKIP',
        'vfio.modules': 'WARN',
        'vfio.modprobe': 'PASS',
        'vfio.initramfs': 'SKIP',
      },
    },
    { devices: ['0000:01:00.0'], verdict: 'not-ready', checks: { 'group.viable.0000:01:00.0': 'FAIL', 'acs.0000:01:00.0': 'PASS' } },
  ],
  'laptop-no-iommu': [
    {
      devices: [],
      verdict: 'not-ready',
      checks: {
        'pci.devices': 'PASS',
        'cpu.virtualization': 'PASS',
        'iommu.firmware': 'FAIL',
        'iommu.kernel': 'FAIL',
        'iommu.cmdline': 'FAIL',
        'bootloader.pending': 'PASS',
        'iommu.mode': 'SKIP',
        'irq.remapping': 'SKIP',
        'vfio.modules': 'WARN',
        'vfio.modprobe': 'PASS',
        'vfio.initramfs': 'SKIP',
      },
    },
  ],
  'amd-shared-group': [
    {
      devices: [],
      verdict: 'ready-with-warnings',
      checks: {
        'pci.devices': 'PASS',
        'cpu.virtualization': 'PASS',
        'iommu.firmware': 'PASS',
        'iommu.kernel': 'PASS',
        'iommu.cmdline': 'WARN',
        'bootloader.pending': 'PASS',
        'iommu.mode': 'PASS',
        'irq.remapping': 'PASS',
        'vfio.modules': 'PASS',
        'vfio.modprobe': 'PASS',
        'vfio.initramfs': 'SKIP',
      },
    },
    // ids=1002:ab28 also claims the boot GPU's HDMI audio 0000:0b:00.1.
    { devices: ['0000:06:00.0'], verdict: 'not-ready', checks: { 'group.viable.0000:06:00.0': 'FAIL', 'acs.0000:06:00.0': 'FAIL', 'vfio.modprobe': 'WARN' } },
    { devices: ['0000:0b:00.0'], verdict: 'ready-with-warnings', checks: { 'group.viable.0000:0b:00.0': 'WARN', 'acs.0000:0b:00.0': 'PASS' } },
  ],
  'no-group-device': [
    {
      devices: [],
      verdict: 'ready',
      checks: {
        'pci.devices': 'PASS',
        'cpu.virtualization': 'PASS',
        'iommu.firmware': 'PASS',
        'iommu.kernel': 'PASS',
        'iommu.cmdline': 'PASS',
        'bootloader.pending': 'PASS',
        'iommu.mode': 'PASS',
        'irq.remapping': 'PASS',
        'vfio.modules': 'PASS',
        'vfio.modprobe': 'PASS',
        'vfio.initramfs': 'SKIP',
      },
    },
    { devices: ['00:02.0'], verdict: 'not-ready', checks: { 'group.viable.0000:00:02.0': 'FAIL', 'acs.0000:00:02.0': 'PASS' } },
  ],
  'sriov-server': [
    {
      devices: [],
      verdict: 'ready',
      checks: {
        'pci.devices': 'PASS',
        'cpu.virtualization': 'PASS',
        'iommu.firmware': 'PASS',
        'iommu.kernel': 'PASS',
        'iommu.cmdline': 'PASS',
        'bootloader.pending': 'PASS',
        'iommu.mode': 'PASS',
        'irq.remapping': 'PASS',
        'vfio.modules': 'PASS',
        'vfio.modprobe': 'PASS',
        'vfio.initramfs': 'PASS',
      },
    },
    { devices: ['0000:18:00.0'], verdict: 'ready-with-warnings', checks: { 'group.viable.0000:18:00.0': 'WARN', 'acs.0000:18:00.0': 'PASS' } },
  ],
  'twin-gpu': [
    {
      devices: [],
      verdict: 'ready',
      checks: {
        'pci.devices': 'PASS',
        'cpu.virtualization': 'PASS',
        'iommu.firmware': 'PASS',
        'iommu.kernel': 'PASS',
        'iommu.cmdline': 'PASS',
        'bootloader.pending': 'PASS',
        'iommu.mode': 'PASS',
        'irq.remapping': 'PASS',
        'vfio.modules': 'PASS',
        'vfio.modprobe': 'PASS',
        'vfio.initramfs': 'PASS',
      },
    },
    // The second of two identical cards: its group is its own two functions; initramfs-tools lists no vfio modules yet.
    {
      devices: ['02:00.0'],
      verdict: 'ready-with-warnings',
      checks: { 'group.viable.0000:02:00.0': 'WARN', 'acs.0000:02:00.0': 'PASS', 'vfio.initramfs': 'WARN' },
    },
  ],
  // Two NUMA nodes, a GPU on each: the node-1 GPU is alone in its group; initramfs-tools lists no vfio modules.
  'numa-dual-socket': [
    {
      devices: [],
      verdict: 'ready-with-warnings',
      checks: {
        'pci.devices': 'PASS',
        'cpu.virtualization': 'PASS',
        'iommu.firmware': 'PASS',
        'iommu.kernel': 'PASS',
        'iommu.cmdline': 'PASS',
        'bootloader.pending': 'PASS',
        'iommu.mode': 'PASS',
        'irq.remapping': 'PASS',
        'vfio.modules': 'PASS',
        'vfio.modprobe': 'PASS',
        'vfio.initramfs': 'PASS',
        memlock: 'WARN',
        hugepages: 'PASS',
      },
    },
    // Node 1 has hugepages reserved, node 0 none.
    {
      devices: ['81:00.0'],
      verdict: 'ready-with-warnings',
      checks: { 'group.viable.0000:81:00.0': 'WARN', 'acs.0000:81:00.0': 'PASS', 'vfio.initramfs': 'WARN', hugepages: 'PASS' },
    },
    { devices: ['01:00.0'], verdict: 'ready-with-warnings', checks: { 'group.viable.0000:01:00.0': 'WARN', hugepages: 'WARN' } },
  ],
  // Set up by LXD's production guide; its one GPU is alone in its group (a WARN until bound).
  'lxd-tuned': [
    {
      devices: [],
      verdict: 'ready',
      checks: {
        'pci.devices': 'PASS',
        'cpu.virtualization': 'PASS',
        'iommu.firmware': 'PASS',
        'iommu.kernel': 'PASS',
        'iommu.cmdline': 'PASS',
        'bootloader.pending': 'PASS',
        'iommu.mode': 'PASS',
        'irq.remapping': 'PASS',
        'vfio.modules': 'PASS',
        'vfio.modprobe': 'PASS',
        'vfio.initramfs': 'PASS',
        memlock: 'PASS',
        hugepages: 'PASS',
      },
    },
    { devices: ['02:00.0'], verdict: 'ready-with-warnings', checks: { 'group.viable.0000:02:00.0': 'WARN', 'acs.0000:02:00.0': 'PASS' } },
  ],
  // The PCH's functions share group 10: the onboard audio is not passable (its group holds the
  // LPC bridge, the SMBus and the SPI flash controller); nor is the host bridge; the GPU is.
  'intel-pch-desktop': [
    {
      devices: [],
      verdict: 'ready',
      checks: {
        'pci.devices': 'PASS',
        'cpu.virtualization': 'PASS',
        'iommu.firmware': 'PASS',
        'iommu.kernel': 'PASS',
        'iommu.cmdline': 'PASS',
        'bootloader.pending': 'PASS',
        'iommu.mode': 'PASS',
        'irq.remapping': 'PASS',
        'vfio.modules': 'PASS',
        'vfio.modprobe': 'PASS',
        'vfio.initramfs': 'SKIP',
      },
    },
    { devices: ['00:1f.3'], verdict: 'not-ready', checks: { 'group.viable.0000:00:1f.3': 'FAIL' } },
    { devices: ['00:00.0'], verdict: 'not-ready', checks: { 'group.viable.0000:00:00.0': 'FAIL' } },
    { devices: ['01:00.0'], verdict: 'ready-with-warnings', checks: { 'group.viable.0000:01:00.0': 'WARN', 'acs.0000:01:00.0': 'PASS' } },
  ],
  // No /sys/firmware, /sys/kernel, /sys/class/iommu: nothing proves the IOMMU on or off.
  'partial-capture': [
    {
      devices: [],
      verdict: 'incomplete',
      checks: {
        'pci.devices': 'WARN',
        'cpu.virtualization': 'PASS',
        'iommu.firmware': 'SKIP',
        'iommu.kernel': 'SKIP',
        'iommu.cmdline': 'PASS',
        'bootloader.pending': 'PASS',
        'iommu.mode': 'SKIP',
        'irq.remapping': 'PASS',
        'vfio.modules': 'PASS',
        'vfio.modprobe': 'PASS',
        'vfio.initramfs': 'SKIP',
      },
    },
    { devices: ['01:00.0'], verdict: 'incomplete', checks: { 'group.viable.0000:01:00.0': 'SKIP' } },
  ],
  'vmd-gaps': [
    {
      devices: [],
      verdict: 'ready',
      checks: {
        'pci.devices': 'PASS',
        'cpu.virtualization': 'PASS',
        'iommu.firmware': 'PASS',
        'iommu.kernel': 'PASS',
        'iommu.cmdline': 'PASS',
        'bootloader.pending': 'PASS',
        'iommu.mode': 'PASS',
        'irq.remapping': 'PASS',
        'vfio.modules': 'PASS',
        'vfio.modprobe': 'PASS',
        'vfio.initramfs': 'SKIP',
      },
    },
    { devices: ['10000:e1:00.0'], verdict: 'ready-with-warnings', checks: { 'group.viable.10000:e1:00.0': 'WARN', 'acs.10000:e1:00.0': 'PASS' } },
  ],
  // Issue 15: before a kernel and firmware upgrade (no IOMMUFD), and after it (IOMMUFD built in;
  // the NIC's root port lost ACS, so the NIC now shares a group with the NVMe drive).
  'upgrade-before': [
    {
      devices: [],
      verdict: 'ready',
      checks: { 'pci.devices': 'PASS', 'iommu.kernel': 'PASS', 'vfio.modules': 'PASS', 'vfio.modprobe': 'PASS', iommufd: 'PASS' },
    },
    {
      devices: ['01:00.0', '03:00.0', '04:00.0'],
      verdict: 'not-ready',
      checks: {
        'group.viable.0000:01:00.0': 'PASS',
        'reset.0000:01:00.0': 'WARN',
        'group.viable.0000:03:00.0': 'FAIL',
        'reset.0000:03:00.0': 'WARN',
        'group.viable.0000:04:00.0': 'WARN',
        'reset.0000:04:00.0': 'PASS',
      },
    },
  ],
  'upgrade-after': [
    {
      devices: [],
      verdict: 'ready',
      checks: { 'pci.devices': 'PASS', 'iommu.kernel': 'PASS', 'vfio.modules': 'PASS', iommufd: 'PASS' },
    },
    {
      devices: ['0a:00.0', '04:00.0'],
      verdict: 'not-ready',
      checks: {
        'group.viable.0000:0a:00.0': 'PASS',
        'reset.0000:0a:00.0': 'WARN',
        'group.viable.0000:04:00.0': 'FAIL',
        'acs.0000:04:00.0': 'FAIL',
        'reset.0000:04:00.0': 'PASS',
      },
    },
  ],
  // Issue 26: the guest GPU's ROM is legacy only; the boot GPU's shadowed ROM reads as garbage.
  'gpu-legacy-rom': [
    {
      devices: [],
      verdict: 'ready',
      checks: { 'pci.devices': 'PASS', 'iommu.firmware': 'PASS', 'iommu.kernel': 'PASS', 'iommu.cmdline': 'PASS', 'vfio.initramfs': 'PASS' },
    },
    {
      devices: ['0b:00.0', '0b:00.1'],
      verdict: 'ready-with-warnings',
      checks: { 'group.viable.0000:0b:00.0': 'WARN', 'acs.0000:0b:00.0': 'PASS', 'rom.0000:0b:00.0': 'WARN', 'rom.0000:0b:00.1': 'SKIP' },
    },
    { devices: ['0a:00.0'], verdict: 'ready-with-warnings', checks: { 'acs.0000:0a:00.0': 'PASS', 'rom.0000:0a:00.0': 'WARN' } },
  ],
  // The RTX A4000's ROM has an EFI x64 GOP image; the I210's is a network-boot ROM; the iGPU has no ROM BAR.
  'gpu-efi-rom': [
    {
      devices: [],
      verdict: 'ready',
      checks: { 'pci.devices': 'PASS', 'iommu.firmware': 'PASS', 'iommu.kernel': 'PASS', 'iommu.cmdline': 'PASS', 'vfio.initramfs': 'PASS' },
    },
    {
      devices: ['01:00.0', '03:00.0'],
      verdict: 'ready-with-warnings',
      checks: { 'group.viable.0000:01:00.0': 'WARN', 'rom.0000:01:00.0': 'PASS', 'group.viable.0000:03:00.0': 'WARN', 'rom.0000:03:00.0': 'PASS' },
    },
    { devices: ['00:02.0'], verdict: 'ready-with-warnings', checks: { 'rom.0000:00:02.0': 'WARN' } },
  ],
  // Issue 26: efifb holds BAR 1 of the boot GPU on Linux 5.15, whose vfio-pci leaves it there; the
  // audio function's BAR is held by its own driver only.
  'gpu-boot-efifb': [
    { devices: [], verdict: 'ready', checks: { 'pci.devices': 'PASS', 'iommu.kernel': 'PASS', 'vfio.initramfs': 'PASS' } },
    {
      devices: ['01:00.0'],
      verdict: 'not-ready',
      checks: { 'group.viable.0000:01:00.0': 'WARN', 'reset.0000:01:00.0': 'PASS', 'framebuffer.0000:01:00.0': 'FAIL' },
    },
    { devices: ['01:00.1'], verdict: 'ready-with-warnings', checks: { 'group.viable.0000:01:00.1': 'WARN', 'framebuffer.0000:01:00.1': 'PASS' } },
  ],
  // Issue 26, shared GPUs: the GVT-g iGPU, an SR-IOV GPU's PF, a MIG A100: each on its host
  // driver, so a bind would move it (WARN).
  'intel-gvtg': [
    { devices: [], verdict: 'ready', checks: { 'pci.devices': 'PASS', 'iommu.kernel': 'PASS', 'iommu.cmdline': 'PASS', 'vfio.modules': 'PASS' } },
    { devices: ['00:02.0'], verdict: 'ready-with-warnings', checks: { 'group.viable.0000:00:02.0': 'WARN', 'acs.0000:00:02.0': 'PASS' } },
  ],
  'sriov-gpu': [
    { devices: [], verdict: 'ready', checks: { 'pci.devices': 'PASS', 'iommu.kernel': 'PASS', 'irq.remapping': 'PASS', 'vfio.modules': 'PASS' } },
    { devices: ['18:00.0'], verdict: 'ready-with-warnings', checks: { 'group.viable.0000:18:00.0': 'WARN', 'acs.0000:18:00.0': 'PASS' } },
  ],
  'nvidia-mig': [
    { devices: [], verdict: 'ready', checks: { 'pci.devices': 'PASS', 'iommu.firmware': 'PASS', 'iommu.kernel': 'PASS', 'vfio.modules': 'PASS' } },
    { devices: ['41:00.0'], verdict: 'ready-with-warnings', checks: { 'group.viable.0000:41:00.0': 'WARN', 'acs.0000:41:00.0': 'PASS' } },
  ],
  // Issue 26, large BARs: a 32 GiB Resizable BAR with its group is more than OVMF's default
  // 64-bit MMIO window (WARN); the boot GPU has no assigned BAR in this tree (SKIP).
  'gpu-rebar-32g': [
    { devices: [], verdict: 'ready', checks: { 'pci.devices': 'PASS', 'iommu.firmware': 'PASS', 'iommu.kernel': 'PASS', 'vfio.modules': 'PASS' } },
    {
      devices: ['01:00.0'],
      verdict: 'ready-with-warnings',
      checks: { 'group.viable.0000:01:00.0': 'WARN', 'acs.0000:01:00.0': 'PASS', 'rom.0000:01:00.0': 'PASS', 'bars.0000:01:00.0': 'WARN' },
    },
    { devices: ['02:00.0'], verdict: 'ready-with-warnings', checks: { 'bars.0000:02:00.0': 'SKIP' } },
  ],
};

describe('runChecks on every fixture host', () => {
  it('has an expectation for every fixture spec', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(specNames);
  });

  for (const [name, cases] of Object.entries(EXPECTED)) {
    for (const c of cases) {
      it(`${name}${c.devices.length > 0 ? ` --device ${c.devices.join(' ')}` : ''}: ${c.verdict}`, () => {
        const report = run(name, c.devices);
        // runChecks does not parse its report at run time: it must be what the schema makes of it, byte for byte.
        expect(JSON.stringify(DoctorReportSchema.parse(report))).toBe(JSON.stringify(report));
        const got = statuses(report);
        for (const id of BASE_IDS) expect(got, id).toHaveProperty([id]);
        expect(Object.fromEntries(Object.keys(c.checks).map((id) => [id, got[id]]))).toEqual(c.checks);
        expect(report.verdict).toBe(c.verdict);
        for (const check of report.checks) {
          expect(check.evidence.length, `${check.id} has evidence`).toBeGreaterThan(0);
          if (check.status === 'FAIL') expect(check.remediation, `${check.id} has a remediation`).toBeTruthy();
        }
      });
    }
  }
});

describe('specific cases', () => {
  it('platform functions: group.viable says "not passable: holds platform function ..." with the way out', () => {
    const audio = byId(run('intel-pch-desktop', ['00:1f.3']), 'group.viable.0000:00:1f.3');
    expect(audio.summary).toMatch(
      /^Group 10 is not passable: holds platform function 0000:00:1f\.0 \(ISA bridge\), 0000:00:1f\.4 \(SMBus controller\), 0000:00:1f\.5 \(SPI flash controller\): /,
    );
    expect(audio.summary).toMatch(/--force does not override this/);
    expect(audio.remediation).toMatch(/a slot whose root port has ACS.*another device.*VM without it/);
    expect(audio.evidence).toContain(
      "0000:00:1f.0: platform function (ISA bridge): the LPC/eSPI bridge to the firmware's legacy devices (TPM, super-I/O, embedded controller, timers)",
    );
    expect(byId(run('intel-pch-desktop', ['00:00.0']), 'group.viable.0000:00:00.0').summary).toMatch(
      /not passable: holds platform function 0000:00:00\.0 \(host bridge\)/,
    );
    // The same rule on an existing fixture: intel-workstation's host bridge is alone in group 0.
    const bridge = run('intel-workstation', ['00:00.0']);
    expect(byId(bridge, 'group.viable.0000:00:00.0')).toMatchObject({
      status: 'FAIL',
      summary: expect.stringMatching(/holds platform function 0000:00:00\.0 \(host bridge\)/),
    });
  });

  it('a partial capture: firmware and kernel checks SKIP "not in this tree", the dangling links said, verdict incomplete', () => {
    const r = run('partial-capture', ['01:00.0']);
    expect(r.verdict).toBe('incomplete');
    expect(r.absent).toEqual(['/sys/firmware', '/sys/kernel']);
    expect(byId(r, 'iommu.firmware').summary).toMatch(/^\/sys\/firmware is not in this tree: /);
    const kernel = byId(r, 'iommu.kernel');
    expect(kernel.summary).toMatch(/^\/sys\/kernel is not in this tree: .*7 devices carry iommu_group links \(groups 0 1 2 3 4 6\)/);
    expect(kernel.summary).not.toMatch(/IOMMU absent|off in the firmware/);
    expect(byId(r, 'group.viable.0000:01:00.0').summary).toMatch(/link names group 6, but \/sys\/kernel\/iommu_groups\/6 is not in this tree/);
    expect(byId(r, 'pci.devices').summary).toMatch(/7 read in part/);
    for (const c of r.checks) expect(c.summary).not.toMatch(/No ACPI DMAR table/);
  });

  it('a tree whose /sys/kernel lacks only iommu_groups while devices link to groups: incomplete, said so', () => {
    const root = variantRoot('intel-workstation', 'groups-gone', () => {});
    fs.rmSync(path.join(root, 'sys/kernel/iommu_groups'), { recursive: true });
    const r = runChecks(new HostFs(root));
    expect(r.absent).toEqual(['/sys/kernel/iommu_groups']);
    expect(r.verdict).toBe('incomplete');
    expect(byId(r, 'iommu.kernel')).toMatchObject({
      status: 'SKIP',
      summary: expect.stringMatching(/^\/sys\/kernel\/iommu_groups is not in this tree: .*10 devices carry iommu_group links/),
    });
  });

  it('a real FAIL still makes not-ready on a partial tree; absent /proc/cmdline alone makes incomplete', () => {
    const root = variantRoot('intel-iommu-off', 'no-cmdline', (spec) => {
      spec.absent = ['/proc/cmdline'];
    });
    const r = runChecks(new HostFs(root));
    expect(byId(r, 'iommu.cmdline')).toMatchObject({
      status: 'SKIP',
      summary: "/proc/cmdline is not in this tree: the running kernel's parameters cannot be read.",
    });
    expect(r.absent).toEqual(['/proc/cmdline']);
    expect(r.verdict).toBe('not-ready'); // iommu.kernel FAILs on /sys/kernel that is there
    const ok = variantRoot('intel-workstation', 'ok-no-cmdline', (spec) => {
      spec.absent = ['/proc/cmdline'];
    });
    expect(runChecks(new HostFs(ok)).verdict).toBe('incomplete');
  });

  it('AMD with amd_iommu=on: iommu.cmdline WARN, advice removes it and never adds amd_iommu=on or iommu=pt', () => {
    const r = run('amd-shared-group');
    const c = byId(r, 'iommu.cmdline');
    expect(c.status).toBe('WARN');
    expect(c.summary).toMatch(/amd_iommu=on is not a valid value/);
    expect(c.remediation).toMatch(/Remove amd_iommu=on from GRUB_CMDLINE_LINUX_DEFAULT in \/etc\/default\/grub, then run update-grub and reboot/);
    expect(c.remediation).toContain('-GRUB_CMDLINE_LINUX_DEFAULT="quiet amd_iommu=on iommu=pt"');
    expect(c.remediation).toContain('+GRUB_CMDLINE_LINUX_DEFAULT="quiet iommu=pt"');
    for (const check of r.checks) {
      expect(check.remediation ?? '').not.toMatch(/\badd [^.\n]*amd_iommu=on/i);
      expect(check.remediation ?? '').not.toMatch(/^\+.*amd_iommu=on/m);
    }
    const plans = planCmdlineRemediation(new HostFs(fixtureRoot('amd-shared-group')), 'amd');
    expect(plans.flatMap((p) => p.added)).toEqual([]);
    expect(plans.flatMap((p) => p.removed)).toEqual(['amd_iommu=on']);
    // iommu=pt is reported as a trade-off, not a requirement.
    expect(byId(r, 'iommu.mode').summary).toMatch(/Trade-off.*not required/);
  });

  it('intel-iommu-off: iommu.kernel FAIL "off in the kernel" with the GRUB fix', () => {
    const c = byId(run('intel-iommu-off'), 'iommu.kernel');
    expect(c.status).toBe('FAIL');
    expect(c.summary).toMatch(/^IOMMU off in the kernel: intel_iommu=on is missing/);
    expect(c.remediation).toMatch(/^Add intel_iommu=on to GRUB_CMDLINE_LINUX_DEFAULT in \/etc\/default\/grub, then run update-grub and reboot:/);
    expect(c.remediation).toContain('-GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n+GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on"');
  });

  it('laptop: iommu.firmware FAIL, off in the firmware, advice is the firmware setup', () => {
    const r = run('laptop-no-iommu');
    const fw = byId(r, 'iommu.firmware');
    expect(fw.status).toBe('FAIL');
    expect(fw.summary).toMatch(/No ACPI DMAR table: the IOMMU is off in the firmware/);
    expect(fw.remediation).toMatch(/Enable VT-d .* in the firmware setup/);
    expect(byId(r, 'iommu.kernel').summary).toMatch(/^IOMMU absent: off in the firmware \(no ACPI DMAR table\)/);
  });

  it('amd-shared-group: group.viable FAIL names the SATA controller, acs FAIL names the bridge', () => {
    const r = run('amd-shared-group', ['06:00.0']);
    const g = byId(r, 'group.viable.0000:06:00.0');
    expect(g.status).toBe('FAIL');
    expect(g.summary).toMatch(/0000:09:00\.0 SATA controller 1022:7901 \(driver ahci\)/);
    expect(g.summary).toMatch(/0000:09:00\.0: the host loses its disks/);
    expect(g.summary).toMatch(/must move with it: 0000:06:00\.1/i);
    const a = byId(r, 'acs.0000:06:00.0');
    expect(a.status).toBe('FAIL');
    expect(a.summary).toMatch(/because 0000:03:04\.0 \(downstream switch port\) lacks ACS/);
    expect(a.summary).toContain('0000:09:00.0 SATA controller');
    expect(a.evidence).toContain('/sys/bus/pci/devices/0000:00:01.2/config: root port, ACS enabled (ctrl 0x001d)');
    expect(byId(r, 'vfio.modprobe').summary).toMatch(/also claims 0000:0b:00\.1 \(1002:ab28/);
  });

  it('no-group-device: the iGPU without a group FAILs, with the igfx_off fix', () => {
    const g = byId(run('no-group-device', ['0000:00:02.0']), 'group.viable.0000:00:02.0');
    expect(g.status).toBe('FAIL');
    expect(g.summary).toMatch(/has no IOMMU group: intel_iommu=\.\.\.,igfx_off/);
    expect(g.remediation).toContain('+GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on"');
  });

  it('an asked device that does not exist FAILs its group check; a bad address throws', () => {
    const r = run('intel-workstation', ['0000:42:00.0']);
    expect(byId(r, 'group.viable.0000:42:00.0').status).toBe('FAIL');
    expect(byId(r, 'acs.0000:42:00.0').status).toBe('SKIP');
    expect(() => run('intel-workstation', ['gpu'])).toThrow(/not a PCI address/);
  });

  it('ACS is SKIPped with why when config space is 64 bytes (unprivileged read)', () => {
    const root = variantRoot('intel-workstation', 'short-config', () => {});
    fs.writeFileSync(path.join(root, 'sys/bus/pci/devices/0000:00:01.0/config'), Buffer.alloc(64));
    const a = byId(runChecks(new HostFs(root), { devices: ['01:00.0'] }), 'acs.0000:01:00.0');
    expect(a.status).toBe('SKIP');
    expect(a.summary).toMatch(/only the first 64 bytes/);
  });

  it('intremap=off and intel_iommu=off are failures with the removal planned', () => {
    const root = variantRoot('intel-workstation', 'intel-off', (spec) => {
      spec.cmdline = `${spec.cmdline} intremap=off`;
      spec.files['/etc/default/grub'] = spec.files['/etc/default/grub'].replace('intel_iommu=on', 'intel_iommu=on intremap=off');
    });
    const r = runChecks(new HostFs(root));
    expect(byId(r, 'iommu.cmdline').status).toBe('FAIL');
    expect(byId(r, 'iommu.cmdline').remediation).toMatch(/Remove intremap=off from GRUB_CMDLINE_LINUX_DEFAULT/);
    expect(r.verdict).toBe('not-ready');
  });

  it('bootloader.pending: GRUB will add intel_iommu=on on the next boot -> WARN reboot', () => {
    const root = variantRoot('intel-iommu-off', 'pending', (spec) => {
      spec.files['/etc/default/grub'] = spec.files['/etc/default/grub'].replace('"quiet"', '"quiet intel_iommu=on"');
    });
    const c = byId(runChecks(new HostFs(root)), 'bootloader.pending');
    expect(c.status).toBe('WARN');
    expect(c.summary).toMatch(/GRUB adds intel_iommu=on \(reboot to apply\)/);
  });

  it('not built: a kernel config without CONFIG_INTEL_IOMMU says so', () => {
    const root = variantRoot('intel-iommu-off', 'not-built', (spec) => {
      spec.files[`/boot/config-${spec.kernelRelease}`] = '# CONFIG_INTEL_IOMMU is not set\nCONFIG_VFIO=m\nCONFIG_VFIO_PCI=m\nCONFIG_VFIO_IOMMU_TYPE1=m\n';
    });
    const c = byId(runChecks(new HostFs(root)), 'iommu.kernel');
    expect(c.summary).toMatch(/^IOMMU absent: not built into this kernel \(CONFIG_INTEL_IOMMU=n in \/boot\/config-6\.1\.0-28-amd64\)/);
    expect(c.remediation).toMatch(/Boot a kernel built with CONFIG_INTEL_IOMMU=y/);
  });
});

describe('planCmdlineRemediation picks the boot loader by what exists', () => {
  const tmp = (files: Record<string, string>): HostFs => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-'));
    for (const [p, text] of Object.entries(files)) {
      fs.mkdirSync(path.join(root, path.dirname(p)), { recursive: true });
      fs.writeFileSync(path.join(root, p), text);
    }
    return new HostFs(root);
  };
  const cmdline = 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet\n';

  it('systemd-boot (/etc/kernel/cmdline)', () => {
    const plans = planCmdlineRemediation(tmp({ '/proc/cmdline': cmdline, '/etc/kernel/cmdline': 'root=/dev/sda1 ro quiet\n' }), 'intel', { distro: 'debian' });
    expect(plans.map((p) => [p.loader, p.path, p.changed])).toEqual([['systemd-boot', '/etc/kernel/cmdline', true]]);
    expect(plans[0]!.newText).toBe('root=/dev/sda1 ro quiet intel_iommu=on\n');
  });

  it('kernelstub', () => {
    const config = JSON.stringify(
      { default: { kernel_options: ['quiet', 'splash'] }, user: { kernel_options: ['quiet', 'splash', 'intel_iommu=off'] } },
      null,
      2,
    );
    const plans = planCmdlineRemediation(tmp({ '/proc/cmdline': cmdline, '/etc/kernelstub/configuration': config }), 'intel');
    expect(plans.map((p) => p.loader)).toEqual(['kernelstub']);
    expect(JSON.parse(plans[0]!.newText).user.kernel_options).toEqual(['quiet', 'splash', 'intel_iommu=on']);
  });

  it('GRUB with a drop-in that sets GRUB_CMDLINE_LINUX_DEFAULT: the add goes to the drop-in', () => {
    const host = tmp({
      '/proc/cmdline': cmdline,
      '/etc/default/grub': 'GRUB_CMDLINE_LINUX_DEFAULT="quiet amd_iommu=on"\nGRUB_CMDLINE_LINUX=""\n',
      '/etc/default/grub.d/50-local.cfg': 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT splash"\n',
    });
    const plans = planCmdlineRemediation(host, 'intel', { distro: 'debian' });
    expect(plans.map((p) => [p.path, p.added, p.removed])).toEqual([
      ['/etc/default/grub', [], ['amd_iommu=on']],
      ['/etc/default/grub.d/50-local.cfg', ['intel_iommu=on'], []],
    ]);
    expect(plans[1]!.newText).toBe('GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT splash intel_iommu=on"\n');
  });

  it('nothing to plan when no boot-loader configuration exists', () => {
    expect(planCmdlineRemediation(tmp({ '/proc/cmdline': cmdline }), 'intel')).toEqual([]);
  });
});

describe('the live host', () => {
  it('gives a report without throwing; with no IOMMU groups it says why and is not ready', () => {
    const host = new HostFs('/');
    const report = runChecks(host);
    expect(JSON.stringify(DoctorReportSchema.parse(report))).toBe(JSON.stringify(report));
    const groups = fs.existsSync('/sys/kernel/iommu_groups') ? fs.readdirSync('/sys/kernel/iommu_groups') : [];
    if (groups.length === 0) {
      const kernel = byId(report, 'iommu.kernel');
      expect(kernel.status).toBe('FAIL');
      expect(kernel.summary).toMatch(/^IOMMU (absent|off)/);
      expect(report.verdict).toBe('not-ready');
    }
    if (!fs.existsSync('/sys/firmware/acpi/tables/DMAR') && !fs.existsSync('/sys/firmware/acpi/tables/IVRS')) {
      expect(byId(report, 'iommu.firmware').status).toBe('FAIL');
    }
  });
});
