// vitest globalSetup of the fleet project: a fresh CLI bundle and two REAL three-member clusters,
// LXD's (tools/provision/cluster.sh lxd, 127.0.1.N) and Incus's (cluster.sh incus, 127.0.2.N),
// started once per run; every cluster suite runs on both. Member hosts: m1 the
// intel-workstation fixture with its RTX 4090 group bound to vfio-pci (a VM-ready GPU), m2
// amd-shared-group (the GPU shares its group with chipset bridges without ACS and the SATA
// controller), m3 intel-iommu-off. What an earlier run published is cleared first (forgetFleetState). There is no
// skipping: without LXD or Incus the suite fails and says how to install it. Teardown stops the
// six daemons by pid (PASSTHRU_KEEP_CLUSTER=1 leaves them running for the next run to reuse).
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { LxdClient } from '@passthru/lxd-device-attach';
import type { TestProject } from 'vitest/node';

const REPO = path.resolve(__dirname, '../../..');
const CLUSTERS = {
  lxd: {
    state: process.env.PASSTHRU_CLUSTER_DIR ?? '/var/lib/passthru-test/cluster',
    stateVariable: 'PASSTHRU_CLUSTER_DIR',

    install: 'apt-get update && apt-get install -y --no-install-recommends lxd busybox-static rsync',
  },
  incus: {
    state: process.env.PASSTHRU_INCUS_CLUSTER_DIR ?? '/var/lib/passthru-test/incus-cluster',
    stateVariable: 'PASSTHRU_INCUS_CLUSTER_DIR',

    install: 'add bookworm-backports, then apt-get install -y --no-install-recommends -t bookworm-backports incus-base incus-client busybox-static rsync',
  },
} as const;
type Server = keyof typeof CLUSTERS;
const dirVariable = (server: Server) => (server === 'incus' ? 'INCUS_DIR' : 'LXD_DIR');
const memberDir = (server: Server, state: string, m: string) => `${state}/${m}/${server}`;

declare module 'vitest' {
  export interface ProvidedContext {
    clusterStates: Record<'lxd' | 'incus', string>;
    clusterSetupSeconds: number;
  }
}

const sh = (file: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  execFileSync(file, args, { cwd: REPO, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });

export function setup(project: TestProject): void {
  const t0 = performance.now();
  execFileSync(process.execPath, ['apps/cli/build.mjs'], { cwd: REPO, stdio: 'inherit' });
  const hosts = ['intel-workstation', 'amd-shared-group', 'intel-iommu-off'].map((h) => path.join(REPO, 'fixtures/hosts', h));
  for (const server of Object.keys(CLUSTERS) as Server[]) {
    const c = CLUSTERS[server];
    try {
      sh('bash', ['tools/provision/cluster.sh', server, ...hosts], { ...process.env, [c.stateVariable]: c.state });
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new Error(
        `The ${server} cluster for the fleet suite could not be started (it does not skip).\nAs root on Debian: ${c.install}\nthen: sudo bash tools/provision/cluster.sh ${server} fixtures/hosts/intel-workstation fixtures/hosts/amd-shared-group fixtures/hosts/intel-iommu-off\n--- cluster.sh said:\n${e.stderr ?? e.message}`,
      );
    }
    const env = { ...process.env, [dirVariable(server)]: memberDir(server, c.state, 'm1') };
    // m1's GPU group on vfio-pci, through the simulated kernel of its own host copy.
    sh(process.execPath, ['apps/cli/dist/passthru.mjs', '--root', `${c.state}/m1/host`, 'bind', '01:00.0', '--yes'], env);
    forgetFleetState(server, c.state);
  }
  keepIncusResourcesFresh(CLUSTERS.incus.state);
  const seconds = (performance.now() - t0) / 1000;
  console.log(`fleet setup: LXD and Incus clusters m1..m3 ready in ${seconds.toFixed(1)} s (bundle, provisioning, clean-up)`);
  project.provide('clusterStates', { lxd: CLUSTERS.lxd.state, incus: CLUSTERS.incus.state });
  project.provide('clusterSetupSeconds', seconds);
}

let poller: NodeJS.Timeout | undefined;
/**
 * Incus 6.0.4 (Debian's bookworm-backports) returns a cached /1.0/resources forever once 10 s
 * passed since it was made (passthru says so: staleResourcesNote; fixed upstream in 6.0.6 and
 * 6.18). cluster.sh incus makes the cluster anew each run, and asking each member every
 * 4 s keeps the cache younger than 10 s, so each answer is computed anew, as on a fixed release.
 */
function keepIncusResourcesFresh(state: string): void {
  const members = ['m1', 'm2', 'm3'].map(
    (m) => new LxdClient({ kind: 'unix', socketPath: `${memberDir('incus', state, m)}/unix.socket` }, { requestTimeout: 3000 }),
  );
  const ask = () => members.forEach((c) => void c.request('GET', '/1.0/resources', {}, { doing: 'refreshing', what: 'resources' }).catch(() => undefined));
  ask();
  poller = setInterval(ask, 4000);
  poller.unref();
}

/**
 * Forgets what a run left: instances named fleet-*, the user.* keys of `members`, and the
 * passthru-* and fleet-* cluster groups. A suite that publishes calls it when done, so the
 * next suite finds the cluster as setup left it (nothing published).
 */
export function forgetFleetState(server: Server, state: string, members = ['m1', 'm2', 'm3']): void {
  const lxc = (...args: string[]) => sh(server === 'incus' ? 'incus' : 'lxc', args, { ...process.env, [dirVariable(server)]: memberDir(server, state, 'm1') });
  for (const line of lxc('list', '--format', 'csv', '-c', 'n').split('\n')) if (line.startsWith('fleet-')) lxc('delete', '--force', line);
  for (const m of members) {
    const config = JSON.parse(lxc('query', `/1.0/cluster/members/${m}`)).config as Record<string, string>;
    for (const key of Object.keys(config)) if (key.startsWith('user.')) lxc('cluster', 'unset', m, key);
  }
  for (const g of JSON.parse(lxc('query', '/1.0/cluster/groups?recursion=1')) as Array<{ name: string; members: string[] }>) {
    if (!g.name.startsWith('passthru-') && !g.name.startsWith('fleet-')) continue;
    for (const m of g.members) lxc('cluster', 'group', 'remove', m, g.name);
    lxc('cluster', 'group', 'delete', g.name);
  }
}

export function teardown(): void {
  clearInterval(poller);
  if (process.env.PASSTHRU_KEEP_CLUSTER === '1') return;
  for (const [server, c] of Object.entries(CLUSTERS)) sh('bash', ['tools/provision/cluster-stop.sh', server], { ...process.env, [c.stateVariable]: c.state });
}
