/**
 * numa-misaligned against a REAL LXD daemon (tools/provision/lxd.sh, as audit.integration.test.ts):
 * a stopped container gets a `gpu pci=` device of the two-node fixture numa-dual-socket (LXD
 * accepts it on a stopped container) and limits.cpu on the other node; the audit reads NUMA
 * through the fixture root, and the finding is gone once its own fix line has run.
 * Fails (never skips) when LXD cannot be provisioned. Cleans up its `tune17-<random>-*` instances.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { HostFs } from '@passthru/hostfs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LxdClient } from '../src/LxdClient';
import { planAttach } from '../src/attachDevice';
import { auditLxd } from '../src/auditLxd';
import { provisionDaemon } from './realDaemon';

const execFileAsync = promisify(execFile);
const REPO = path.resolve(__dirname, '../../..');
const id = randomBytes(3).toString('hex');
const name = (s: string) => `tune17-${id}-${s}`;
const fixture = new HostFs(path.join(REPO, 'fixtures/hosts/numa-dual-socket'));
const created: string[] = [];
let env: NodeJS.ProcessEnv;
let client: LxdClient;

const lxc = async (args: string[]) => {
  const p = execFileAsync('lxc', args, { env, timeout: 60_000 });
  p.child.stdin?.end();
  return (await p).stdout;
};

beforeAll(() => {
  const daemon = provisionDaemon('lxd');
  env = daemon.env;
  client = daemon.client;
}, 320_000);

afterAll(async () => {
  if (env) await Promise.all(created.map((n) => lxc(['delete', '-f', n]).catch(() => undefined)));
}, 120_000);

describe('numa-misaligned (real daemon, two-node fixture)', { timeout: 60_000 }, () => {
  it('a GPU on node 1 with limits.cpu on node 0: found with limits.cpu=8-15 as the fix; gone after the fix', async () => {
    const c = name('gpu');
    created.push(c);
    await lxc(['init', 'passthru-busybox', c, '-c', 'limits.cpu=0-3', '-c', 'limits.memory=128MiB', '-c', 'limits.processes=200']);
    await lxc(['config', 'device', 'add', c, 'g0', 'gpu', 'pci=0000:81:00.0']);
    const before = (await auditLxd(client, fixture, { instances: [c] })).instances[0]!.findings.filter((f) => f.id === 'numa-misaligned');
    expect(before).toHaveLength(1);
    expect(before[0]!.severity).toBe('medium');
    expect(before[0]!.summary).toContain('g0 (gpu 0000:81:00.0) on node 1');
    expect(before[0]!.fix).toBe(`lxc config set ${c} limits.cpu=8-15`);
    await lxc(before[0]!.fix.split(' ').slice(1));
    const after = (await auditLxd(client, fixture, { instances: [c] })).instances[0]!.findings;
    expect(after.map((f) => f.id)).not.toContain('numa-misaligned');
  });

  it('an unpinned container (limits.cpu a count) with the node-0 GPU: low, pinned to node 0 by the fix', async () => {
    const c = name('count');
    created.push(c);
    await lxc(['init', 'passthru-busybox', c, '-c', 'limits.cpu=2']);
    await lxc(['config', 'device', 'add', c, 'g0', 'gpu', 'pci=01:00.0']);
    const found = (await auditLxd(client, fixture, { instances: [c] })).instances[0]!.findings.filter((f) => f.id === 'numa-misaligned');
    expect(found.map((f) => [f.severity, f.fix])).toEqual([['low', `lxc config set ${c} limits.cpu=0-7`]]);
    await lxc(found[0]!.fix.split(' ').slice(1));
    expect((await auditLxd(client, fixture, { instances: [c] })).instances[0]!.findings.map((f) => f.id)).not.toContain('numa-misaligned');
  });

  it('attach (plan, as --dry-run prints it) warns when the device sits on another node than the pinned CPUs, and not when they match', async () => {
    const c = name('att');
    created.push(c);
    await lxc(['init', 'passthru-busybox', c, '-c', 'limits.cpu=0-3']);
    // A VF of the node-1 E810, as a physical NIC of the container.
    const off = await planAttach(client, fixture, { instance: c, target: 'ens3f0v0' });
    expect(off.device).toMatchObject({ type: 'nic', parent: 'ens3f0v0' });
    expect(off.warnings).toHaveLength(1);
    expect(off.warnings[0]).toMatch(/^NUMA: limits\.cpu=0-3 runs on NUMA node 0, but .* on node 1: .*; fix: lxc config set .* limits\.cpu=8-15$/);
    await lxc(['config', 'set', c, 'limits.cpu=8-11']);
    expect((await planAttach(client, fixture, { instance: c, target: 'ens3f0v0' })).warnings).toEqual([]);
  });
});
