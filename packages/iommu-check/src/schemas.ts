/**
 * The readiness report of `passthru doctor` as zod schemas: its JSON output (with `schemaVersion`
 * added by the CLI), what docs/schemas publishes and the tests validate every report against.
 * The types are inferred from them in ./DoctorReport; runChecks builds the report without them,
 * so `doctor` does not load zod.
 */
import * as z from 'zod';
import { CHECK_STATUSES, VERDICTS } from './DoctorReport';

export const CheckStatusSchema = z.enum(CHECK_STATUSES);

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

export const VerdictSchema = z.enum(VERDICTS);

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

export const DoctorReportSchema = z.object({
  verdict: VerdictSchema,
  host: HostIdentitySchema,
  checks: z.array(CheckResultSchema),
  /** Evidence layers absent from the tree (/proc/cpuinfo, /proc/cmdline, /sys/firmware, /sys/kernel, /sys/kernel/iommu_groups): the checks that need them are SKIP "not in this tree". */
  absent: z.array(z.string()),
  /** The device checks of `examine`d devices: information, outside `checks` and the verdict. */
  examined: z.array(CheckResultSchema).optional(),
});
