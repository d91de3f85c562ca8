/**
 * Cluster-aware `passthru attach` against the REAL three-member LXD and Incus clusters of globalSetup. The
 * CLI runs as on m1 (m1's socket, --root m1's host copy) or as on m2; an instance on the other
 * member is checked against that member's LXD resources and published readiness, never against
 * the host the CLI runs on (m1 has an RTX 4090 at 01:00.0 on vfio-pci, m2 an RX 6800 XT at
 * 06:00.0 in a group shared with bridges and the SATA controller).
 *
 * VMs: LXD cannot create one on this machine (no vhost_vsock module, no QEMU), so the record of
 * a stopped VM is written into the cluster database (`lxd sql global`, `incus admin sql global`); the server then serves it as
 * the VM it is, on its member, and it is never started. Containers are made with `lxc init`.
 * This file publishes what it needs itself and forgets it when done, so it does not depend on
 * the order the suites run in (they run one after another: vitest.config.ts).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_SERVERS, clusterOf } from './clusterCli';
import { forgetFleetState } from './clusterSetup';

describe.each(CLUSTER_SERVERS)('%s', (server) => {
  const { kind, hostOf, lxc, passthru, socketOf, STATE } = clusterOf(server);
  const id = randomBytes(3).toString('hex');
  const name = (what: string) => `fleet-${id}-${what}`;
  const v1 = name('v1'); // stopped VM on m1
  const v2 = name('v2'); // stopped VM on m2
  const c1 = name('c1'); // stopped container on m1
  const c2 = name('c2'); // stopped container on m2

  /** The record of a stopped VM on `member`, in the default project with the default profile. */
  async function vmRecord(instance: string, member: string): Promise<void> {
    // LXD: `lxd sql global`; Incus: `incus admin sql global` (the same cluster database tables).
    const [file, args, variable] = server === 'incus' ? ['incus', ['admin', 'sql', 'global'], 'INCUS_DIR'] : ['lxd', ['sql', 'global'], 'LXD_DIR'];
    const sql = (q: string) => promisify(execFile)(file, [...args, q], { env: { ...process.env, [variable]: socketOf('m1') } });
    await sql(
      `INSERT INTO instances (node_id, name, architecture, type, description, project_id) SELECT n.id, '${instance}', 2, 1, '', p.id FROM nodes n, projects p WHERE n.name = '${member}' AND p.name = 'default'`,
    );
    await sql(
      `INSERT INTO instances_profiles (instance_id, profile_id, apply_order) SELECT i.id, pr.id, 0 FROM instances i, profiles pr WHERE i.name = '${instance}' AND pr.name = 'default' AND pr.project_id = i.project_id`,
    );
    await sql(
      `INSERT INTO instances_config (instance_id, key, value) SELECT id, 'volatile.uuid', '${randomBytes(16).toString('hex')}' FROM instances WHERE name = '${instance}'`,
    );
  }
  const devicesOf = async (instance: string) => JSON.parse(await lxc('query', `/1.0/instances/${instance}`)).devices as Record<string, Record<string, string>>;
  /** `passthru attach` as run on `on` (its socket and its host copy as --root). */
  const attach = (on: string, ...args: string[]) => passthru(['--root', hostOf(on), 'attach', ...args], on);
  const publish = async (m: string) => {
    const r = await passthru(['--root', hostOf(m), 'fleet', 'publish'], m);
    expect(r.code, r.stderr).toBe(0);
  };

  beforeAll(async () => {
    await publish('m1');
    await publish('m2');
    await vmRecord(v1, 'm1');
    await vmRecord(v2, 'm2');
    await lxc('init', 'passthru-busybox', c1, '--target', 'm1');
    await lxc('init', 'passthru-busybox', c2, '--target', 'm2');
    const located = JSON.parse(await lxc('list', `fleet-${id}-`, '--format', 'json')) as Array<{
      name: string;
      location: string;
      type: string;
      status: string;
    }>;
    expect(located.map((i) => [i.name, i.location, i.type, i.status]).sort()).toEqual([
      [c1, 'm1', 'container', 'Stopped'],
      [c2, 'm2', 'container', 'Stopped'],
      [v1, 'm1', 'virtual-machine', 'Stopped'],
      [v2, 'm2', 'virtual-machine', 'Stopped'],
    ]);
  });

  afterAll(() => forgetFleetState(server, STATE, ['m1', 'm2']));

  describe.sequential(`attach on a real ${kind.product} cluster: the member the instance lives on decides`, () => {
    it("a VM on m2 is refused m2's RX 6800 XT: its group is not viable there (m2's readiness and resources), nothing written", async () => {
      const r = await attach('m1', v2, '06:00.0', '--dry-run');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`Failed attaching 06:00.0 to instance ${v2} via`);
      expect(r.stderr).toContain('0000:06:00.0 is not VM-ready on cluster member m2: its readiness, published');
      expect(r.stderr).toContain(
        `${kind.product} there shows it on amdgpu in IOMMU group 14 with 0000:06:00.1 (snd_hda_intel), 0000:07:00.0 (igb), 0000:08:00.0 (xhci_hcd), 0000:09:00.0 (ahci) and 7 PCIe ports`,
      );
      expect(r.stderr).toContain('  0000:09:00.0: ahci -> vfio-pci');
      expect(r.stderr).toContain('plan: on m2, passthru bind group:14 --dry-run');
      // Without --dry-run the same refusal, and the VM is left as it was.
      expect((await attach('m1', v2, '06:00.0')).code).toBe(2);
      expect(await devicesOf(v2)).toEqual({});
    });

    it("a device of this host that m2 does not have is refused for an instance on m2 (this host's sysfs is not asked)", async () => {
      // 00:1f.6 is m1's NIC, 10de:2684 its RTX 4090; the CLI runs as on m1.
      for (const instance of [v2, c2]) {
        const r = await attach('m1', instance, '0000:00:1f.6', '--dry-run');
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(`no PCI device 0000:00:1f.6 on cluster member m2 (${kind.product} /1.0/resources?target=m2 lists no such function)`);
      }
      const ids = await attach('m1', v2, '10de:2684', '--dry-run');
      expect(ids.code).toBe(2);
      expect(ids.stderr).toContain('no PCI device with ids 10de:2684 on cluster member m2');
    });

    it("a VM on m1 takes m1's RTX 4090 in --dry-run, from m2 (m1's inventory) and on m1 itself (this host's sysfs)", async () => {
      const fromM2 = await attach('m2', v1, '01:00.0', '--dry-run');
      expect(fromM2.stderr).toBe('');
      expect(fromM2.code).toBe(0);
      expect(fromM2.stdout).toContain(`attach gpu-0000-01-00-0 to virtual-machine ${v1} (project default, Stopped)`);
      expect(fromM2.stdout).toContain(
        `checked against cluster member m1, where the instance lives: its devices from ${kind.product} /1.0/resources?target=m1, and the readiness it published`,
      );
      expect(fromM2.stdout).toMatch(/IOMMU group 12 is VM-ready on cluster member m1 \(its readiness, published \d+ s ago: ready\)/);
      const json = JSON.parse((await attach('m2', v1, '01:00.0', '--dry-run', '--format', 'json')).stdout);
      expect(json.plan).toMatchObject({ checkedOn: 'cluster member m1', device: { type: 'gpu', pci: '0000:01:00.0' }, iommu: { group: 12, viable: true } });
      const onM1 = JSON.parse((await attach('m1', v1, '01:00.0', '--dry-run', '--format', 'json')).stdout);
      expect(onM1.plan).toMatchObject({ checkedOn: 'this host', iommu: { group: 12, viable: true } });
      expect(await devicesOf(v1)).toEqual({});
    });

    it("a container on m2 gets m2's GPU (written, verified); a container on m1 is refused m1's GPU on vfio-pci", async () => {
      // An instance on m1 holding an address that is m2's GPU does not make m2's GPU busy.
      await lxc('config', 'device', 'add', c1, 'other', 'gpu', 'pci=0000:06:00.0');
      const dry = await attach('m1', c2, '06:00.0', '--dry-run');
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain('checked against cluster member m2, where the instance lives');
      const r = await attach('m1', c2, '06:00.0');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`ok: instance ${c2} holds device gpu-0000-06-00-0`);
      expect(await devicesOf(c2)).toEqual({ 'gpu-0000-06-00-0': { type: 'gpu', pci: '0000:06:00.0' } });
      // Now it is held on m2: a second device for it is refused (a conflict: exit 1).
      const again = await attach('m1', c2, '06:00.0', '--name', 'second', '--dry-run');
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`the device is already given to default/${c2} (device gpu-0000-06-00-0)`);
      const vfio = await attach('m2', c1, '01:00.0', '--dry-run');
      expect(vfio.code).toBe(2);
      expect(vfio.stderr).toContain('0000:01:00.0 on cluster member m1 is bound to vfio-pci');
    });

    it('an unpublished or stale member is refused for a VM, naming passthru fleet publish on it; nothing written', async () => {
      for (const key of ['verdict', 'failing', 'iommu', 'vm-ready', 'viable', 'published-at', 'version'])
        await lxc('cluster', 'unset', 'm1', `user.passthru.${key}`);
      const none = await attach('m2', v1, '01:00.0', '--dry-run');
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('cluster member m1 has published no passthrough readiness');
      expect(none.stderr).toContain('run `passthru fleet publish` on m1, then attach again');
      await publish('m1');
      await lxc('cluster', 'set', 'm1', 'user.passthru.published-at', '2020-01-01T00:00:00.000Z');
      const stale = await attach('m2', v1, '01:00.0');
      expect(stale.code).toBe(2);
      expect(stale.stderr).toMatch(/the readiness cluster member m1 published is \d+ s old, older than 3600 s/);
      expect(stale.stderr).toContain('run `passthru fleet publish` on m1 again');
      expect(await devicesOf(v1)).toEqual({});
      await publish('m1');
      expect((await attach('m2', v1, '01:00.0', '--dry-run')).code).toBe(0);
    });
  });
});
