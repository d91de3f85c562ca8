import { unifiedPatch } from '@passthru/boot-config';
import type { HostFs } from '@passthru/hostfs';
import * as z from 'zod';
import { LxdError } from '../LxdError';
import type { AttachType } from '../resolveTarget';
import { readLxcConfig, type LxcConfigRead } from './config';
import { effectiveConfig } from './effective';
import { blockFor, blockLines, findBlocks, lxcTargetNodes } from './lxcBlock';
import { checkLxcName, configOf, lxcHostFacts, lxcPathOf } from './lxcHost';

/** Runs an LXC tool (lxc-info, lxc-device, lxc-attach) without a shell; injected (the live host's execa, or a test's). */
export type LxcRunner = (file: string, args: string[]) => Promise<{ exitCode: number; stdout: string; stderr: string }>;

/** What `attach --lxc` / `detach --lxc` change: the config's passthru block, its diff and backup, and the hot-plug on a running container. */
export const LxcEditPlanSchema = z.object({
  action: z.enum(['attach', 'detach']),
  container: z.string(),
  lxcpath: z.string(),
  config: z.string().describe('the file edited: <lxcpath>/<container>/config'),
  target: z.string().describe("the block's key: a PCI address, usb:VVVV:PPPP, or a device node path"),
  nodes: z.array(z.string()).describe('the device nodes the block binds'),
  lines: z.array(z.string()).describe('the block attach adds (detach: the block it removes), markers included'),
  before: z.string().describe('the config as it is'),
  after: z.string().describe('the config the plan writes (equal to before: nothing to write)'),
  diff: z.string().describe('unified patch before -> after (empty: nothing to write)'),
  backup: z.string().nullable().describe('where the old config is kept (null: nothing to write)'),
  privileged: z.boolean().describe('no lxc.idmap for container root: only then are nodes hot-plugged'),
  state: z.string().nullable().describe('lxc-info -sH (RUNNING, STOPPED...; null: not read, e.g. a fixture tree)'),
  hotplug: z.array(z.string()).describe('the lxc-device commands that make the change live (a running privileged container)'),
  notes: z.array(z.string()),
});
export type LxcEditPlan = z.infer<typeof LxcEditPlanSchema>;

export interface LxcEditRequest {
  container: string;
  /** --lxcpath; default as lxc-config lxc.lxcpath. */
  lxcpath?: string;
  /** attach: TARGET; detach: a block's key, a node it binds, or vendor:device. */
  target: string;
  type?: AttachType;
  /** Names the backup (`<config>.passthru-<stamp>.bak`). */
  stamp: string;
}

export interface LxcEditOutcome {
  plan: LxcEditPlan;
  written: string[];
  /** Nodes checked inside the running container after the hot-plug (present after attach, absent after detach). */
  verified: string[];
}

const PVE_HINT =
  'a Proxmox VE container is changed through PVE (pct set ID --dev0 /dev/NODE on PVE 8.1 and later, which it also hot-plugs); passthru audit --lxc FILE audits it';

/** The config of a container, read with its includes (a Proxmox VE file is refused: PVE rewrites comments, so markers would not hold). */
function readContainer(host: HostFs, request: LxcEditRequest): { lxcpath: string; read: LxcConfigRead } {
  if (/\.conf$/.test(request.container) || request.container.includes('/'))
    throw new LxdError('checking', `container ${JSON.stringify(request.container.slice(0, 70))}`, '', `not a container name; ${PVE_HINT}`, {
      reason: 'bad-input',
    });
  checkLxcName(request.container);
  const lxcpath = lxcPathOf(host, request.lxcpath);
  const read = readLxcConfig(host, configOf(lxcpath, request.container));
  if (read.format === 'proxmox')
    throw new LxdError('editing', 'the container config', read.file, `in Proxmox VE's format: ${PVE_HINT}`, { reason: 'preflight' });
  return { lxcpath, read };
}

async function stateOf(runner: LxcRunner | undefined, lxcpath: string, name: string): Promise<string | null> {
  if (!runner) return null;
  const r = await runner('lxc-info', ['-P', lxcpath, '-n', name, '-sH']);
  return r.exitCode === 0 ? r.stdout.trim() || null : null;
}

async function plan(host: HostFs, request: LxcEditRequest, action: 'attach' | 'detach', runner?: LxcRunner): Promise<LxcEditPlan> {
  const { lxcpath, read } = readContainer(host, request);
  const before = read.text;
  const blocks = findBlocks(before, read.file);
  const privileged = !effectiveConfig(read).unprivileged;
  const notes: string[] = [];
  let after: string;
  let target: string;
  let lines: string[];
  let nodes: string[];
  if (action === 'attach') {
    const facts = lxcHostFacts(host);
    const found = lxcTargetNodes(host, request.target, request.type);
    target = found.key;
    nodes = found.nodes.map((n) => n.path);
    lines = blockLines(target, request.container, found.nodes, facts.cgroup === 'v1' ? 'lxc.cgroup' : 'lxc.cgroup2');
    const old = blocks.find((b) => b.key === target);
    const text = before.split('\n');
    if (old) after = [...text.slice(0, old.begin), ...lines, ...text.slice(old.end + 1)].join('\n');
    else after = `${before}${before === '' || before.endsWith('\n') ? '' : '\n'}${lines.join('\n')}\n`;
    const elsewhere = blocks.filter((b) => b.key !== target && b.nodes.some((n) => nodes.includes(n))).map((b) => b.key);
    if (elsewhere.length) notes.push(`passthru's block for ${elsewhere.join(', ')} binds some of these nodes too`);
    const own = lines.slice(2, -1).filter((l) => text.some((t, i) => t.trim() === l && !blocks.some((b) => i >= b.begin && i <= b.end)));
    if (own.length) notes.push(`the config already has ${own.length} of these lines outside passthru's blocks (yours are left as they are)`);
  } else {
    const block = blockFor(host, blocks, request.target, read.file);
    target = block.key;
    nodes = block.nodes;
    lines = block.lines;
    const text = before.split('\n');
    after = [...text.slice(0, block.begin), ...text.slice(block.end + 1)].join('\n');
  }
  const unchanged = after === before;
  const state = await stateOf(runner, lxcpath, request.container);
  const running = state === 'RUNNING';
  const verb = action === 'attach' ? 'add' : 'del';
  const hotplug = !unchanged && running && privileged ? nodes.map((n) => `lxc-device -P ${lxcpath} -n ${request.container} ${verb} ${n}`) : [];
  if (unchanged) notes.push(`${read.file} already has passthru's block for ${target}: nothing to write`);
  else if (running && !privileged)
    notes.push(
      `restart to apply: ${request.container} is unprivileged and running, and lxc-device there deletes the node instead of ${action === 'attach' ? 'adding' : 'removing'} it (lxc-stop -P ${lxcpath} -n ${request.container}; lxc-start ...)`,
    );
  else if (!running)
    notes.push(
      state
        ? `${request.container} is ${state}: the change applies at its next start`
        : `${runner ? 'lxc-info could not tell its state' : 'container state not read (not this machine)'}: the change applies at its next start`,
    );
  if (!unchanged) {
    host.checkWritable(read.file);
    host.checkWritable(`${read.file}.passthru-${request.stamp}.bak`);
  }
  return {
    action,
    container: request.container,
    lxcpath,
    config: read.file,
    target,
    nodes,
    lines,
    before,
    after,
    diff: unchanged ? '' : unifiedPatch(read.file, before, after),
    backup: unchanged ? null : `${read.file}.passthru-${request.stamp}.bak`,
    privileged,
    state,
    hotplug,
    notes,
  };
}

/** The plan of `attach --lxc`: the block for TARGET's nodes, appended (or replacing passthru's own block for it). Reads only. */
export const planLxcAttach = (host: HostFs, request: LxcEditRequest, runner?: LxcRunner) => plan(host, request, 'attach', runner);
/** The plan of `detach --lxc`: passthru's block for TARGET or DEV removed, nothing else. Reads only. */
export const planLxcDetach = (host: HostFs, request: LxcEditRequest, runner?: LxcRunner) => plan(host, request, 'detach', runner);

/**
 * Writes a plan: the backup, then the config (atomically, its mode kept; refused as a conflict,
 * nothing written, when the config changed since the plan read it); then, on a running
 * privileged container, `lxc-device add|del` per node and a check inside (`lxc-attach -- test`).
 * A failed hot-plug is undone (nodes put back as they were, the old config written again) and
 * thrown as an LxdError (exit 1); if the undo fails too, `leftover` says what is left (exit 3).
 */
export async function applyLxcEdit(host: HostFs, plan: LxcEditPlan, runner?: LxcRunner): Promise<LxcEditOutcome> {
  if (plan.after === plan.before) return { plan, written: [], verified: [] };
  // The config must still be what the plan was made from (someone may have edited it since).
  if (host.readText(plan.config) !== plan.before)
    throw new LxdError('editing', 'the container config', plan.config, 'it changed since it was read: nothing written; run again', { reason: 'conflict' });
  const mode = host.stat(plan.config).mode & 0o777;
  host.writeFile(plan.backup!, plan.before, mode);
  host.writeFile(plan.config, plan.after, mode);
  const written = [plan.backup!, plan.config];
  if (!runner || plan.hotplug.length === 0) return { plan, written, verified: [] };
  const attach = plan.action === 'attach';
  const done: string[] = [];
  const verified: string[] = [];
  const device = (verb: 'add' | 'del', node: string) => runner('lxc-device', ['-P', plan.lxcpath, '-n', plan.container, verb, node]);
  try {
    for (const [i, command] of plan.hotplug.entries()) {
      const node = plan.nodes[i]!;
      const r = await device(attach ? 'add' : 'del', node);
      if (r.exitCode !== 0) throw new Error(`${command}: exit ${r.exitCode}: ${(r.stderr || r.stdout).trim().split('\n').at(-1) ?? ''}`);
      done.push(node);
      const inside = await runner('lxc-attach', ['-P', plan.lxcpath, '-n', plan.container, '--', 'test', '-e', node]);
      if ((inside.exitCode === 0) !== attach) throw new Error(`${node} is ${attach ? 'not there' : 'still there'} inside ${plan.container} after ${command}`);
      verified.push(node);
    }
  } catch (error) {
    const leftover: string[] = [];
    for (const node of done.reverse()) {
      const back = attach ? 'del' : 'add';
      if ((await device(back, node).catch(() => ({ exitCode: 1 }))).exitCode !== 0)
        leftover.push(`lxc-device -P ${plan.lxcpath} -n ${plan.container} ${back} ${node}`);
    }
    try {
      host.writeFile(plan.config, plan.before, mode);
    } catch {
      leftover.push(`cp ${plan.backup} ${plan.config}`);
    }
    const detail = `${(error as Error).message}; ${leftover.length ? 'the undo did not finish' : `undone: the config is as it was (backup ${plan.backup} kept)`}`;
    throw new LxdError(attach ? 'hot-plugging' : 'hot-unplugging', plan.nodes.join(', '), `lxc-device (${plan.container})`, detail, {
      reason: leftover.length ? 'rollback' : 'lxd',
      leftover,
      cause: error,
    });
  }
  return { plan, written, verified };
}
