/** Interrupt layer: interrupt remapping (irq chips, Intel ecap) and VFIO's unsafe-interrupts opt-out. */
import { canonicalParamKey, formatParam, moduleOptions, splitOptions } from '@passthru/boot-config';
import type { CheckResult, CheckStatus } from '../DoctorReport';
import { tryList, tryReadText } from '@passthru/hostfs';
import { decodeIntelEcap, parseInterruptRemapping } from '../InterruptRemapping';
import { IommuCheckError } from '../IommuCheckError';
import { check, planRemediation } from './check';
import { kernelAbsent, missingKernelLayer, notInTree } from './evidence';
import { IOMMU_CLASS, type Facts } from './Facts';

function readIrqChips(f: Facts): { remapped: boolean; chips: string[]; evidence: string } | undefined {
  const text = tryReadText(f.host, '/proc/interrupts').value;
  if (text !== undefined) {
    const s = parseInterruptRemapping(text);
    return { remapped: s.remapped, chips: s.chips, evidence: `/proc/interrupts: irq chips ${s.allChips.join(', ') || '(none)'}` };
  }
  const irqs = tryList(f.host, '/sys/kernel/irq').value ?? [];
  const chips: string[] = [];
  for (const irq of irqs.slice(0, 512)) {
    const c = tryReadText(f.host, `/sys/kernel/irq/${irq}/chip_name`).value?.trim();
    if (c && !chips.includes(c)) chips.push(c);
  }
  if (chips.length === 0) return undefined;
  const ir = chips.filter((c) => /^(IR-|INTEL-IR|AMD-IR)/.test(c));
  return { remapped: ir.length > 0, chips: ir, evidence: `/sys/kernel/irq/*/chip_name: ${chips.join(', ')}` };
}

function unsafeInterruptsAllowed(f: Facts): string | undefined {
  const fromSys = tryReadText(f.host, '/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts').value?.trim();
  if (fromSys === 'Y' || fromSys === '1') return '/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts: Y';
  const p = f.params.filter((x) => canonicalParamKey(x.key) === 'vfio_iommu_type1.allow_unsafe_interrupts').at(-1);
  if (p && /^(1|y|on)/i.test(p.value ?? '')) return `/proc/cmdline: ${formatParam(p)}`;
  const o = moduleOptions(f.modprobe, 'vfio_iommu_type1')['allow_unsafe_interrupts'];
  if (o !== undefined && /^(1|y|on)/i.test(o)) return `/etc/modprobe.d: options vfio_iommu_type1 allow_unsafe_interrupts=${o}`;
  return undefined;
}

export function checkIrqRemapping(f: Facts): CheckResult {
  const chips = readIrqChips(f);
  const ev: string[] = chips ? [chips.evidence] : ['/proc/interrupts, /sys/kernel/irq/*/chip_name: not readable'];
  const ecaps: boolean[] = [];
  for (const u of f.units) {
    const hex = tryReadText(f.host, `${IOMMU_CLASS}/${u}/intel-iommu/ecap`).value;
    if (hex === undefined) continue;
    try {
      const ecap = decodeIntelEcap(hex, `${IOMMU_CLASS}/${u}/intel-iommu/ecap`);
      ecaps.push(ecap.interruptRemapping);
      ev.push(`${IOMMU_CLASS}/${u}/intel-iommu/ecap: ${hex.trim()} (IR=${ecap.interruptRemapping ? 1 : 0}, EIM=${ecap.extendedInterruptMode ? 1 : 0})`);
    } catch (error) {
      if (!(error instanceof IommuCheckError)) throw error;
      ev.push(`${IOMMU_CLASS}/${u}/intel-iommu/ecap: ${error.detail}`);
    }
  }
  const unsafe = unsafeInterruptsAllowed(f);
  if (unsafe) ev.push(unsafe);
  if (chips?.remapped) {
    if (unsafe)
      return check(
        'irq.remapping',
        'WARN',
        `Interrupt remapping is on (${chips.chips.join(', ')}), but VFIO is told to allow unsafe interrupts, which is not needed here.`,
        ev,
        'Remove vfio_iommu_type1.allow_unsafe_interrupts=1 (kernel command line or /etc/modprobe.d).',
      );
    return check('irq.remapping', 'PASS', `Interrupt remapping is on (${chips.chips.join(', ')}): assigned devices cannot inject arbitrary interrupts.`, ev);
  }
  if (kernelAbsent(f))
    return check(
      'irq.remapping',
      'SKIP',
      `No remapped interrupts seen, and whether the IOMMU is on cannot be read (${notInTree(missingKernelLayer(f)!)}).`,
      ev,
    );
  if (f.groupIds.length === 0) return check('irq.remapping', 'SKIP', 'Interrupt remapping needs the IOMMU, which is not enabled (see iommu.kernel).', ev);
  if (chips === undefined) return check('irq.remapping', 'SKIP', 'Cannot tell: neither /proc/interrupts nor /sys/kernel/irq/*/chip_name is readable.', ev);
  const intremapOff = f.params.filter((p) => canonicalParamKey(p.key) === 'intremap' && splitOptions(p.value).includes('off'));
  const unsafeNote = unsafe ? ' VFIO is told to allow unsafe interrupts, so assignment works without isolation.' : '';
  const status: CheckStatus = unsafe ? 'WARN' : 'FAIL';
  if (intremapOff.length > 0) {
    return check(
      'irq.remapping',
      status,
      `Interrupt remapping is off: intremap=off on the command line; VFIO refuses device assignment without it.${unsafeNote}`,
      ev,
      planRemediation(f, '', 'Remove intremap=off from the kernel command line and reboot.'),
    );
  }
  const unsafeFix =
    'Only if you accept that an assigned device can inject interrupts into the host: `options vfio_iommu_type1 allow_unsafe_interrupts=1` in /etc/modprobe.d/vfio.conf.';
  if (ecaps.length > 0 && ecaps.some((x) => !x)) {
    return check(
      'irq.remapping',
      status,
      `The IOMMU hardware has no interrupt remapping (ecap IR=0): VFIO refuses device assignment without it.${unsafeNote}`,
      ev,
      `Use a platform with interrupt remapping. ${unsafeFix}`,
    );
  }
  return check(
    'irq.remapping',
    status,
    `Interrupt remapping is off although the IOMMU is on: no IR- irq chips.${unsafeNote}`,
    ev,
    `Check \`dmesg | grep -i -e DMAR-IR -e 'AMD-Vi.*remap' -e x2apic\` (firmware x2APIC opt-out, IOAPIC/HPET missing from the IVRS/DMAR table); update the firmware. ${unsafeFix}`,
  );
}
