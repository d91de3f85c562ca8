// One verdict on every surface: on each fixture host, and on hosts made from them by real binds
// (passthru's own, and one behind its back), `doctor`, `report --format json`, `export
// prometheus`, `export nfd` and `fleet publish --dry-run` give the same host verdict, and every
// surface that publishes per-device readiness or VM-ready groups says the same of each.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { SimulatedKernel } from '@passthru/sysfs-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLxd } from '../../../packages/lxd-device-attach/test/fakeLxd';
import { parseExposition, parseNfdFeatureFile } from '../../../packages/exporters/test/formats';
import { cleanFixtures, cli, cliWithEnv, fixtureCopy, repo } from './runCli';

const FIXTURES = fs.readdirSync(path.join(repo, 'fixtures/hosts')).sort();

/** A one-member LXD cluster, enough for `fleet publish --dry-run`: the server, its member, no groups. */
let lxd: Awaited<ReturnType<typeof startFakeLxd>>;
beforeAll(async () => {
  const ok = (metadata: unknown, etag?: string) => ({
    body: { type: 'sync', status: 'Success', status_code: 200, metadata },
    ...(etag ? { headers: { ETag: etag } } : {}),
  });
  lxd = await startFakeLxd((req) => {
    const url = req.url.split('?')[0];
    if (url === '/1.0')
      return ok({
        api_extensions: ['clustering_config', 'clustering_groups'],
        api_status: 'stable',
        api_version: '1.0',
        auth: 'trusted',
        environment: { server_clustered: true, server_name: 'm1', server_version: '5.21.2' },
      });
    if (url === '/1.0/cluster/members/m1') return ok({ server_name: 'm1', status: 'Online', config: {}, groups: ['default'] }, '"e1"');
    if (url === '/1.0/cluster/groups') return ok([]);
    return undefined;
  });
});
afterAll(async () => {
  await lxd.close();
  cleanFixtures();
});

interface Surfaces {
  doctor: string;
  report: string;
  prometheus: string[];
  nfd: string | undefined;
  fleet: string;
  /** Per device, the report's readiness (shared-group is published as bindable). */
  readiness: Record<string, string>;
  published: Record<string, string>;
  vmReady: { report: number[]; prometheus: number; nfd: string | undefined; fleet: string[]; reportAddresses: string[] };
}

async function surfaces(root: string): Promise<Surfaces> {
  const run = async (...argv: string[]) => {
    const r = await cli('--root', root, ...argv);
    expect(r.code === 0 || (argv[0] === 'doctor' && r.code === 1), `${argv.join(' ')}: ${r.stderr}`).toBe(true);
    return r.stdout;
  };
  const doctor = JSON.parse(await run('doctor', '--format', 'json'));
  const report = JSON.parse(await run('report', '--format', 'json'));
  const { samples } = parseExposition(await run('export', 'prometheus', '-'));
  const { labels } = parseNfdFeatureFile(await run('export', 'nfd', '-'), new Date());
  const fleetRun = await cliWithEnv({ LXD_DIR: path.dirname(lxd.socketPath) }, '--root', root, 'fleet', 'publish', '--dry-run', '--format', 'json');
  expect(fleetRun.code, fleetRun.stderr).toBe(0);
  const fleet = JSON.parse(fleetRun.stdout);
  const on = (n: string) => samples.filter((s) => s.name === n && s.value === 1);
  return {
    doctor: doctor.verdict,
    report: report.verdict,
    prometheus: on('passthru_verdict').map((s) => s.labels.verdict!),
    nfd: labels.get('passthru.io/verdict'),
    fleet: fleet.summary.verdict,
    readiness: Object.fromEntries(
      report.devices.map((d: { address: string; readiness: { status: string } }) => [
        d.address,
        d.readiness.status === 'shared-group' ? 'bindable' : d.readiness.status,
      ]),
    ),
    published: Object.fromEntries(on('passthru_device_readiness').map((s) => [s.labels.address!, s.labels.readiness!])),
    vmReady: {
      report: report.vmReadyGroups,
      prometheus: samples.find((s) => s.name === 'passthru_vm_ready_groups')!.value,
      nfd: labels.get('passthru.io/vm-ready-groups'),
      fleet: fleet.summary.vmReady,
      reportAddresses: report.devices
        .filter(
          (d: { iommuGroup: number | null; driver: string | null }) =>
            d.iommuGroup !== null && report.vmReadyGroups.includes(d.iommuGroup) && d.driver === 'vfio-pci',
        )
        .map((d: { address: string }) => d.address)
        .sort(),
    },
  };
}

function expectOneVerdict(s: Surfaces): void {
  expect([s.report, ...s.prometheus, s.nfd, s.fleet]).toEqual([s.doctor, s.doctor, s.doctor, s.doctor]);
  expect(s.published).toEqual(s.readiness);
  expect(s.vmReady.prometheus).toBe(s.vmReady.report.length);
  expect(s.vmReady.nfd).toBe(String(s.vmReady.report.length));
  expect([...s.vmReady.fleet].sort()).toEqual(s.vmReady.reportAddresses);
}

describe('one verdict on every surface', () => {
  it.each(FIXTURES)('%s', async (name) => {
    expectOneVerdict(await surfaces(path.join(repo, 'fixtures/hosts', name)));
  });

  it('intel-workstation with its GPU group bound by passthru: the group is VM-ready everywhere', async () => {
    const root = fixtureCopy('intel-workstation');
    expect((await cli('--root', root, 'bind', 'group:12')).code).toBe(0);
    const s = await surfaces(root);
    expectOneVerdict(s);
    expect(s.vmReady.report).toEqual([12]);
    expect(s.vmReady.fleet.length).toBe(4);
  });

  it("the same group bound behind passthru's back: ready everywhere, VM-ready nowhere", async () => {
    const root = fixtureCopy('intel-workstation');
    const host = new HostFs(root, { kernel: new SimulatedKernel(root, { logWrites: false }) });
    for (const a of ['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.3']) {
      const dev = `/sys/bus/pci/devices/${a}`;
      host.writeAttribute(`${dev}/driver_override`, 'vfio-pci');
      if (host.exists(`${dev}/driver`)) host.writeAttribute(`${dev}/driver/unbind`, a);
      host.writeAttribute('/sys/bus/pci/drivers_probe', a);
    }
    const s = await surfaces(root);
    expectOneVerdict(s);
    expect(s.readiness['0000:01:00.0']).toBe('ready');
    expect(s.vmReady.report).toEqual([]);
  });
});
