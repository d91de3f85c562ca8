/**
 * The readiness report of `passthru doctor` (its JSON output, with `schemaVersion` added by the
 * CLI). Check ids are stable: scripts select checks by id.
 */
import * as z from 'zod';

export const CHECK_STATUSES = ['PASS', 'WARN', 'FAIL', 'SKIP'] as const;
export const CheckStatusSchema = z.enum(CHECK_STATUSES);
export type CheckStatus = z.infer<typeof CheckStatusSchema>;

export const CheckResultSchema = z.object({
  /** Stable id: `iommu.firmware`, `group.viable.0000:01:00.0`, ... */
  id: z.string().regex(/^[a-z][a-z0-9.:_-]*$/),
  status: CheckStatusSchema,
  /** One sentence: what was found and, for WARN/FAIL, why it matters. */
  summary: z.string(),
  /** The host paths read and the values they held (`/proc/cmdline: ... intel_iommu=on`). */
  evidence: z.array(z.string()),
  /** The exact change that fixes a WARN or FAIL (file, line, command); absent when none is needed. */
  remediation: z.string().optional(),
});
export type CheckResult = z.infer<typeof CheckResultSchema>;

/**
 * `incomplete`: no check failed, but the tree lacks whole layers of evidence (a partial
 * capture without /sys/firmware or /sys/kernel): readiness is neither shown nor refuted.
 */
export const VERDICTS = ['ready', 'not-ready', 'ready-with-warnings', 'incomplete'] as const;
export const VerdictSchema = z.enum(VERDICTS);
export type DoctorVerdict = z.infer<typeof VerdictSchema>;

export const HostIdentitySchema = z.object({
  cpuVendor: z.enum(['intel', 'amd', 'other']),
  cpuModel: z.string().optional(),
  /** The CPU flag KVM needs: vmx (Intel VT-x) or svm (AMD-V); null when neither is present. */
  virtualization: z.enum(['vmx', 'svm']).nullable(),
  kernelRelease: z.string().optional(),
  /** "ASUSTeK COMPUTER INC. ROG STRIX Z790-E GAMING WIFI" */
  board: z.string().optional(),
  /** "American Megatrends Inc. 1402" */
  bios: z.string().optional(),
  /** This host is itself a virtual machine: nested passthrough needs a virtual IOMMU from the outer hypervisor. */
  isVirtualMachine: z.boolean().optional(),
});
export type HostIdentity = z.infer<typeof HostIdentitySchema>;

export const DoctorReportSchema = z.object({
  verdict: VerdictSchema,
  host: HostIdentitySchema,
  checks: z.array(CheckResultSchema),
  /** Evidence layers absent from the tree (/proc/cpuinfo, /proc/cmdline, /sys/firmware, /sys/kernel, /sys/kernel/iommu_groups): the checks that need them are SKIP "not in this tree". */
  absent: z.array(z.string()),
  /** The device checks of `examine`d devices: information, outside `checks` and the verdict. */
  examined: z.array(CheckResultSchema).optional(),
});
export type DoctorReport = z.infer<typeof DoctorReportSchema>;

/**
 * Any FAIL -> not-ready (a FAIL rests on evidence that is there); else absent layers ->
 * incomplete; else any WARN -> ready-with-warnings; SKIP counts as neither.
 */
export function verdictOf(checks: readonly Pick<CheckResult, 'status'>[], absent: readonly string[] = []): DoctorVerdict {
  if (checks.some((c) => c.status === 'FAIL')) return 'not-ready';
  if (absent.length > 0) return 'incomplete';
  if (checks.some((c) => c.status === 'WARN')) return 'ready-with-warnings';
  return 'ready';
}
