// vitest globalSetup of the fleet project: a fresh CLI bundle and a REAL three-member LXD
// cluster (tools/provision/lxd-cluster.sh), started once per run. Member hosts: m1 the
// intel-workstation fixture with its RTX 4090 group bound to vfio-pci (a VM-ready GPU), m2
// amd-shared-group (the GPU shares its group with chipset bridges without ACS and the SATA
// controller), m3 intel-iommu-off. What an earlier run published is cleared first (forgetFleetState). There is no
// skipping: without LXD the suite fails and says how to install it. Teardown stops the three
// daemons by pid (PASSTHRU_KEEP_CLUSTER=1 leaves them running for the next run to reuse).
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import type { TestProject } from 'vitest/node';

const REPO = path.resolve(__dirname, '../../..');
const STATE = process.env.PASSTHRU_CLUSTER_DIR ?? '/var/lib/passthru-test/cluster';
const INSTALL = 'apt-get update && apt-get install -y --no-install-recommends lxd busybox-static rsync';

declare module 'vitest' {
  export interface ProvidedContext {
    clusterState: string;
    clusterSetupSeconds: number;
  }
}

const sh = (file: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  execFileSync(file, args, { cwd: REPO, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });

export function setup(project: TestProject): void {
  const t0 = performance.now();
  execFileSync(process.execPath, ['apps/cli/build.mjs'], { cwd: REPO, stdio: 'inherit' });
  const hosts = ['intel-workstation', 'amd-shared-group', 'intel-iommu-off'].map((h) => path.join(REPO, 'fixtures/hosts', h));
  try {
    sh('bash', ['tools/provision/lxd-cluster.sh', ...hosts], { ...process.env, PASSTHRU_CLUSTER_DIR: STATE });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(
      `The LXD cluster for the fleet suite could not be started (it does not skip).\nAs root on Debian run: ${INSTALL}\nthen: sudo bash tools/provision/lxd-cluster.sh fixtures/hosts/intel-workstation fixtures/hosts/amd-shared-group fixtures/hosts/intel-iommu-off\n--- lxd-cluster.sh said:\n${e.stderr ?? e.message}`,
    );
  }
  const env = { ...process.env, LXD_DIR: `${STATE}/m1/lxd` };
  // m1's GPU group on vfio-pci, through the simulated kernel of its own host copy.
  sh(process.execPath, ['apps/cli/dist/passthru.mjs', '--root', `${STATE}/m1/host`, 'bind', '01:00.0', '--yes'], env);
  forgetFleetState(STATE);
  const seconds = (performance.now() - t0) / 1000;
  console.log(`fleet setup: LXD cluster m1..m3 ready in ${seconds.toFixed(1)} s (bundle, provisioning, clean-up)`);
  project.provide('clusterState', STATE);
  project.provide('clusterSetupSeconds', seconds);
}

/**
 * Forgets what a run left: instances named fleet-*, the user.* keys of `members`, and the
 * passthru-* and fleet-* cluster groups. A suite that publishes calls it when done, so the
 * next suite finds the cluster as setup left it (nothing published).
 */
export function forgetFleetState(state: string, members = ['m1', 'm2', 'm3']): void {
  const lxc = (...args: string[]) => sh('lxc', args, { ...process.env, LXD_DIR: `${state}/m1/lxd` });
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
  if (process.env.PASSTHRU_KEEP_CLUSTER === '1') return;
  sh('bash', ['tools/provision/lxd-cluster-stop.sh'], { ...process.env, PASSTHRU_CLUSTER_DIR: STATE });
}
