import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { afterAll, describe, expect, it } from 'vitest';
import { planCmdlineEdits } from '../src/bootLoaders';
import { planGrubCmdlineEdit, planKernelCmdlineFileEdit, planKernelstubEdit, type BootConfigEditPlan, type CmdlineEditSpec } from '../src/GrubEdit';
import { unifiedPatch } from '../src/unifiedPatch';
import { applyWithGnuPatch } from './gnuPatch';
import { DEBIAN_GRUB, FEDORA_GRUB, UBUNTU_GRUB } from './samples';

const iommu: CmdlineEditSpec = { add: ['intel_iommu=on', 'iommu=pt'], remove: ['intel_iommu=off', 'intremap'] };

/** The plan's patch, applied by GNU patch to the text it was planned from, gives the plan's new text. */
function expectApplies(plan: Pick<BootConfigEditPlan, 'path' | 'changed' | 'newText' | 'diff'>, before: string): void {
  expect(plan.changed).toBe(true);
  expect(applyWithGnuPatch(plan.path, before, plan.diff)).toBe(plan.newText);
}

describe('unifiedPatch', () => {
  it('is a unified diff with three lines of context, named relative to / for patch -p0', () => {
    expect(unifiedPatch('/f', 'a\nb\nc\n', 'a\nB\nc\n')).toBe('--- f\n+++ f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n');
    expect(unifiedPatch('/etc/modprobe.d/x.conf', null, 'options vfio-pci ids=10de:2684\n')).toBe(
      '--- /dev/null\n+++ etc/modprobe.d/x.conf\n@@ -0,0 +1,1 @@\n+options vfio-pci ids=10de:2684\n',
    );
    expect(unifiedPatch('/f', 'same', 'same')).toBe('');
  });

  it('applies with GNU patch -p0: edits, new files, missing final newlines', () => {
    const cases: Array<[string, string | null, string]> = [
      ['/etc/modprobe.d/passthru-vfio.conf', null, '# Written by passthru persist\noptions vfio-pci ids=10de:2684\n'],
      [
        '/etc/initramfs-tools/modules',
        '# List of modules\nloop\n',
        '# List of modules\nloop\n# passthru: vfio in the initramfs\nvfio\nvfio_iommu_type1\nvfio_pci\n',
      ],
      ['/etc/kernel/cmdline', 'root=/dev/sda1 quiet', 'root=/dev/sda1 quiet intel_iommu=on'],
      ['/etc/kernel/cmdline', '', 'root=/dev/sda1 quiet\n'],
      ['/etc/mkinitcpio.conf', 'A=1\nMODULES=(nvidia)\nB=2', 'A=1\nMODULES=(vfio_pci vfio vfio_iommu_type1 nvidia)\nB=2\n'],
    ];
    for (const [p, before, after] of cases) expect(applyWithGnuPatch(p, before, unifiedPatch(p, before, after))).toBe(after);
  });
});

describe('every planned boot-configuration edit applies with GNU patch -p0', () => {
  it('GRUB defaults: both variables of every sample, an appended variable, a grub.d drop-in', () => {
    for (const text of [DEBIAN_GRUB, UBUNTU_GRUB, FEDORA_GRUB]) {
      for (const variable of ['GRUB_CMDLINE_LINUX_DEFAULT', 'GRUB_CMDLINE_LINUX'])
        expectApplies(planGrubCmdlineEdit(text, '/etc/default/grub', iommu, variable, 'debian'), text);
    }
    expectApplies(planGrubCmdlineEdit('GRUB_TIMEOUT=5', '/etc/default/grub', { add: ['intel_iommu=on'], remove: [] }), 'GRUB_TIMEOUT=5');
    expectApplies(planGrubCmdlineEdit('', '/etc/default/grub.d/passthru.cfg', { add: ['intel_iommu=on'], remove: [] }), '');
  });

  it('/etc/kernel/cmdline (kernel-install), with and without a final newline', () => {
    for (const text of ['root=ZFS=rpool/ROOT/pve-1 boot=zfs quiet foo="a b" intel_iommu=off\n', 'root=/dev/sda1 intremap=off quiet']) {
      expectApplies(planKernelCmdlineFileEdit(text, '/etc/kernel/cmdline', iommu, 'debian'), text);
    }
  });

  it('kernelstub: a unified diff of the JSON file, not a summary of the option list', () => {
    const text = `${JSON.stringify({ default: { kernel_options: ['quiet', 'splash'], esp_path: '/boot/efi' }, user: { kernel_options: ['quiet', 'splash', 'intel_iommu=off'], esp_path: '/boot/efi', config_rev: 3 } }, null, 2)}\n`;
    const plan = planKernelstubEdit(text, '/etc/kernelstub/configuration', iommu);
    expectApplies(plan, text);
    expect(plan.diff).not.toContain('@@ user.kernel_options @@');
    expect(plan.diff).toContain('-      "intel_iommu=off"\n');
  });

  describe('planCmdlineEdits, from a host tree', () => {
    const roots: string[] = [];
    afterAll(() =>
      roots.forEach((r) => {
        fs.rmSync(r, { recursive: true, force: true });
      }),
    );
    const tmp = (files: Record<string, string>): HostFs => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'passthru-plan-'));
      roots.push(root);
      for (const [p, text] of Object.entries(files)) {
        fs.mkdirSync(path.join(root, path.dirname(p)), { recursive: true });
        fs.writeFileSync(path.join(root, p), text);
      }
      return new HostFs(root);
    };

    it('GRUB: one patch per file when both variables of a file change', () => {
      const grub = 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=off"\nGRUB_CMDLINE_LINUX="intremap=off"\n';
      const change = () => ({ add: ['intel_iommu=on'], remove: ['intel_iommu=off', 'intremap=off'] });
      const plans = planCmdlineEdits(tmp({ '/proc/cmdline': 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro\n', '/etc/default/grub': grub }), change, {
        distro: 'debian',
      });
      expect(plans.map((p) => p.where)).toEqual(['GRUB_CMDLINE_LINUX_DEFAULT and GRUB_CMDLINE_LINUX in /etc/default/grub']);
      expect(plans[0]!.diff.match(/^\+\+\+ /gm)).toHaveLength(1);
      expectApplies(plans[0]!, grub);
    });

    it('an empty /etc/kernel/cmdline: the patch is against the empty file, not the /proc/cmdline fallback', () => {
      const change = () => ({ add: ['intel_iommu=on'], remove: [] });
      const plans = planCmdlineEdits(tmp({ '/proc/cmdline': 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet\n', '/etc/kernel/cmdline': '' }), change, {
        distro: 'debian',
      });
      expect(plans[0]!.newText).toBe('root=/dev/sda1 ro quiet intel_iommu=on\n');
      expectApplies(plans[0]!, '');
    });
  });
});
