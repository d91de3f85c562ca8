import { InvalidArgumentError } from 'commander';
import { formatSriovPlan, type SriovOutcome, type SriovPersistPlan } from '@passthru/vfio-binder';
import { consentRefused } from '../../context';
import { EXIT } from '../../CliError';
import type { CliContext } from '../../context';
import { printJson } from '../../render/output';

export const persistText = (p: SriovPersistPlan) =>
  p.changes.length === 0
    ? `Nothing to change: ${p.unit} already makes these VFs at boot.\n`
    : `${p.changes.map((c) => `# ${c.why}${c.backup ? ` (backup: ${c.backup})` : ' (new file)'}\n${c.diff}`).join('')}Then run (passthru runs them with --yes):\n${p.followUp.map((f) => `  ${f}\n`).join('')}`;

export const count = (text: string) => {
  if (!/^\d{1,5}$/.test(text)) throw new InvalidArgumentError('a whole number of VFs (0 removes them all)');
  return Number(text);
};

export function printOutcome(ctx: CliContext, o: SriovOutcome, force: boolean | undefined): number {
  if (o.status === 'consent-refused') throw consentRefused('sriov');
  if (o.status === 'planned' || o.status === 'blocked') {
    if (ctx.format === 'json') printJson(ctx.out, { dryRun: true, plan: o.plan, guards: o.guards, ...(o.unit ? { unit: o.unit } : {}) });
    else ctx.out.stdout.write(formatSriovPlan(o.plan));
    if (o.status === 'blocked') ctx.note('Nothing was written. Use --force to remove VFs that are in use; --dry-run shows the plan.');
    return o.guards.length && !force ? EXIT.failed : EXIT.ok;
  }
  const result = o.result!;
  if (ctx.format === 'json') printJson(ctx.out, { result, guards: o.guards });
  else {
    const summary = {
      applied: `${o.plan.pf} now has ${result.numVfs} VF(s) (${result.writes} writes)${result.vfs.length ? `: ${result.vfs.join(', ')}` : ''}.${result.unit ? ` Wrote ${result.unit}.` : ''}`,
      noop: `Nothing to do: ${o.plan.pf} already has ${result.numVfs} VF(s).`,
      'rolled-back': `Failed, and ${o.plan.pf} is back at ${o.plan.fromNumVfs} VF(s).`,
      partial: `Failed, and the rollback did not finish: ${o.plan.pf} shows ${result.numVfs} VF(s).`,
    }[result.status];
    ctx.out.stdout.write(`${summary}\n`);
  }
  if (result.error) ctx.note(`passthru: ${result.error}`);
  return result.status === 'rolled-back' ? EXIT.failed : result.status === 'partial' ? EXIT.partial : EXIT.ok;
}
