/** Kernel command line and boot-loader layer: the running parameters, and what the next boot will pass. */
import { type KernelParam, canonicalParamKey, formatParam, multisetMinus, parseCmdline, readBootLoaderCmdlines } from '@passthru/boot-config';
import type { CheckResult, CheckStatus } from '../DoctorReport';
import { judgeIommuParams, type CpuVendor } from '../IommuParams';
import { check, excerpt, planRemediation } from './check';
import { kernelAbsent, notInTree } from './evidence';
import type { Facts } from './Facts';
import { diagnoseKernel } from './kernelChecks';

export function checkCmdline(f: Facts): CheckResult {
  if (f.cmdlineText === undefined && f.absent.has('/proc/cmdline'))
    return check('iommu.cmdline', 'SKIP', `${notInTree('/proc/cmdline')}: the running kernel's parameters cannot be read.`, ['/proc/cmdline: absent']);
  if (f.cmdlineText === undefined)
    return check('iommu.cmdline', 'SKIP', `/proc/cmdline not readable${f.cmdlineError ? `: ${f.cmdlineError}` : ''}.`, ['/proc/cmdline: not readable']);
  const ev = [`/proc/cmdline: ${excerpt(f.cmdlineText, 400)}`, ...f.findings.map((x) => `${x.param}: ${x.verdict}: ${x.reason}`)];
  const fails = f.findings.filter((x) => x.verdict === 'fail');
  const warns = f.findings.filter((x) => x.verdict === 'warn');
  const missingOn = f.groupIds.length === 0 && !kernelAbsent(f) && diagnoseKernel(f).some((d) => d.kind === 'not-enabled-by-default');
  const fixes = [...fails, ...warns].map((x) => x.fix).filter((x): x is string => x !== undefined);
  if (fails.length > 0 || missingOn) {
    const parts = [
      ...fails.map((x) => `${x.param}: ${x.reason}`),
      ...(missingOn ? ['intel_iommu=on is missing and this kernel leaves VT-d off without it.'] : []),
    ];
    return check(
      'iommu.cmdline',
      'FAIL',
      parts.join(' '),
      ev,
      planRemediation(f, '', fixes.join(' ') || 'Add intel_iommu=on to the kernel command line and reboot.'),
    );
  }
  if (warns.length > 0) {
    const note =
      f.iommuVendor === 'amd'
        ? ' AMD-Vi needs no kernel parameter: it is on by default when the firmware has an IVRS table (amd_iommu has no "on" value; iommu=pt is an optional trade-off).'
        : '';
    return check(
      'iommu.cmdline',
      'WARN',
      warns.map((x) => `${x.param}: ${x.reason}`).join(' '),
      ev,
      planRemediation(f, note ? `${note.trim()}\n` : '', fixes.join(' ')),
    );
  }
  const relevant = f.findings.filter((x) => x.verdict === 'ok').map((x) => x.param);
  const what = relevant.length > 0 ? ` (${relevant.join(' ')})` : f.iommuVendor === 'amd' ? ' (none needed on AMD)' : '';
  return check('iommu.cmdline', 'PASS', `No kernel parameter disables the IOMMU or interrupt remapping${what}.`, ev);
}

/** Whether a parameter matters to passthrough: judged by judgeIommuParams, or a vfio module option. */
function isRelevant(p: KernelParam, vendor: CpuVendor): boolean {
  return canonicalParamKey(p.key).startsWith('vfio') || judgeIommuParams([p], vendor).length > 0;
}

export function checkBootloaderPending(f: Facts): CheckResult {
  const loaders = readBootLoaderCmdlines(f.host);
  if (loaders.length === 0) {
    return check(
      'bootloader.pending',
      'SKIP',
      'No boot-loader configuration found (/etc/default/grub, /etc/kernel/cmdline, /etc/kernelstub/configuration): cannot tell what the next boot passes.',
      ['/etc/default/grub, /etc/kernel/cmdline, /etc/kernelstub/configuration: absent'],
    );
  }
  const running = f.params.filter((p) => isRelevant(p, f.iommuVendor)).map(formatParam);
  const ev: string[] = [`/proc/cmdline (relevant): ${running.join(' ') || '(none)'}`];
  let status: CheckStatus = 'PASS';
  const parts: string[] = [];
  const loaderName = { grub: 'GRUB', 'systemd-boot': 'systemd-boot (/etc/kernel/cmdline)', kernelstub: 'kernelstub' } as const;
  for (const l of loaders) {
    if (l.cmdline === undefined) {
      ev.push(`${l.files.join(', ')}: ${l.error ?? 'unreadable'}`);
      parts.push(`${loaderName[l.loader]}: cannot read its configuration (${l.error ?? 'unreadable'}).`);
      if (status === 'PASS') status = 'WARN';
      continue;
    }
    const pendingParams = parseCmdline(l.cmdline).params.filter((p) => isRelevant(p, f.iommuVendor));
    const pending = pendingParams.map(formatParam);
    ev.push(`${l.files.join(' + ')}: ${excerpt(l.cmdline, 300) || '(empty)'}`);
    const added = multisetMinus(pending, running);
    const dropped = multisetMinus(running, pending);
    const badNext = judgeIommuParams(pendingParams, f.iommuVendor).filter((x) => x.verdict === 'fail');
    if (added.length === 0 && dropped.length === 0) {
      parts.push(`${loaderName[l.loader]} will pass the same IOMMU parameters as the running kernel (${pending.join(' ') || 'none'}).`);
    } else {
      const diff = [added.length > 0 ? `adds ${added.join(' ')}` : '', dropped.length > 0 ? `drops ${dropped.join(' ')}` : '']
        .filter((x) => x !== '')
        .join(' and ');
      parts.push(`The next boot differs from the running kernel: ${loaderName[l.loader]} ${diff}${badNext.length > 0 ? '' : ' (reboot to apply)'}.`);
      if (status === 'PASS') status = 'WARN';
    }
    if (badNext.length > 0) {
      parts.push(`On the next boot ${badNext.map((x) => x.param).join(' ')} will switch passthrough support off.`);
      status = 'FAIL';
    }
  }
  const remediation =
    status === 'FAIL'
      ? planRemediation(f, '', 'Fix the boot-loader configuration before rebooting.')
      : status === 'WARN'
        ? 'Reboot to run with the configured parameters (after regenerating the boot-loader configuration: update-grub, kernel-install or kernelstub).'
        : undefined;
  return check('bootloader.pending', status, parts.join(' '), ev, remediation);
}
