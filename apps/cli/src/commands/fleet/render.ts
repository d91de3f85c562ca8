import type { FleetStatus, Placement, PublishResult } from '@passthru/fleet';
import { LxdClient } from '@passthru/lxd-device-attach';
import { CliError, EXIT } from '../../CliError';
import type { CliContext } from '../../context';
import { lxdClientFor } from '../../lxd';
import { paint, printJson, renderTable } from '../../render/output';

// Rendering and option parsing of `passthru fleet` (the command file parses and calls).

/** The client for one member's `resources?target=`: same endpoint, a request timeout of `seconds`. */
export const resourcesClient = (client: LxdClient, seconds: number) => new LxdClient(client.endpoint, { requestTimeout: seconds * 1000 });

export function seconds(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new CliError(`${flag} must be a whole number of seconds > 0 (got ${JSON.stringify(text)})`, EXIT.usage);
  return n;
}

/** --stale and --timeout of `fleet status` and `fleet place` checked, then the LXD client and the per-member resources client. */
export function memberClients(ctx: CliContext, options: { stale: string; timeout: string }) {
  const stale = seconds(options.stale, '--stale');
  const timeout = seconds(options.timeout, '--timeout');
  const { client } = lxdClientFor(ctx);
  return { client, resourcesClient: resourcesClient(client, timeout), staleAfterSeconds: stale };
}

export function renderPublish(r: PublishResult): string {
  const lines = [
    `${r.dryRun ? 'would publish' : 'published'} readiness of member ${r.member}: ${r.summary.verdict}${r.summary.failing.length ? ` (failing: ${r.summary.failing.join(', ')})` : ''}`,
    `  VM-ready: ${r.summary.vmReady.join(', ') || 'none'}`,
    `  groups: ${r.joined.length ? `join ${r.joined.join(', ')}` : 'join none'}; ${r.left.length ? `leave ${r.left.join(', ')}` : 'leave none'}${r.skipped.length ? `; not passthru's, left alone: ${r.skipped.join(', ')}` : ''}`,
  ];
  if (r.dryRun)
    for (const c of r.calls) lines.push(`  ${c.method} ${c.path}${c.ifMatch !== undefined ? ` If-Match: ${c.ifMatch}` : ''} ${JSON.stringify(c.body)}`);
  else if (r.attempts > 1) lines.push(`  written after ${r.attempts} attempts (the member changed between read and write; re-read each time)`);
  return `${lines.join('\n')}\n`;
}

function age(s: number | null): string {
  if (s === null) return '-';
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

export function renderStatus(ctx: CliContext, s: FleetStatus, tree: boolean): string {
  const out = ctx.out;
  const state = (m: FleetStatus['members'][number]) =>
    m.status === 'ONLINE' && m.reachable ? paint(out, 'green', m.status) : paint(out, 'red', m.reachable ? m.status : `${m.status} (unreachable)`);
  const verdict = (m: FleetStatus['members'][number]) => (m.verdict === null ? 'unpublished' : `${m.verdict}${m.stale ? ' (stale)' : ''}`);
  let text: string;
  if (tree) {
    text = s.members
      .map((m) => {
        const head = `${m.name} ${state(m)} ${verdict(m)} published ${age(m.ageSeconds)} ago${m.groups.length ? ` [${m.groups.join(', ')}]` : ''}`;
        const devs = m.devices
          .filter((d) => d.gpu || d.vmReady)
          .map(
            (d, i, all) =>
              `${i === all.length - 1 ? '└─' : '├─'} ${d.address} ${d.vendorId}:${d.deviceId} group ${d.iommuGroup ?? '-'} ${d.driver ?? 'no driver'}${d.vmReady ? ' VM-ready' : ''}`,
          );
        return [head, ...(m.error ? [`└─ ${m.error}`] : devs)].join('\n');
      })
      .join('\n');
    text += '\n';
  } else {
    text = renderTable(
      ['MEMBER', 'STATE', 'VERDICT', 'AGE', 'GPUS', 'VM-READY', 'GROUPS'],
      s.members.map((m) => [
        m.name,
        state(m),
        verdict(m),
        age(m.ageSeconds),
        String(m.devices.filter((d) => d.gpu).length),
        m.devices
          .filter((d) => d.vmReady)
          .map((d) => d.address)
          .join(' ') || '-',
        m.groups.join(' ') || '-',
      ]),
    );
    for (const m of s.members.filter((x) => x.error)) text += `${m.name}: ${m.error}\n`;
  }
  text += s.groups.length
    ? `\nCluster groups kept by passthru:\n${s.groups.map((g) => `  ${g.name}: ${g.members.join(' ') || '(empty)'}`).join('\n')}\n`
    : '\nNo cluster groups kept by passthru yet (run passthru fleet publish on each member).\n';
  return text;
}

/** `fleet publish`: what was (or would be) written, as text or JSON. */
export function printPublish(ctx: CliContext, result: PublishResult): void {
  if (ctx.format === 'json') printJson(ctx.out, result);
  else ctx.out.stdout.write(renderPublish(result));
}

/** `fleet status`: every member, as a table (with --tree, each member's devices) or JSON. */
export function printStatus(ctx: CliContext, status: FleetStatus, tree: boolean): void {
  if (ctx.format === 'json') printJson(ctx.out, status);
  else ctx.out.stdout.write(renderStatus(ctx, status, tree));
  for (const note of status.notes) ctx.note(`note: ${note}`);
}

/** `fleet place`: the --target to use on stdout (JSON with --format json), the candidates or why none fits on stderr. */
export function printPlacement(ctx: CliContext, placement: Placement): void {
  if (ctx.format === 'json') printJson(ctx.out, placement);
  else if (placement.target) {
    ctx.out.stdout.write(`--target ${placement.target}\n`);
    ctx.note(
      `${placement.candidates.map((c) => `${c.member}: ${c.devices.join(', ')}`).join('; ')}${placement.group ? `; or let the cluster choose: --target @${placement.group}` : ''}`,
    );
  } else ctx.note(`no member can give a VM a free VM-ready ${placement.want}: ${placement.rejected.map((r) => `${r.member}: ${r.why}`).join('; ')}`);
}
