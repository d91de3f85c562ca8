/** Kernel layer: whether the kernel enabled the IOMMU (and why not), and its DMA translation mode. */
import { type KernelParam, canonicalParamKey, formatParam, splitOptions } from '@passthru/boot-config';
import type { CheckResult } from '../DoctorReport';
import { check, excerpt, planRemediation } from './check';
import { IOMMU_GROUPS, kernelAbsent, missingKernelLayer, notInTree } from './evidence';
import { IOMMU_CLASS, type Facts } from './Facts';
import { expectedTable, firmwareRemediation, iommuConfigOption, vendorIommuName } from './platformChecks';

/** Why the kernel has no IOMMU groups, most fundamental cause first. */
interface KernelDiagnosis {
  kind: 'not-built' | 'off-in-firmware' | 'off-on-cmdline' | 'not-enabled-by-default' | 'driver-failed';
  text: string;
}

export function diagnoseKernel(f: Facts): KernelDiagnosis[] {
  const out: KernelDiagnosis[] = [];
  const want = expectedTable(f.iommuVendor);
  if (f.config !== undefined) {
    const opts = iommuConfigOption(f.iommuVendor);
    const built = opts.some((o) => f.config!.options.get(o) === 'y');
    if (!built) {
      out.push({
        kind: 'not-built',
        text: `not built into this kernel (${opts.map((o) => `${o}=${f.config!.options.get(o) ?? 'absent'}`).join(', ')} in ${f.config.path})`,
      });
    }
  }
  if (f.tables !== undefined && !f.tables.includes(want))
    out.push({
      kind: 'off-in-firmware',
      text: f.isVm ? `no virtual IOMMU from the hypervisor (no ACPI ${want} table in this virtual machine)` : `off in the firmware (no ACPI ${want} table)`,
    });
  const offParams = f.params.filter((p) => {
    const key = canonicalParamKey(p.key);
    const opts = splitOptions(p.value);
    return (
      (key === 'intel_iommu' && f.iommuVendor === 'intel' && opts.includes('off')) ||
      (key === 'iommu' && opts.some((o) => o.startsWith('off'))) ||
      (key === 'amd_iommu' && f.iommuVendor === 'amd' && opts.some((o) => o.startsWith('off')))
    );
  });
  if (offParams.length > 0)
    out.push({ kind: 'off-on-cmdline', text: `off in the kernel: ${offParams.map(formatParam).join(' ')} on the command line switches it off` });
  else if (f.iommuVendor === 'intel' && !hasIntelIommuOn(f.params) && out.every((d) => d.kind !== 'not-built')) {
    const defaultOn = f.config?.options.get('CONFIG_INTEL_IOMMU_DEFAULT_ON');
    if (defaultOn !== 'y') {
      const cfg =
        f.config === undefined
          ? 'the kernel configuration is not readable, and distribution kernels usually leave it off'
          : `CONFIG_INTEL_IOMMU_DEFAULT_ON is ${defaultOn === undefined || defaultOn === 'n' ? 'not set' : defaultOn} in ${f.config.path}`;
      out.push({
        kind: 'not-enabled-by-default',
        text: `off in the kernel: intel_iommu=on is missing from the command line and this kernel does not enable VT-d by default (${cfg})`,
      });
    }
  }
  if (out.length === 0)
    out.push({
      kind: 'driver-failed',
      text: `the ${vendorIommuName(f.iommuVendor)} driver did not initialise although the firmware and the command line allow it (see \`dmesg | grep -i -e DMAR -e AMD-Vi -e IOMMU\` for firmware errors)`,
    });
  return out;
}

function hasIntelIommuOn(params: readonly KernelParam[]): boolean {
  const last = params.filter((p) => canonicalParamKey(p.key) === 'intel_iommu' && splitOptions(p.value).some((o) => o === 'on' || o === 'off')).at(-1);
  return last !== undefined && splitOptions(last.value).includes('on');
}

export function checkKernel(f: Facts): CheckResult {
  const ev = [
    `${IOMMU_CLASS}: ${f.units.length > 0 ? f.units.join(', ') : 'no units'}`,
    `${IOMMU_GROUPS}: ${f.groupsError ?? (f.groupIds.length > 0 ? `${f.groupIds.length} groups` : 'empty')}`,
  ];
  if (f.config)
    ev.push(
      `${f.config.path}: ${[...iommuConfigOption(f.iommuVendor), 'CONFIG_INTEL_IOMMU_DEFAULT_ON', 'CONFIG_IOMMU_DEFAULT_PASSTHROUGH']
        .filter((o, i, a) => a.indexOf(o) === i && (f.iommuVendor === 'intel' || o !== 'CONFIG_INTEL_IOMMU_DEFAULT_ON'))
        .map((o) => `${o}=${f.config!.options.get(o) ?? 'absent'}`)
        .join(' ')}`,
    );
  else ev.push(`/boot/config-${f.release ?? '<release>'}, /proc/config.gz: not readable`);
  if (f.cmdlineText !== undefined) ev.push(`/proc/cmdline: ${excerpt(f.cmdlineText)}`);
  if (f.groupsError !== undefined)
    return check('iommu.kernel', 'FAIL', `Cannot read ${IOMMU_GROUPS}: ${f.groupsError}`, ev, 'Run as root, or check that sysfs is mounted.');
  const missing = missingKernelLayer(f);
  if (missing !== undefined) {
    const linked = f.linkedGroups();
    const ids = [...new Set(linked.values())].sort((a, b) => Number(a) - Number(b));
    if (linked.size > 0) ev.push(`/sys/bus/pci/devices/*/iommu_group: ${linked.size} links to groups ${ids.join(' ')}, their targets not in this tree`);
    const said =
      linked.size > 0
        ? ` Yet ${linked.size} device${linked.size === 1 ? '' : 's'} carry iommu_group links (groups ${ids.join(' ')}): the kernel had the IOMMU on when this tree was made, but the groups are missing here.`
        : '';
    return check(
      'iommu.kernel',
      'SKIP',
      `${notInTree(missing)}: the kernel's IOMMU state (groups, units) cannot be read.${said}`,
      ev,
      'Capture the whole /sys/kernel/iommu_groups (and /sys/firmware/acpi/tables) with the tree, e.g. `passthru snapshot`.',
    );
  }
  if (f.groupIds.length > 0) {
    const units = f.units.length > 0 ? ` by ${f.units.length} unit${f.units.length === 1 ? '' : 's'} (${f.units.join(', ')})` : '';
    return check('iommu.kernel', 'PASS', `The kernel enabled ${vendorIommuName(f.iommuVendor)}${units}: ${f.groupIds.length} IOMMU groups.`, ev);
  }
  const diagnosis = diagnoseKernel(f);
  const absent = diagnosis.some((d) => d.kind === 'not-built' || d.kind === 'off-in-firmware');
  const texts = diagnosis.map((d) => d.text);
  const head = absent ? `IOMMU absent: ${texts.join('; ')}` : `IOMMU ${texts[0]}${texts.length > 1 ? `; ${texts.slice(1).join('; ')}` : ''}`;
  const summary = `${head}. No IOMMU groups, so no device can be passed through.`;
  const remedies: string[] = [];
  for (const d of diagnosis) {
    if (d.kind === 'not-built') remedies.push(`Boot a kernel built with ${iommuConfigOption(f.iommuVendor)[0]}=y (every major distribution kernel has it).`);
    else if (d.kind === 'off-in-firmware') remedies.push(firmwareRemediation(f));
    else if (d.kind === 'off-on-cmdline' || d.kind === 'not-enabled-by-default') {
      const fallback =
        f.iommuVendor === 'intel'
          ? 'Add intel_iommu=on to the kernel command line of your boot loader and reboot.'
          : 'Remove the parameter that switches the IOMMU off from the kernel command line and reboot.';
      remedies.push(planRemediation(f, '', fallback));
    } else
      remedies.push(
        f.iommuVendor === 'amd'
          ? 'AMD-Vi is on by default when the firmware has an IVRS table: nothing needs adding to the command line. Update the firmware; if dmesg reports an IVRS bug, amd_iommu=force_enable or an ivrs_ioapic= / ivrs_hpet= override may help.'
          : 'Check dmesg for DMAR errors and update the firmware.',
      );
  }
  return check('iommu.kernel', 'FAIL', summary, ev, remedies.join('\n'));
}

/**
 * Each group's `type` (DMA, DMA-FQ, identity, ...; unknown when unreadable), its folder opened
 * once for all groups and each file read the scan's way (an absent one costs no exception).
 */
function groupTypes(f: Facts): string[] {
  return f.groupIds.map((id) => f.groupFolders.get(id)?.attributeOrUndefined('type')?.trim() ?? 'unknown');
}

export function checkMode(f: Facts): CheckResult {
  if (kernelAbsent(f))
    return check('iommu.mode', 'SKIP', `${notInTree(missingKernelLayer(f)!)}: no DMA translation mode to read.`, [`${IOMMU_GROUPS}: absent`]);
  if (f.groupIds.length === 0) return check('iommu.mode', 'SKIP', 'No IOMMU groups: no DMA translation mode to report.', [`${IOMMU_GROUPS}: empty`]);
  const counts = new Map<string, number>();
  for (const t of groupTypes(f)) counts.set(t, (counts.get(t) ?? 0) + 1);
  const types = [...counts.entries()].map(([t, n]) => `${t} x${n}`).join(', ');
  const ptParams = f.params.filter((p) => {
    const k = canonicalParamKey(p.key);
    return (k === 'iommu' && splitOptions(p.value).some((o) => o.startsWith('pt'))) || k === 'iommu.passthrough';
  });
  const ev = [`${IOMMU_GROUPS}/*/type: ${types}`];
  if (ptParams.length > 0) ev.push(`/proc/cmdline: ${ptParams.map(formatParam).join(' ')}`);
  const defPt = f.config?.options.get('CONFIG_IOMMU_DEFAULT_PASSTHROUGH');
  if (defPt !== undefined && f.config) ev.push(`${f.config.path}: CONFIG_IOMMU_DEFAULT_PASSTHROUGH=${defPt}`);
  if (counts.has('identity')) {
    return check(
      'iommu.mode',
      'PASS',
      `Trade-off: host-owned devices use identity (passthrough) DMA mapping${ptParams.length > 0 ? ` (${ptParams.map(formatParam).join(' ')})` : ''}: better host I/O performance, but host devices are not isolated from each other. Devices given to VMs through VFIO are still translated; iommu=pt is not required for passthrough.`,
      ev,
    );
  }
  return check(
    'iommu.mode',
    'PASS',
    `Host DMA is translated (${[...counts.keys()].join(', ')}): host devices are isolated too. iommu=pt is optional (a performance trade-off), not a requirement for passthrough.`,
    ev,
  );
}
