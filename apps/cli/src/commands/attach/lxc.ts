import * as path from 'node:path';
import { execa } from 'execa';
import { applyLxcEdit, planLxcAttach, planLxcDetach, type AttachType, type LxcEditOutcome, type LxcRunner } from '@passthru/lxd-device-attach';
import type { CliContext } from '../../context';
import { CliError, EXIT } from '../../CliError';
import { printJson } from '../../render/output';

/** LXC's tools on this machine (lxc-info, lxc-device, lxc-attach), no shell, stdin closed. */
const lxcRunner: LxcRunner = async (file, args) => {
  const r = await execa(file, args, { reject: false, stdin: 'ignore', timeout: 60_000 });
  return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
};

/** --lxcpath as given: relative to the current folder on this machine; an absolute host path under --root. */
export const lxcPathOption = (ctx: CliContext, lxcpath: string | undefined) => (lxcpath !== undefined && ctx.host.isLive ? path.resolve(lxcpath) : lxcpath);

/** Options the plain-LXC path of attach/detach refuses (they are LXD's). */
export function refuseWithLxc(used: Record<string, unknown>): void {
  const clash = Object.entries(used).find(([, v]) => v !== undefined && v !== false);
  if (clash) throw new CliError(`--lxc edits a plain LXC config: ${clash[0]} does not apply to it`);
}

function render(outcome: LxcEditOutcome, dryRun: boolean): string {
  const { plan, written, verified } = outcome;
  const how = `${plan.privileged ? 'privileged' : 'unprivileged'}${plan.state ? `, ${plan.state}` : ''}`;
  const head = `${plan.action} ${plan.target} ${plan.action === 'attach' ? 'to' : 'from'} plain LXC container ${plan.container} (${how}): ${plan.nodes.join(', ')}`;
  const lines = [head];
  if (plan.diff) lines.push(`# ${plan.config} (backup: ${plan.backup})`, plan.diff.trimEnd());
  lines.push(...plan.hotplug.map((c) => `  hot-plug: ${c}`), ...plan.notes.map((n) => `  note: ${n}`));
  if (dryRun) lines.push('(dry run: nothing written)');
  else {
    if (written.length) lines.push(`wrote ${written.join(', ')}`);
    lines.push(...verified.map((n) => `ok: ${n} ${plan.action === 'attach' ? 'present' : 'gone'} in ${plan.container}`));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `attach --lxc` / `detach --lxc`: plans the edit of the container's config (lxc-info reads its
 * state on this machine), prints it with --dry-run, else writes it and hot-plugs a running
 * privileged container. One use case each (planLxcAttach/planLxcDetach, applyLxcEdit).
 */
export async function lxcEdit(
  ctx: CliContext,
  action: 'attach' | 'detach',
  request: { container: string; target: string; lxcpath?: string; type?: AttachType; dryRun?: boolean },
): Promise<number> {
  const runner = ctx.host.isLive ? lxcRunner : undefined;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const lxcpath = lxcPathOption(ctx, request.lxcpath);
  const edit = {
    container: request.container,
    target: request.target,
    stamp,
    ...(lxcpath !== undefined ? { lxcpath } : {}),
    ...(request.type ? { type: request.type } : {}),
  };
  const plan = action === 'attach' ? await planLxcAttach(ctx.host, edit, runner) : await planLxcDetach(ctx.host, edit, runner);
  const outcome = request.dryRun ? { plan, written: [], verified: [] } : await applyLxcEdit(ctx.host, plan, runner);
  if (ctx.format === 'json') printJson(ctx.out, { dryRun: Boolean(request.dryRun), ...outcome });
  else ctx.out.stdout.write(render(outcome, Boolean(request.dryRun)));
  return EXIT.ok;
}
