import { describe, expect, it } from 'vitest';
import { effectiveGrubCmdline, parseGrubDefault } from '../src/GrubDefault';
import { BootConfigError } from '../src/BootConfigError';
import { parseCmdline } from '../src/KernelCmdline';
import { DEBIAN_GRUB, FEDORA_GRUB, UBUNTU_GRUB } from './samples';

const UBUNTU_CLOUD_DROPIN = `# Cloud Image specific Grub settings for Generic Cloud Images
# CLOUD_IMG: This file was created/modified by the Cloud Image build process

# Set the recordfail timeout
GRUB_RECORDFAIL_TIMEOUT=0

# Do not wait on grub prompt
GRUB_TIMEOUT=0

# Set the default commandline
GRUB_CMDLINE_LINUX_DEFAULT="console=tty1 console=ttyS0"

# Set the grub console type
GRUB_TERMINAL=console
`;

const PROXMOX_DROPIN = `# passthrough settings, see https://pve.proxmox.com/wiki/PCI_Passthrough
GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT intel_iommu=on iommu=pt"
GRUB_CMDLINE_LINUX="\${GRUB_CMDLINE_LINUX} pcie_acs_override=downstream,multifunction"
`;

describe('parseGrubDefault', () => {
  it('reads the Debian file; GRUB_DISTRIBUTOR stays unresolved, not fatal', () => {
    const g = parseGrubDefault([{ path: '/etc/default/grub', text: DEBIAN_GRUB }]);
    expect(g.vars).toMatchObject({ GRUB_DEFAULT: '0', GRUB_TIMEOUT: '5', GRUB_CMDLINE_LINUX_DEFAULT: 'quiet', GRUB_CMDLINE_LINUX: '' });
    expect(g.vars['GRUB_DISTRIBUTOR']).toBeUndefined();
    expect(g.unresolved['GRUB_DISTRIBUTOR']).toMatchObject({ path: '/etc/default/grub', line: 8 });
    expect(g.origin['GRUB_CMDLINE_LINUX_DEFAULT']).toEqual({ path: '/etc/default/grub', line: 9 });
    expect(effectiveGrubCmdline(g.vars)).toBe(' quiet');
  });

  it('reads Ubuntu and Fedora files', () => {
    expect(parseGrubDefault([{ path: '/etc/default/grub', text: UBUNTU_GRUB }]).vars['GRUB_CMDLINE_LINUX_DEFAULT']).toBe('quiet splash');
    const f = parseGrubDefault([{ path: '/etc/default/grub', text: FEDORA_GRUB }]);
    expect(f.vars).toMatchObject({ GRUB_CMDLINE_LINUX: 'rd.luks.uuid=luks-3f1c rhgb quiet', GRUB_ENABLE_BLSCFG: 'true', GRUB_TERMINAL_OUTPUT: 'console' });
  });

  it('applies grub.d drop-ins in order, later files win, $VAR and ${VAR} append', () => {
    const g = parseGrubDefault([
      { path: '/etc/default/grub', text: UBUNTU_GRUB },
      { path: '/etc/default/grub.d/50-cloudimg-settings.cfg', text: UBUNTU_CLOUD_DROPIN },
      { path: '/etc/default/grub.d/iommu.cfg', text: PROXMOX_DROPIN },
    ]);
    expect(g.vars['GRUB_CMDLINE_LINUX_DEFAULT']).toBe('console=tty1 console=ttyS0 intel_iommu=on iommu=pt');
    expect(g.vars['GRUB_CMDLINE_LINUX']).toBe(' pcie_acs_override=downstream,multifunction');
    expect(g.origin['GRUB_CMDLINE_LINUX_DEFAULT']).toEqual({ path: '/etc/default/grub.d/iommu.cfg', line: 2 });
    expect(g.origin['GRUB_TIMEOUT']?.path).toBe('/etc/default/grub.d/50-cloudimg-settings.cfg');
    expect(parseCmdline(effectiveGrubCmdline(g.vars)).params.map((p) => p.raw)).toEqual([
      'pcie_acs_override=downstream,multifunction',
      'console=tty1',
      'console=ttyS0',
      'intel_iommu=on',
      'iommu=pt',
    ]);
  });

  it('handles shell quoting, escapes, export, continuation and several assignments per line', () => {
    const text = [
      "A='single $NOT \\n'",
      'export B="x \\"q\\" \\\\ \\$HOME `"',
      'C=un\\ quoted D=$A',
      'E="one \\',
      'two" ; F=${E}!',
      'G= # empty, then a comment',
      'export A',
    ]
      .join('\n')
      .replace('`', '\\`');
    const g = parseGrubDefault([{ path: '/etc/default/grub', text }]);
    expect(g.vars).toEqual({
      A: 'single $NOT \\n',
      B: 'x "q" \\ $HOME `',
      C: 'un quoted',
      D: 'single $NOT \\n',
      E: 'one two',
      F: 'one two!',
      G: '',
    });
    expect(g.origin['F']).toEqual({ path: '/etc/default/grub', line: 5 });
  });

  const parseError = (text: string, options?: Parameters<typeof parseGrubDefault>[1]): BootConfigError => {
    try {
      parseGrubDefault(
        [
          { path: '/etc/default/grub', text: 'GRUB_TIMEOUT=5\n' },
          { path: '/etc/default/grub.d/x.cfg', text },
        ],
        options,
      );
    } catch (e) {
      expect(e).toBeInstanceOf(BootConfigError);
      return e as BootConfigError;
    }
    throw new Error('expected a throw');
  };

  it('throws naming file and line for unterminated quotes and unsupported syntax', () => {
    const e = parseError('# c\nGRUB_CMDLINE_LINUX="quiet\nGRUB_TIMEOUT=1\n');
    expect(e.message).toBe('Failed parsing GRUB defaults via /etc/default/grub.d/x.cfg:2: unterminated double quote');
    expect(e.line).toBe(2);
    expect(parseError("A='x").message).toMatch(/x\.cfg:1: unterminated single quote/);
    expect(parseError('\n\nif [ -e /x ]; then A=1; fi').message).toMatch(/x\.cfg:3: unsupported shell command 'if'/);
    expect(parseError('A=1 | cat').message).toMatch(/unsupported shell operator/);
    expect(parseError('A=${B:-x}').message).toMatch(/unsupported parameter expansion/);
    expect(parseError('GRUB_CMDLINE_LINUX+=" x"').message).toMatch(/unsupported shell command/);
  });

  it('throws on command substitution in the command-line variables (or anywhere when asked)', () => {
    expect(parseError('\nGRUB_CMDLINE_LINUX_DEFAULT="$(cat /etc/opts)"').message).toBe(
      'Failed evaluating GRUB_CMDLINE_LINUX_DEFAULT via /etc/default/grub.d/x.cfg:2: command substitution $(cat /etc/opts) cannot be evaluated',
    );
    expect(parseError('X=`hostname`\nGRUB_CMDLINE_LINUX="$X"').message).toMatch(/x\.cfg:2: it references X/);
    expect(parseError('GRUB_DISTRIBUTOR=`lsb_release -is`', { mustResolve: 'all' }).message).toMatch(
      /Failed evaluating GRUB_DISTRIBUTOR via \/etc\/default\/grub\.d\/x\.cfg:1/,
    );
  });
});
