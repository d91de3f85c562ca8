import { describe, expect, it } from 'vitest';
import { isModuleBlocked, moduleOptions, parseModprobeConfig } from '../src/ModprobeConfig';

const VFIO_CONF = `# passthrough: claim the RTX 4090 and its audio function
options vfio-pci ids=10de:2684,10de:22ba disable_vga=1
softdep nouveau pre: vfio-pci
softdep nvidia pre: vfio-pci post: nvidia_drm
softdep snd_hda_intel ignored pre: vfio_pci
`;

const BLACKLIST_CONF = `blacklist nouveau
blacklist nvidiafb
install nouveau /bin/false
options nouveau modeset=0
alias pci:v000010DEd*sv*sd*bc03sc*i* vfio-pci
options kvm ignore_msrs=1 \\
  report_ignored_msrs=0
bogus line here
`;

describe('parseModprobeConfig', () => {
  const config = parseModprobeConfig([
    { path: '/lib/modprobe.d/blacklist-nvidia.conf', text: 'blacklist nvidia\n' },
    { path: '/etc/modprobe.d/vfio.conf', text: VFIO_CONF },
    { path: '/etc/modprobe.d/blacklist-nvidia.conf', text: BLACKLIST_CONF },
    { path: '/etc/modprobe.d/README', text: 'options vfio_pci ids=ffff:ffff\n' },
  ]);

  it('orders files like kmod: by name, /etc hiding /lib, *.conf only', () => {
    expect(config.files).toEqual(['/etc/modprobe.d/blacklist-nvidia.conf', '/etc/modprobe.d/vfio.conf']);
    expect(config.skippedFiles).toEqual([
      { path: '/lib/modprobe.d/blacklist-nvidia.conf', reason: 'hidden by /etc/modprobe.d/blacklist-nvidia.conf' },
      { path: '/etc/modprobe.d/README', reason: 'kmod reads only *.conf files' },
    ]);
  });

  it('collects options per normalised module with origins', () => {
    expect(config.options['vfio_pci']).toEqual([
      { module: 'vfio_pci', name: 'ids', value: '10de:2684,10de:22ba', raw: 'ids=10de:2684,10de:22ba', origin: { path: '/etc/modprobe.d/vfio.conf', line: 2 } },
      { module: 'vfio_pci', name: 'disable_vga', value: '1', raw: 'disable_vga=1', origin: { path: '/etc/modprobe.d/vfio.conf', line: 2 } },
    ]);
    expect(moduleOptions(config, 'vfio-pci')).toEqual({ ids: '10de:2684,10de:22ba', disable_vga: '1' });
    // continuation lines join; origin is the first line
    expect(config.options['kvm']?.map((o) => [o.raw, o.origin.line])).toEqual([
      ['ignore_msrs=1', 6],
      ['report_ignored_msrs=0', 6],
    ]);
  });

  it('reads softdeps, blacklists, installs, aliases; ignores bad lines', () => {
    expect(config.softdeps.map(({ module, pre, post }) => ({ module, pre, post }))).toEqual([
      { module: 'nouveau', pre: ['vfio_pci'], post: [] },
      { module: 'nvidia', pre: ['vfio_pci'], post: ['nvidia_drm'] },
      { module: 'snd_hda_intel', pre: ['vfio_pci'], post: [] },
    ]);
    expect(config.blacklists).toEqual([
      { module: 'nouveau', origin: { path: '/etc/modprobe.d/blacklist-nvidia.conf', line: 1 } },
      { module: 'nvidiafb', origin: { path: '/etc/modprobe.d/blacklist-nvidia.conf', line: 2 } },
    ]);
    expect(config.installs).toEqual([{ module: 'nouveau', command: '/bin/false', origin: { path: '/etc/modprobe.d/blacklist-nvidia.conf', line: 3 } }]);
    expect(config.aliases[0]).toMatchObject({ pattern: 'pci:v000010DEd*sv*sd*bc03sc*i*', module: 'vfio_pci' });
    expect(config.ignored).toEqual([
      { origin: { path: '/etc/modprobe.d/blacklist-nvidia.conf', line: 8 }, text: 'bogus line here', reason: "unknown command 'bogus'" },
    ]);
    expect(isModuleBlocked(config, 'nouveau')).toBe(true);
    expect(isModuleBlocked(config, 'nvidia')).toBe(false);
  });

  it('lets the last value of a module option win, as the kernel does', () => {
    const c = parseModprobeConfig([
      { path: '/etc/modprobe.d/a.conf', text: 'options vfio_pci ids=10de:1b80' },
      { path: '/etc/modprobe.d/b.conf', text: 'options vfio-pci ids="10de:2684"' },
    ]);
    expect(moduleOptions(c, 'vfio_pci')).toEqual({ ids: '10de:2684' });
  });
});
