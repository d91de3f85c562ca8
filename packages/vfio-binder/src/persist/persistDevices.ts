import type { HostFs } from '@passthru/hostfs';
import type { BootLoader } from '@passthru/boot-config';
import { firmwareFramebufferClaims, parseCpuInfo, planCmdlineRemediation } from '@passthru/iommu-check';
import type { HostState } from '../bind/bindDevices';
import { planBind } from '../bind/plan';
import { applyPersist, planPersist, type CommandRunner, type PersistPlan } from './plan';
import type { Target } from '@passthru/pci-discovery';
import { resolveTargets } from '../bind/targets';

export interface PersistRequest {
  targets: Target[];
  dryRun?: boolean;
  /** Let the boot configuration claim guarded devices (each becomes a warning of the plan). */
  force?: boolean;
  /** The boot loader whose command line to edit (default: detected). */
  bootloader?: BootLoader;
  /** Names the backups (`<file>.passthru-<stamp>.bak`). */
  stamp: string;
  /** Runs the initramfs and boot-loader rebuilds; without it they are only listed (plan.followUp). */
  runner?: CommandRunner;
  /** Called with the plan before anything is written (a CLI prints the diffs here). */
  onPlanned?: (plan: PersistPlan) => void;
}

export interface PersistOutcome {
  /** `planned`: a dry run; `unchanged`: nothing to write; `written`: files written (and commands run, if a runner). */
  status: 'planned' | 'unchanged' | 'written';
  plan: PersistPlan;
  written: string[];
  ran: Array<{ command: string; exitCode: number; output: string }>;
}

/**
 * The persist use case: the whole IOMMU group of each target (as bind binds it), the kernel
 * command line the CPU's IOMMU needs (and, on a kernel whose vfio-pci leaves a firmware framebuffer on
 * a chosen GPU, the parameter that keeps it off), the modprobe.d and initramfs edits with their guards;
 * then backups, writes with rollback, the identity record, and the rebuilds when a runner is
 * given.
 */
export async function persistDevices(host: HostFs, state: HostState, request: PersistRequest): Promise<PersistOutcome> {
  const { devices, groups } = state;
  const planned = new Set(planBind(resolveTargets(request.targets, devices, groups), devices, groups).devices.map((d) => d.address));
  const chosen = devices.filter((d) => planned.has(d.address));
  const cpu = parseCpuInfo(host.readTextIfExists('/proc/cpuinfo') ?? '');
  // A firmware framebuffer on a chosen GPU that this kernel's vfio-pci leaves in place: its boot parameter joins the edit.
  const params = [...new Set(firmwareFramebufferClaims(host, chosen).flatMap((c) => (c.removedByVfio === true ? [] : c.params)))];
  const cmdline = planCmdlineRemediation(host, cpu.vendor, { loader: request.bootloader, ...(params.length ? { extra: { add: params, remove: [] } } : {}) });
  const plan = planPersist(host, chosen, devices, cmdline, request.stamp, { force: request.force });
  request.onPlanned?.(plan);
  if (request.dryRun) return { status: 'planned', plan, written: [], ran: [] };
  if (plan.changes.length === 0) return { status: 'unchanged', plan, written: [], ran: [] };
  const { written, ran } = await applyPersist(host, plan, request.runner);
  return { status: 'written', plan, written, ran };
}
