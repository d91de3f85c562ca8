/**
 * Against REAL three-member clusters, LXD's and Incus's, the same tests on each (globalSetup:
 * tools/provision/cluster.sh lxd and cluster.sh incus), each
 * member's /sys/bus/pci, /sys/devices/pci0000:00, /sys/kernel/iommu_groups and
 * /sys/class/iommu being its own fixture host copy ($STATE/mN/host). `passthru --root
 * $STATE/mN/host fleet publish` on mN's socket stands in for passthru running on mN.
 * The tests run in order; the last but one stops m3 (the next run's setup restarts it), and the
 * last reports the cluster with m3 OFFLINE.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { getClusterMember, listClusterGroups } from '@passthru/lxd-device-attach';
import { describe, expect, inject, it } from 'vitest';
import * as z from 'zod';
import { chromium } from 'playwright-core';
import { FleetStatusSchema, publishReadiness, type FleetStatus, type ReadinessSummary } from '../src/index';
import { CLUSTER_SERVERS, clusterOf, REPO } from './clusterCli';

const schemaOf = (name: string) => z.fromJSONSchema(JSON.parse(fs.readFileSync(path.join(REPO, `docs/schemas/${name}.schema.json`), 'utf8')));
const committedSchema = schemaOf('fleet-status');
const reportSchema = schemaOf('report');
const id = randomBytes(3).toString('hex');
describe.each(CLUSTER_SERVERS)('%s', (server) => {
  const { kind, client, hostOf, lxc, passthru, pidFile, STATE } = clusterOf(server);
  async function status(extra: string[] = []): Promise<{ code: number; status: FleetStatus; stderr: string }> {
    const r = await passthru(['fleet', 'status', '--format', 'json', ...extra]);
    const doc = JSON.parse(r.stdout);
    // The committed JSON Schema (docs/schemas), not only the zod source, accepts every status.
    const valid = committedSchema.safeParse(doc);
    expect(valid.success, valid.success ? '' : JSON.stringify(valid.error.issues.slice(0, 3))).toBe(true);
    return { code: r.code, status: FleetStatusSchema.parse(doc), stderr: r.stderr };
  }
  const member = (s: FleetStatus, name: string) => s.members.find((m) => m.name === name)!;
  const device = (s: FleetStatus, name: string, address: string) => member(s, name).devices.find((d) => d.address === address)!;
  const groupMembers = (s: FleetStatus, name: string) => s.groups.find((g) => g.name === name)?.members;
  /** Every member's config and groups, and every cluster group: what "nothing written" compares. */
  async function clusterState(): Promise<unknown> {
    const c = client();
    const members = await Promise.all(
      ['m1', 'm2', 'm3'].map(async (m) => (await getClusterMember(c, m)).member).map(async (p) => ({ config: (await p).config, groups: (await p).groups })),
    );
    return { members, groups: await listClusterGroups(c) };
  }
  /** A member's host copy synced from another fixture, its mount-point folders kept (the daemon's bind mounts stay valid). */
  function syncHost(m: string, fixture: string): void {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-host-'));
    execFileSyncQuiet('cp', ['-a', `${path.join(REPO, 'fixtures/hosts', fixture)}/.`, tmp]);
    for (const l of ['sys/bus/pci', 'sys/devices/pci0000:00', 'sys/kernel/iommu_groups', 'sys/class/iommu'])
      fs.mkdirSync(path.join(tmp, l), { recursive: true });
    execFileSyncQuiet('rsync', ['-a', '--delete', `${tmp}/`, `${hostOf(m)}/`]);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  function execFileSyncQuiet(file: string, args: string[]): void {
    execFileSync(file, args, { stdio: 'ignore' });
  }

  describe.sequential(`fleet on a real three-member ${kind.product} cluster`, () => {
    it(`the cluster was set up (in ${inject('clusterSetupSeconds').toFixed(1)} s) and nothing is published yet`, async () => {
      const { code, status: s } = await status();
      expect(code).toBe(0);
      expect(s.server).toBe(server);
      // Debian's Incus 6.0.4 has the stale-resources bug (fixed in 6.0.6); LXD has none.
      expect(s.notes).toEqual(server === 'incus' ? [expect.stringContaining('stale cache (fixed in 6.0.6 and 6.18)')] : []);
      expect(s.members.map((m) => [m.name, m.status, m.verdict])).toEqual([
        ['m1', 'ONLINE', null],
        ['m2', 'ONLINE', null],
        ['m3', 'ONLINE', null],
      ]);
      expect(s.groups).toEqual([]);
    });

    it("each member publishes; status from m1 shows every member's devices, verdicts and the groups of ready members", async () => {
      // m2 and m3 on their own sockets (the member defaults to the socket's server); m1 names itself.
      for (const [m, args] of [
        ['m1', ['--member', 'm1']],
        ['m2', []],
        ['m3', []],
      ] as const) {
        const r = await passthru(['--root', hostOf(m), 'fleet', 'publish', ...args], m);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout).toContain(`readiness of member ${m}`);
      }
      const { code, status: s } = await status();
      expect(code).toBe(0);
      expect(s.members.map((m) => [m.name, m.status, m.verdict])).toEqual([
        ['m1', 'ONLINE', 'ready'],
        ['m2', 'ONLINE', 'ready-with-warnings'],
        ['m3', 'ONLINE', 'not-ready'],
      ]);
      // m1: the RTX 4090's group 12 on vfio-pci, VM-ready; the iGPU is not.
      expect(device(s, 'm1', '0000:01:00.0')).toEqual({
        address: '0000:01:00.0',
        vendorId: '10de',
        deviceId: '2684',
        iommuGroup: 12,
        driver: 'vfio-pci',
        gpu: true,
        vmReady: true,
      });
      expect(device(s, 'm1', '0000:00:02.0')).toMatchObject({ iommuGroup: 2, driver: 'i915', gpu: true, vmReady: false });
      // m2: the RX 6800 XT in group 14 with the chipset bridges and the SATA controller.
      expect(device(s, 'm2', '0000:06:00.0')).toMatchObject({
        vendorId: '1002',
        deviceId: '73bf',
        iommuGroup: 14,
        driver: 'amdgpu',
        gpu: true,
        vmReady: false,
      });
      expect(member(s, 'm2').devices.filter((d) => d.iommuGroup === 14).length).toBeGreaterThan(3);
      // m3: no IOMMU. LXD says group 0 for every device; the published readiness makes it null.
      expect(member(s, 'm3').failing).toContain('iommu.kernel');
      expect(member(s, 'm3').devices.map((d) => d.iommuGroup)).toEqual(member(s, 'm3').devices.map(() => null));
      const raw = JSON.parse(await lxc('query', '/1.0/resources?target=m3')) as { pci: { devices: Array<{ iommu_group: number }> } };
      expect(new Set(raw.pci.devices.map((d) => d.iommu_group))).toEqual(new Set([0]));
      expect(groupMembers(s, 'passthru-gpu')).toEqual(['m1']);
      expect(groupMembers(s, 'passthru-10de-2684')).toEqual(['m1']);
      expect(s.groups.every((g) => !g.members.includes('m2') && !g.members.includes('m3'))).toBe(true);
      expect(member(s, 'm1').groups).toContain('passthru-gpu');
    });

    it('lxc launch --target @passthru-gpu lands on the ready member; fleet place says the same', async () => {
      const name = `fleet-${id}-c1`;
      try {
        await lxc('launch', 'passthru-busybox', name, '--target', '@passthru-gpu');
        const [instance] = JSON.parse(await lxc('list', name, '--format', 'json')) as Array<{ location: string; status: string }>;
        expect(instance).toMatchObject({ location: 'm1', status: 'Running' });
      } finally {
        await lxc('delete', '--force', name).catch(() => undefined);
      }
      const place = await passthru(['fleet', 'place', '10de:2684']);
      expect(place.code).toBe(0);
      expect(place.stdout).toBe('--target m1\n');
      expect(place.stderr).toContain('--target @passthru-10de-2684');
      const none = await passthru(['fleet', 'place', '1002:73bf']);
      expect(none.code).toBe(1);
      expect(none.stderr).toContain('m2: no VM-ready 1002:73bf');
    });

    it('fleet place skips a member whose VM-ready GPU an instance already holds', async () => {
      const name = `fleet-${id}-held`;
      try {
        // Created, never started: the gpu device is in its config, which is what "held" reads.
        await lxc('init', 'passthru-busybox', name, '--target', 'm1');
        await lxc('config', 'device', 'add', name, 'gpu0', 'gpu', 'pci=0000:01:00.0');
        const place = await passthru(['fleet', 'place', 'gpu', '--format', 'json']);
        expect(place.code).toBe(1);
        expect(JSON.parse(place.stdout).rejected).toContainEqual({ member: 'm1', why: 'every VM-ready gpu is held by an instance (0000:01:00.0)' });
      } finally {
        await lxc('delete', '--force', name).catch(() => undefined);
      }
    });

    it('bind the GPU away, publish again: status and groups follow; then the IOMMU off', async () => {
      const restore = await passthru(['--root', hostOf('m1'), 'restore', '--all']);
      expect(restore.code).toBe(0);
      expect((await passthru(['--root', hostOf('m1'), 'fleet', 'publish'])).code).toBe(0);
      let s = (await status()).status;
      expect(device(s, 'm1', '0000:01:00.0')).toMatchObject({ driver: 'nvidia', iommuGroup: 12, vmReady: false });
      expect(groupMembers(s, 'passthru-gpu')).toEqual([]);
      expect(member(s, 'm1').groups).toEqual([]);

      syncHost('m1', 'intel-iommu-off');
      const r = await passthru(['--root', hostOf('m1'), 'fleet', 'publish']);
      expect(r.stdout).toContain('not-ready (failing: iommu.kernel');
      s = (await status()).status;
      expect(member(s, 'm1')).toMatchObject({ verdict: 'not-ready', iommu: false });
      expect(device(s, 'm1', '0000:01:00.0')).toMatchObject({ iommuGroup: null, vmReady: false });

      // And back: the GPU host bound again rejoins the groups.
      syncHost('m1', 'intel-workstation');
      expect((await passthru(['--root', hostOf('m1'), 'bind', '01:00.0', '--yes'])).code).toBe(0);
      expect((await passthru(['--root', hostOf('m1'), 'fleet', 'publish'])).code).toBe(0);
      s = (await status()).status;
      expect(groupMembers(s, 'passthru-gpu')).toEqual(['m1']);
    });

    it("an ETag conflict between read and write is retried: the other writer's change and the readiness both land", async () => {
      const c = client('m2');
      const result = await publishReadiness({
        client: c,
        host: new HostFs(hostOf('m2')),
        version: 'test',
        beforeWrite: async (attempt) => {
          if (attempt === 1) await lxc('cluster', 'set', 'm2', 'user.operator.note', `changed-${id}`);
        },
      });
      expect(result.attempts).toBe(2);
      const { member: m2 } = await getClusterMember(c, 'm2');
      expect(m2.config['user.operator.note']).toBe(`changed-${id}`);
      expect(m2.config['user.passthru.version']).toBe('test');
      await lxc('cluster', 'unset', 'm2', 'user.operator.note');
    });

    it('two members publishing at the same moment (same new group) lose nothing', async () => {
      const ready: ReadinessSummary = {
        verdict: 'ready',
        failing: [],
        iommu: true,
        vmReady: ['0000:0b:00.0'],
        viable: [{ kind: 'gpu', vendorId: '1002', deviceId: '73ff', groups: 1 }],
      };
      const [a, b] = await Promise.all(
        ['m2', 'm3'].map((m) => publishReadiness({ client: client(m), host: new HostFs(hostOf(m)), version: 'test', summary: ready })),
      );
      expect([a!.member, b!.member]).toEqual(['m2', 'm3']);
      const s = (await status()).status;
      expect(groupMembers(s, 'passthru-1002-73ff')).toEqual(['m2', 'm3']);
      expect(groupMembers(s, 'passthru-gpu')).toEqual(['m1', 'm2', 'm3']);
      // Their real readiness again.
      for (const m of ['m2', 'm3']) expect((await passthru(['--root', hostOf(m), 'fleet', 'publish'], m)).code).toBe(0);
      const after = (await status()).status;
      expect(groupMembers(after, 'passthru-gpu')).toEqual(['m1']);
      expect(groupMembers(after, 'passthru-1002-73ff')).toEqual([]);
    });

    it('a group with a passthru name that passthru did not create is never touched', async () => {
      // An operator's own group, named as passthru would name the group of a VM-ready RX 6800.
      await lxc('cluster', 'group', 'create', 'passthru-1002-73bf');
      try {
        const summary: ReadinessSummary = {
          verdict: 'ready',
          failing: [],
          iommu: true,
          vmReady: ['0000:06:00.0'],
          viable: [{ kind: 'gpu', vendorId: '1002', deviceId: '73bf', groups: 1 }],
        };
        const r = await publishReadiness({ client: client('m2'), host: new HostFs(hostOf('m2')), version: 'test', summary });
        expect(r.skipped).toEqual(['passthru-1002-73bf']);
        expect(r.joined).toEqual(['passthru-gpu']);
        const groups = await listClusterGroups(client());
        expect(groups.find((g) => g.name === 'passthru-1002-73bf')).toMatchObject({ description: '', members: [] });
        expect((await status()).status.groups.map((g) => g.name)).not.toContain('passthru-1002-73bf');
      } finally {
        await lxc('cluster', 'group', 'delete', 'passthru-1002-73bf');
        expect((await passthru(['--root', hostOf('m2'), 'fleet', 'publish'], 'm2')).code).toBe(0);
      }
    });

    it('--dry-run shows the API calls and writes nothing', async () => {
      const before = await clusterState();
      const r = await passthru(['--root', hostOf('m2'), 'fleet', 'publish', '--dry-run'], 'm2');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/PUT \/1\.0\/cluster\/members\/m2 If-Match: "?[0-9a-f]{64}"? /);
      expect(await clusterState()).toEqual(before);
    });

    it('bad input: an unknown or malformed member: exit 2, nothing written', async () => {
      const before = await clusterState();
      const unknown = await passthru(['--root', hostOf('m2'), 'fleet', 'publish', '--member', 'm9']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('Failed publishing the readiness of cluster member m9 via');
      expect(unknown.stderr).toContain('no such cluster member');
      const bad = await passthru(['--root', hostOf('m2'), 'fleet', 'publish', '--member', 'm1/../m2']);
      expect(bad.code).toBe(2);
      expect(await clusterState()).toEqual(before);
    });

    it('one member stopped: status still answers, marks it, exits 1; once LXD calls it OFFLINE it is not asked', async () => {
      const pid = Number(fs.readFileSync(pidFile('m3'), 'utf8'));
      process.kill(pid, 'SIGPWR');
      while (fs.existsSync(`/proc/${pid}`) && !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z'))
        await new Promise((r) => setTimeout(r, 200));
      const first = await status(['--timeout', '5']);
      expect(first.code).toBe(1);
      const m3 = member(first.status, 'm3');
      expect(m3.status === 'OFFLINE' || !m3.reachable).toBe(true);
      expect(m3.devices).toEqual([]);
      expect(member(first.status, 'm1').devices.length).toBeGreaterThan(0);
      expect(member(first.status, 'm2').devices.length).toBeGreaterThan(0);
      // LXD 5.0 marks a silent member OFFLINE after about 20 s.
      let s = first.status;
      for (let i = 0; i < 60 && member(s, 'm3').status !== 'OFFLINE'; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        s = (await status(['--timeout', '5'])).status;
      }
      expect(member(s, 'm3')).toMatchObject({ status: 'OFFLINE', reachable: false, verdict: 'not-ready', devices: [] });
      expect(member(s, 'm3').error).toContain('not asked');
      const table = await passthru(['fleet', 'status']);
      expect(table.code).toBe(1);
      expect(table.stdout).toMatch(/m3\s+OFFLINE \(unreachable\)/);
    }, 180_000);

    it('report --cluster (m3 still stopped): the JSON and the HTML page carry every member; the OFFLINE one never fails the report', async () => {
      const r = await passthru(['--root', hostOf('m1'), 'report', '--cluster', '--format', 'json']);
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout);
      const valid = reportSchema.safeParse(doc);
      expect(valid.success, valid.success ? '' : JSON.stringify(valid.error.issues.slice(0, 3))).toBe(true);
      expect(doc.cluster).not.toHaveProperty('schemaVersion');
      const cluster = FleetStatusSchema.parse({ schemaVersion: 1, ...doc.cluster });
      expect(cluster.members.map((m) => [m.name, m.status, m.reachable, m.verdict])).toEqual([
        ['m1', 'ONLINE', true, 'ready'],
        ['m2', 'ONLINE', true, 'ready-with-warnings'],
        ['m3', 'OFFLINE', false, 'not-ready'],
      ]);
      expect(device(cluster, 'm1', '0000:01:00.0')).toMatchObject({ vmReady: true, iommuGroup: 12, driver: 'vfio-pci' });
      expect(groupMembers(cluster, 'passthru-gpu')).toEqual(['m1']);
      // The page: the summary line names each member; Chromium draws the section from the embedded JSON.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-report-'));
      try {
        const file = path.join(dir, 'fleet.html');
        const html = await passthru(['--root', hostOf('m1'), 'report', '--cluster', '--html', file]);
        expect(html.code).toBe(0);
        expect(html.stdout).toContain('cluster: m1 ready, m2 ready-with-warnings, m3 OFFLINE (unreachable).');
        const rows = await clusterRows(file);
        expect(rows.members).toEqual([
          ['m1', 'ONLINE', 'ready'],
          ['m2', 'ONLINE', 'ready-with-warnings'],
          ['m3', 'OFFLINE (unreachable)', 'not-ready'],
        ]);
        expect(rows.vmReady.m1).toContain('0000:01:00.0 10de:2684 · group 12 · vfio-pci');
        expect(rows.vmReady.m2).toEqual(['none']);
        expect(rows.vmReady.m3).toEqual(['not asked']);
        expect(rows.groups).toContainEqual(['passthru-gpu', 'm1']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  /** The cluster section as Debian's Chromium draws it (headless, offline, only file:// loads). */
  async function clusterRows(file: string) {
    if (!fs.existsSync('/usr/bin/chromium'))
      throw new Error(
        "Chromium is missing at /usr/bin/chromium: install Debian's package with `apt-get install -y chromium` (the test never downloads a browser)",
      );
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const context = await browser.newContext({ offline: true });
      await context.route('**/*', (route) => (route.request().url().startsWith('file://') ? route.continue() : route.abort()));
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${file}`);
      await page.waitForSelector('html[data-rendered="true"]');
      expect(errors).toEqual([]);
      expect(await page.$$eval('nav.toolbar a', (links) => links.map((a) => a.textContent))).toContain('Cluster');
      const members = await page.$$eval('#cluster tr[data-member]', (rows) =>
        rows.map((tr) => {
          const cell = (n: number) => tr.querySelector(`td:nth-child(${n})`)!;
          const lines = (n: number) => [...cell(n).querySelectorAll(':scope > div, :scope > .empty')].map((e) => e.textContent);
          return {
            row: [cell(1).textContent, cell(2).querySelector('.badge')!.textContent, cell(3).querySelector('.badge')!.textContent],
            vmReady: lines(4),
          };
        }),
      );
      const groups = await page.$$eval('#cluster tr[data-cluster-group]', (rows) =>
        rows.map((tr) => [tr.querySelector('td:nth-child(1)')!.textContent, tr.querySelector('td:nth-child(2)')!.textContent]),
      );
      return { members: members.map((m) => m.row), vmReady: Object.fromEntries(members.map((m) => [m.row[0], m.vmReady])), groups };
    } finally {
      await browser.close();
    }
  }
});
