import { describe, expect, it } from 'vitest';
import { parseDracutConf, parseInitramfsToolsModules, parseMkinitcpioConf } from '../src/InitramfsConfig';
import { BootConfigError } from '../src/BootConfigError';

/** Arch's /etc/mkinitcpio.conf after the usual passthrough edit (comments trimmed). */
const MKINITCPIO = `# vim:set ft=sh
# MODULES
# The following modules are loaded before any boot hooks are
# run.  Advanced users may wish to specify all system modules
# in this array.  For instance:
#     MODULES=(usbhid xhci_hcd)
MODULES=(vfio_pci vfio vfio_iommu_type1 amdgpu)

# BINARIES
BINARIES=()

# FILES
FILES=()

# HOOKS
HOOKS=(base udev autodetect microcode modconf kms keyboard keymap consolefont block filesystems fsck)

#COMPRESSION="zstd"
`;

describe('parseMkinitcpioConf', () => {
  it('lists MODULES in load order and checks vfio comes first', () => {
    const r = parseMkinitcpioConf([{ path: '/etc/mkinitcpio.conf', text: MKINITCPIO }]);
    expect(r.modules.map((m) => m.module)).toEqual(['vfio_pci', 'vfio', 'vfio_iommu_type1', 'amdgpu']);
    expect(r.modules[0]?.origin).toEqual({ path: '/etc/mkinitcpio.conf', line: 7 });
    expect(r).toMatchObject({
      tool: 'mkinitcpio',
      includesVfioPci: true,
      vfioModules: ['vfio_pci', 'vfio', 'vfio_iommu_type1'],
      gpuDrivers: ['amdgpu'],
      vfioBeforeGpu: true,
      loadedBeforeUdev: true,
      notes: [],
    });
    expect(r.hooks).toContain('modconf');
  });

  it('sees a GPU driver ahead of vfio, multi-line arrays, drop-ins with +=, systemd hook and missing modconf', () => {
    const r = parseMkinitcpioConf([
      { path: '/etc/mkinitcpio.conf', text: 'MODULES=(\n  nvidia   # proprietary\n  vfio-pci\n)\nHOOKS=(systemd autodetect block filesystems)\n' },
      { path: '/etc/mkinitcpio.conf.d/vfio.conf', text: 'MODULES+=(vfio_virqfd?)\n' },
    ]);
    expect(r.modules.map((m) => [m.module, m.optional ?? false, m.origin.path])).toEqual([
      ['nvidia', false, '/etc/mkinitcpio.conf'],
      ['vfio_pci', false, '/etc/mkinitcpio.conf'],
      ['vfio_virqfd', true, '/etc/mkinitcpio.conf.d/vfio.conf'],
    ]);
    expect(r.vfioBeforeGpu).toBe(false);
    expect(r.loadedBeforeUdev).toBe(false);
    expect(r.notes.join('\n')).toMatch(/systemd-modules-load[\s\S]*modconf[\s\S]*vfio_virqfd/);
  });

  it('accepts the old string form', () => {
    expect(parseMkinitcpioConf([{ path: '/etc/mkinitcpio.conf', text: 'MODULES="vfio_pci i915"\n' }]).vfioBeforeGpu).toBe(true);
  });
});

describe('parseDracutConf', () => {
  it('force_drivers load first and before udev', () => {
    const r = parseDracutConf([
      { path: '/etc/dracut.conf.d/10-vfio.conf', text: 'force_drivers+=" vfio_pci vfio vfio_iommu_type1 "\n' },
      { path: '/etc/dracut.conf.d/20-gpu.conf', text: 'add_drivers+=" amdgpu "\n' },
    ]);
    expect(r.modules.map((m) => [m.module, m.via])).toEqual([
      ['vfio_pci', 'force_drivers'],
      ['vfio', 'force_drivers'],
      ['vfio_iommu_type1', 'force_drivers'],
      ['amdgpu', 'add_drivers'],
    ]);
    expect(r).toMatchObject({ tool: 'dracut', includesVfioPci: true, vfioBeforeGpu: true, loadedBeforeUdev: true });
  });

  it('add_drivers only puts vfio in the image; omit_drivers removes it', () => {
    const r = parseDracutConf([{ path: '/etc/dracut.conf.d/vfio.conf', text: 'add_drivers+=" vfio-pci "\n' }]);
    expect(r.loadedBeforeUdev).toBe(false);
    expect(r.notes.join(' ')).toMatch(/force_drivers/);
    const o = parseDracutConf([
      { path: '/etc/dracut.conf.d/a.conf', text: 'force_drivers+=" vfio_pci "' },
      { path: '/etc/dracut.conf.d/b.conf', text: 'omit_drivers+=" vfio_pci "' },
    ]);
    expect(o.includesVfioPci).toBe(false);
    expect(() => parseDracutConf([{ path: '/etc/dracut.conf.d/x.conf', text: 'add_drivers+="$(ls)"' }])).toThrow(BootConfigError);
  });
});

describe('parseInitramfsToolsModules', () => {
  it('reads one module per line with args and comments', () => {
    const text =
      '# List of modules that you want to include in your initramfs.\n# They will be loaded at boot time in the order below.\n#\n# raid1\n# sd_mod\nvfio_pci ids=10de:2684\nvfio\nvfio_iommu_type1\nnouveau\n';
    const r = parseInitramfsToolsModules(text);
    expect(r.modules.map((m) => [m.module, m.args, m.origin.line])).toEqual([
      ['vfio_pci', 'ids=10de:2684', 6],
      ['vfio', undefined, 7],
      ['vfio_iommu_type1', undefined, 8],
      ['nouveau', undefined, 9],
    ]);
    expect(r).toMatchObject({ tool: 'initramfs-tools', vfioBeforeGpu: true, loadedBeforeUdev: false, gpuDrivers: ['nouveau'] });
    expect(r.notes[0]).toMatch(/softdep/);
    expect(parseInitramfsToolsModules('').includesVfioPci).toBe(false);
  });
});
