// The boot-framebuffer guard and persist's boot parameter, on the gpu-boot-efifb fixture (efifb in
// BAR 1 of the GPU) with its boot_vga cleared so that no other guard stands in the way: where
// vfio-pci removes the framebuffer (6.0+) the bind goes ahead and says so; before 6.0 it refuses
// without --force and names the parameter, which persist then writes into the boot loader's
// command line.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostFs } from '@passthru/hostfs';
import { SimulatedKernel, loadHostSpec, materialize, parseHostSpec } from '@passthru/sysfs-sim';
import { afterEach, describe, expect, it } from 'vitest';
import { bindDevices, hostReadiness, persistDevices } from '../src/index';
import { driverOf, instant, state, targets } from './simHost';
import { diffSnapshots, snapshotTree } from './treeSnapshot';

const SPEC = loadHostSpec(fileURLToPath(new URL('../../../fixtures/specs/gpu-boot-efifb.yaml', import.meta.url)));
const GPU = '0000:01:00.0';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function efifbHost(release: string, bootVga = false) {
  const spec = JSON.parse(JSON.stringify(SPEC));
  spec.kernelRelease = release;
  spec.devices[5].bootVga = bootVga;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'binder-efifb-'));
  dirs.push(root);
  materialize(parseHostSpec(spec), root);
  const host = new HostFs(root, { kernel: new SimulatedKernel(root, { logWrites: false }) });
  return { root, host, efifb: () => host.readText('/proc/iomem').includes(': efifb') };
}

describe('the boot-framebuffer guard', () => {
  it('Linux 5.15: refuses without --force (nothing written), naming efifb, BAR 1 and video=efifb:off; --force binds and efifb stays', () => {
    const { root, host, efifb } = efifbHost('5.15.0-91-generic');
    const before = snapshotTree(root);
    const blocked = bindDevices(host, state(host), { targets: targets(GPU) }, instant);
    expect(blocked.status).toBe('blocked');
    expect(blocked.guards).toEqual([expect.objectContaining({ id: 'boot-framebuffer', address: GPU })]);
    expect(blocked.guards[0]!.advisory).toBeUndefined();
    expect(blocked.guards[0]!.summary).toContain('the firmware framebuffer (efifb) holds its BAR 1 [mem 0x6000000000-0x600fffffff 64bit pref]');
    expect(blocked.guards[0]!.summary).toContain('a VM given it would fail to start');
    expect(blocked.guards[0]!.summary).toContain('Add video=efifb:off to the kernel command line (passthru persist adds it)');
    expect(blocked.guards[0]!.evidence).toContain('/proc/iomem: 6000000000-60007e8fff : efifb');
    expect(diffSnapshots(before, snapshotTree(root))).toEqual([]);

    const forced = bindDevices(host, state(host), { targets: targets(GPU), force: true }, instant);
    expect(forced.status).toBe('applied');
    expect(driverOf(host, GPU)).toBe('vfio-pci');
    expect(efifb()).toBe(true);
  });

  it('Linux 6.1: an advisory finding, the bind proceeds, and vfio-pci removes efifb; readiness calls the GPU bindable', () => {
    const { host, efifb } = efifbHost('6.1.0-28-amd64');
    expect(hostReadiness(host, state(host)).devices.find((d) => d.address === GPU)).toMatchObject({ status: 'bindable', guards: [] });
    const outcome = bindDevices(host, state(host), { targets: targets(GPU) }, instant);
    expect(outcome.blockedBy).toEqual([]);
    expect(outcome.status).toBe('applied');
    expect(outcome.guards).toEqual([expect.objectContaining({ id: 'boot-framebuffer', advisory: true })]);
    expect(outcome.guards[0]!.summary).toContain('vfio-pci on Linux 6.1.0-28-amd64 removes it when it binds, and the host console on this GPU goes dark');
    expect(efifb()).toBe(false);
  });

  it('the boot VGA GPU as the fixture has it: both guards, boot-vga first', () => {
    const { host } = efifbHost('5.15.0-91-generic', true);
    const planned = bindDevices(host, state(host), { targets: targets(GPU), dryRun: true }, instant);
    expect(planned.guards.map((g) => `${g.id} ${g.address}`)).toEqual([`boot-vga ${GPU}`, `boot-framebuffer ${GPU}`]);
    expect(planned.blockedBy).toEqual(['guards']);
  });
});

describe('persist and the firmware framebuffer', () => {
  const grubAfter = (outcome: Awaited<ReturnType<typeof persistDevices>>) => outcome.plan.changes.find((c) => c.path === '/etc/default/grub')?.after ?? '';

  it('Linux 5.15: the GRUB edit adds video=efifb:off; the finding is a note, not a refusal', async () => {
    const { host } = efifbHost('5.15.0-91-generic');
    const outcome = await persistDevices(host, state(host), { targets: targets(GPU), dryRun: true, stamp: 'T' });
    expect(grubAfter(outcome)).toContain('GRUB_CMDLINE_LINUX_DEFAULT="quiet splash intel_iommu=on video=efifb:off"');
    const note = outcome.plan.warnings.find((w) => w.includes('[boot-framebuffer]'));
    expect(note).toMatch(/^0000:01:00\.0 \[boot-framebuffer\] the firmware framebuffer \(efifb\)/);
  });

  it('Linux 6.1: no boot parameter (vfio-pci removes it when it binds at boot)', async () => {
    const { host } = efifbHost('6.1.0-28-amd64');
    const outcome = await persistDevices(host, state(host), { targets: targets(GPU), dryRun: true, stamp: 'T' });
    expect(grubAfter(outcome)).not.toContain('efifb');
    expect(outcome.plan.warnings.join('\n')).toContain('removes it when it binds');
  });
});
