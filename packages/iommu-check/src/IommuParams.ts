import { type KernelParam, canonicalParamKey, formatParam, splitOptions } from '@passthru/boot-config';
/**
 * A judgement of the IOMMU-relevant kernel parameters by what the kernel really does with them
 * (drivers/iommu/intel/iommu.c, drivers/iommu/amd/init.c, arch/x86/kernel/pci-dma.c,
 * drivers/iommu/irq_remapping.c, drivers/iommu/iommu.c), and the change a CPU vendor needs.
 */

export type CpuVendor = 'intel' | 'amd' | 'other';
export type Verdict = 'ok' | 'warn' | 'fail' | 'info';

export interface IommuParamFinding {
  /** The parameter (or the one option of a comma list) judged, unquoted: `intel_iommu=on`. */
  param: string;
  verdict: Verdict;
  reason: string;
  fix?: string;
}

interface Judged {
  verdict: Verdict;
  reason: string;
  fix?: string;
  /** Findings of one group override each other: the kernel keeps the last setting. */
  group?: string;
  option?: string;
}

const PT_TRADEOFF =
  'Host-owned devices bypass DMA translation (identity mapping): better host I/O performance, but host devices are no longer isolated from each other; devices given to VMs through VFIO are still translated.';

function judgeIntelIommu(option: string, vendor: CpuVendor): Judged {
  const offVendor = vendor !== 'intel';
  const notIntel = 'No effect on this CPU: the Intel IOMMU driver only acts on a DMAR ACPI table.';
  switch (option) {
    case 'on':
      return offVendor
        ? { verdict: 'info', reason: notIntel, group: 'intel:enable' }
        : {
            verdict: 'ok',
            reason: 'Enables Intel VT-d DMA remapping; required where the kernel is built without CONFIG_INTEL_IOMMU_DEFAULT_ON.',
            group: 'intel:enable',
          };
    case 'off':
      return offVendor
        ? { verdict: 'info', reason: notIntel, group: 'intel:enable' }
        : {
            verdict: 'fail',
            reason: 'Disables Intel VT-d: no IOMMU groups, no VFIO passthrough.',
            fix: 'Remove intel_iommu=off and add intel_iommu=on.',
            group: 'intel:enable',
          };
    case 'igfx_off':
      return { verdict: 'info', reason: 'The integrated graphics device is left out of DMA remapping, so it cannot be passed through.' };
    case 'sm_on':
    case 'sm_off':
      return {
        verdict: 'info',
        reason: `Scalable-mode translation ${option === 'sm_on' ? 'on' : 'off'} (VT-d 3.0); does not affect VFIO passthrough.`,
        group: 'intel:sm',
      };
    case 'strict':
      return { verdict: 'info', reason: 'Deprecated spelling of iommu.strict=1 (synchronous IOTLB invalidation).' };
    case 'forcedac':
    case 'sp_off':
    case 'tboot_noforce':
      return { verdict: 'info', reason: `Tuning option ${option}; does not affect passthrough.` };
    default:
      return { verdict: 'warn', reason: `Unknown intel_iommu option '${option}': the kernel ignores it.`, fix: `Remove '${option}'.` };
  }
}

function judgeAmdIommu(option: string, vendor: CpuVendor): Judged {
  const notAmd = 'No effect on this CPU: the AMD IOMMU driver only acts on an IVRS ACPI table.';
  // parse_amd_iommu_options() matches with strncmp(), i.e. by prefix.
  const known: Array<[string, Judged]> = [
    ['fullflush', { verdict: 'info', reason: 'Deprecated; the kernel maps it to iommu.strict=1.' }],
    ['force_enable', { verdict: 'info', reason: 'Forces AMD-Vi on even where the kernel would disable it for broken firmware.' }],
    ['force_isolation', { verdict: 'info', reason: 'Forces a separate DMA domain per device.' }],
    [
      'off',
      vendor === 'amd'
        ? {
            verdict: 'fail',
            reason: 'Disables the AMD IOMMU: no IOMMU groups, no VFIO passthrough.',
            fix: 'Remove amd_iommu=off (AMD-Vi is on by default when the firmware provides IVRS).',
            group: 'amd:enable',
          }
        : { verdict: 'info', reason: notAmd, group: 'amd:enable' },
    ],
    ['pgtbl_v1', { verdict: 'info', reason: 'Selects v1 (host) page tables.', group: 'amd:pgtbl' }],
    ['pgtbl_v2', { verdict: 'info', reason: 'Selects v2 (guest-format) page tables for DMA API domains.', group: 'amd:pgtbl' }],
    ['irtcachedis', { verdict: 'info', reason: 'Disables the interrupt remapping table cache (firmware-bug workaround).' }],
    ['nohugepages', { verdict: 'info', reason: 'Restricts IOMMU page sizes to 4K (slower).', group: 'amd:pgsize' }],
    ['v2_pgsizes_only', { verdict: 'info', reason: 'Restricts IOMMU page sizes to 4K/2M/1G.', group: 'amd:pgsize' }],
  ];
  for (const [name, judged] of known) if (option.startsWith(name)) return judged;
  if (option === 'pt') {
    return {
      verdict: 'warn',
      reason: "amd_iommu=pt is not a valid value: the kernel logs 'Unknown option' and ignores it.",
      fix: 'Use iommu=pt instead, or remove it.',
    };
  }
  return {
    verdict: 'warn',
    reason: `amd_iommu=${option} is not a valid value: the kernel logs 'Unknown option' and ignores it. AMD-Vi is on by default when the firmware provides an IVRS table.`,
    fix: `Ignored, remove it.`,
  };
}

function judgeIommu(option: string, vendor: CpuVendor): Judged {
  if (vendor === 'other') {
    return { verdict: 'info', reason: 'iommu= is parsed by x86 only; use iommu.passthrough= / iommu.strict= elsewhere.' };
  }
  if (/^\d+$/.test(option)) {
    return {
      verdict: 'info',
      reason: `iommu=${option} is not an enable switch: on x86 a number is taken as the GART aperture size; VT-d and AMD-Vi are unaffected.`,
    };
  }
  // iommu_setup() in arch/x86/kernel/pci-dma.c also matches by prefix.
  if (option.startsWith('off')) {
    return { verdict: 'fail', reason: 'Sets no_iommu: both the Intel and the AMD IOMMU drivers stay off; no VFIO passthrough.', fix: 'Remove iommu=off.' };
  }
  if (option.startsWith('nopt')) return { verdict: 'info', reason: 'Host devices use translated DMA (the default on most distro kernels).', group: 'iommu:pt' };
  if (option.startsWith('pt')) return { verdict: 'info', reason: PT_TRADEOFF, group: 'iommu:pt' };
  if (option.startsWith('force')) {
    return { verdict: 'info', reason: 'Forces IOMMU use for all DMA mappings (a GART-era switch); not needed for VT-d or AMD-Vi passthrough.' };
  }
  const legacy = [
    'noforce',
    'biomerge',
    'panic',
    'nopanic',
    'merge',
    'nomerge',
    'allowdac',
    'nodac',
    'usedac',
    'soft',
    'calgary',
    'noaperture',
    'memaper',
    'allowed',
    'fullflush',
    'nofullflush',
    'noagp',
  ];
  if (legacy.some((l) => option.startsWith(l))) return { verdict: 'info', reason: `Legacy DMA/GART option '${option}'; does not affect VT-d or AMD-Vi.` };
  return {
    verdict: 'warn',
    reason: `iommu=${option} is not a valid value on x86: the kernel ignores it.`,
    fix: 'Remove it (to enable the IOMMU use intel_iommu=on on Intel; AMD needs nothing).',
  };
}

function judgeIntremap(option: string): Judged {
  switch (option) {
    case 'on':
      return { verdict: 'ok', reason: 'Interrupt remapping on (the default when the IOMMU supports it).', group: 'intremap:enable' };
    case 'off':
      return {
        verdict: 'fail',
        reason:
          'Disables interrupt remapping: an assigned device could inject arbitrary interrupts, so VFIO refuses assignment unless vfio_iommu_type1.allow_unsafe_interrupts=1.',
        fix: 'Remove intremap=off.',
        group: 'intremap:enable',
      };
    case 'nosid':
      return {
        verdict: 'warn',
        reason: 'Source-id checking of remapped interrupts is off: a device can raise interrupts as another device (firmware-bug workaround).',
        fix: 'Remove intremap=nosid unless the firmware needs it.',
      };
    case 'nopost':
      return { verdict: 'info', reason: 'Posted interrupts off: device interrupts to VMs are delivered through the host (more VM exits).' };
    case 'no_x2apic_optout':
      return { verdict: 'info', reason: 'Ignores the firmware x2APIC opt-out.' };
    default:
      return { verdict: 'warn', reason: `Unknown intremap option '${option}': the kernel ignores it.`, fix: `Remove '${option}'.` };
  }
}

function judgeAmdIommuIntr(value: string | undefined): Judged {
  switch (value) {
    case 'legacy':
      return {
        verdict: 'warn',
        reason: 'Guest virtual APIC (AVIC) interrupt mode off: interrupts stay remapped, but are no longer posted to vCPUs (more VM exits, slower).',
        fix: 'Remove amd_iommu_intr=legacy unless needed for a firmware bug.',
      };
    case 'vapic':
    case 'legacy_ga':
      return { verdict: 'info', reason: `AMD interrupt remapping mode ${value}.` };
    default:
      return { verdict: 'warn', reason: `Unknown amd_iommu_intr value '${value ?? ''}': ignored.`, fix: 'Remove it.' };
  }
}

/** kstrtobool(): 1/y/Y/on -> true, 0/n/N/off -> false. */
function kernelBool(value: string | undefined): boolean | undefined {
  const v = (value ?? '').toLowerCase();
  if (v.startsWith('1') || v.startsWith('y') || v === 'on') return true;
  if (v.startsWith('0') || v.startsWith('n') || v === 'off') return false;
  return undefined;
}

const PCI_ID_LIST = /^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}(?::[0-9a-fA-F]{4}:[0-9a-fA-F]{4})?(?::[0-9a-fA-F]{1,6}(?::[0-9a-fA-F]{1,6})?)?$/;

/** Every judgement of one parameter occurrence (several for comma-list parameters). */
function judgeOne(p: KernelParam, vendor: CpuVendor): Judged[] {
  const key = canonicalParamKey(p.key);
  switch (key) {
    case 'intel_iommu':
      return splitOptions(p.value).map((o) => ({ ...judgeIntelIommu(o, vendor), option: o }));
    case 'amd_iommu':
      return splitOptions(p.value).map((o) => ({ ...judgeAmdIommu(o, vendor), option: o }));
    case 'iommu':
      return splitOptions(p.value).map((o) => ({ ...judgeIommu(o, vendor), option: o }));
    case 'intremap':
      return splitOptions(p.value).map((o) => ({ ...judgeIntremap(o), option: o }));
    case 'amd_iommu_intr':
      return [judgeAmdIommuIntr(p.value)];
    case 'iommu.passthrough': {
      const b = kernelBool(p.value);
      if (b === undefined) return [{ verdict: 'warn', reason: 'Not a boolean: the kernel rejects it.', fix: 'Use iommu.passthrough=1 or 0.' }];
      return [
        b ? { verdict: 'info', reason: PT_TRADEOFF, group: 'iommu:pt' } : { verdict: 'info', reason: 'Host devices use translated DMA.', group: 'iommu:pt' },
      ];
    }
    case 'iommu.strict':
      return [{ verdict: 'info', reason: 'IOTLB invalidation policy (strict = synchronous); does not affect passthrough.' }];
    case 'pcie_acs_override':
      return [
        {
          verdict: 'warn',
          reason:
            'Out-of-tree patch (not in mainline kernels): it makes the kernel pretend devices have ACS, splitting IOMMU groups without real isolation; devices can still reach each other by peer-to-peer DMA.',
          fix: 'Remove pcie_acs_override= and pass the whole real IOMMU group, or use a slot with ACS.',
        },
      ];
    case 'vfio_pci.ids': {
      const ids = splitOptions(p.value);
      const bad = ids.filter((id) => !PCI_ID_LIST.test(id));
      if (bad.length > 0)
        return [{ verdict: 'warn', reason: `vfio-pci ignores malformed ids: ${bad.join(', ')}.`, fix: 'Use vendor:device pairs in hex, e.g. 10de:2684.' }];
      return [{ verdict: 'info', reason: `vfio-pci claims ${ids.join(', ')} when it loads (only if it loads before the native driver).` }];
    }
    case 'vfio_pci.disable_vga':
    case 'vfio_pci.disable_idle_d3':
    case 'vfio_pci.nointxmask':
    case 'vfio_pci.disable_denylist':
      return [{ verdict: 'info', reason: `vfio-pci module option ${key.slice('vfio_pci.'.length)}.` }];
    case 'vfio_iommu_type1.allow_unsafe_interrupts':
      return kernelBool(p.value) === false
        ? [{ verdict: 'ok', reason: 'Unsafe interrupts not allowed (the default).' }]
        : [
            {
              verdict: 'warn',
              reason: 'VFIO allows assignment without interrupt remapping: an assigned device can inject interrupts into the host (no interrupt isolation).',
              fix: 'Remove it once interrupt remapping works (check firmware and intremap=).',
            },
          ];
    case 'modprobe.blacklist':
    case 'module_blacklist':
    case 'rd.driver.blacklist':
      return [{ verdict: 'info', reason: `Modules kept from loading (${key}): ${splitOptions(p.value).join(', ')}.` }];
    case 'rd.driver.pre':
      return [{ verdict: 'info', reason: `dracut loads early: ${splitOptions(p.value).join(', ')}.` }];
    case 'initcall_blacklist':
      return splitOptions(p.value).includes('sysfb_init')
        ? [{ verdict: 'info', reason: 'The firmware framebuffer (sysfb) is not registered, so it does not hold the boot GPU memory.' }]
        : [];
    case 'video':
      return /^(efifb|vesafb|simplefb):off$/.test(p.value ?? '')
        ? [{ verdict: 'info', reason: `Firmware framebuffer disabled (${p.value}), freeing the boot GPU.` }]
        : [];
    default:
      return [];
  }
}

/**
 * Judges each IOMMU-relevant parameter. The kernel applies every occurrence in order, so for
 * settings that override each other (on/off, pt/nopt, ...) only the last one counts: earlier
 * ones are reported as `info` "overridden". Duplicated parameters get an extra `info` note.
 */
export function judgeIommuParams(params: readonly KernelParam[], cpuVendor: CpuVendor): IommuParamFinding[] {
  const entries: Array<{ p: KernelParam; j: Judged }> = [];
  for (const p of params) for (const j of judgeOne(p, cpuVendor)) entries.push({ p, j });

  const lastInGroup = new Map<string, number>();
  entries.forEach((e, i) => {
    if (e.j.group !== undefined) lastInGroup.set(e.j.group, i);
  });

  const findings: IommuParamFinding[] = entries.map((e, i) => {
    const param = e.j.option !== undefined && splitOptions(e.p.value).length > 1 ? `${e.p.key}=${e.j.option}` : formatParam(e.p);
    const last = e.j.group === undefined ? i : lastInGroup.get(e.j.group)!;
    if (last !== i) {
      const winner = entries[last]!;
      return { param, verdict: 'info', reason: `Overridden by the later ${formatParam(winner.p)} (the kernel keeps the last setting).` };
    }
    const f: IommuParamFinding = { param, verdict: e.j.verdict, reason: e.j.reason };
    if (e.j.fix !== undefined) f.fix = e.j.fix;
    return f;
  });

  const counts = new Map<string, KernelParam[]>();
  for (const { p } of entries) {
    const k = canonicalParamKey(p.key);
    const list = counts.get(k) ?? [];
    if (!list.includes(p)) list.push(p);
    counts.set(k, list);
  }
  for (const [key, list] of counts) {
    if (list.length < 2) continue;
    findings.push({
      param: key,
      verdict: 'info',
      reason: `Given ${list.length} times (${list.map(formatParam).join(', ')}); the kernel applies each in order and the last setting wins.`,
      fix: 'Keep one occurrence.',
    });
  }
  return findings;
}

export interface IommuParamChange {
  /** Parameters to add, `key=value`. */
  add: string[];
  /** Parameters to remove, `key=value` as found (a boot-config editor matches them exactly). */
  remove: string[];
}

/**
 * The minimal change to a command line for passthrough: add `intel_iommu=on` on Intel (AMD-Vi is
 * on by default when IVRS exists, so nothing on AMD); remove values that switch the IOMMU or
 * interrupt remapping off, and the invalid `amd_iommu=on`-style values. Comma lists are removed
 * whole (`intel_iommu=off,igfx_off` goes; `intel_iommu=on` comes).
 */
export function iommuParamsToAdd(cpuVendor: CpuVendor, present: readonly KernelParam[]): IommuParamChange {
  const x86 = cpuVendor === 'intel' || cpuVendor === 'amd';
  const remove: string[] = [];
  const kept: KernelParam[] = [];
  for (const p of present) {
    const key = canonicalParamKey(p.key);
    const options = splitOptions(p.value);
    const drop =
      (key === 'intel_iommu' && cpuVendor === 'intel' && options.includes('off')) ||
      (key === 'iommu' && x86 && options.some((o) => o.startsWith('off'))) ||
      (key === 'intremap' && x86 && options.includes('off')) ||
      (key === 'amd_iommu' && cpuVendor === 'amd' && options.some((o) => o.startsWith('off'))) ||
      (key === 'amd_iommu' && options.some((o) => judgeAmdIommu(o, cpuVendor).verdict === 'warn'));
    if (drop) {
      const spelled = formatParam(p);
      if (!remove.includes(spelled)) remove.push(spelled);
    } else {
      kept.push(p);
    }
  }
  const add: string[] = [];
  if (cpuVendor === 'intel' && !kept.some((p) => canonicalParamKey(p.key) === 'intel_iommu' && splitOptions(p.value).includes('on'))) {
    add.push('intel_iommu=on');
  }
  return { add, remove };
}
