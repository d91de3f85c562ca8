/**
 * `passthru fleet place`: which member can give a VM the wanted device now. A member fits
 * when it is ONLINE and answered, its published readiness is fresh, and it has a VM-ready
 * device of the wanted kind or vendor:device that no instance on it already holds (a `gpu`
 * device with `pci=`, or a `pci` device with `address=`). Nothing is created or moved: the
 * answer is a `--target` member and, when passthru keeps one, the cluster group to use.
 */
import { LxdError, type LxdClient } from '@passthru/lxd-device-attach';
import { FleetError } from './FleetError';
import { GROUP_PREFIX } from './groups';
import { fleetStatus, type FleetDevice, type FleetStatus } from './fleetStatus';

export interface PlaceRequest {
  client: LxdClient;
  resourcesClient?: LxdClient;
  /** `gpu` (any VM-ready GPU) or `vendor:device` (10de:2684). */
  want: string;
  staleAfterSeconds?: number;
  now?: () => Date;
}

export interface Placement {
  want: string;
  /** The member to pass as `--target`, or null when none fits. */
  target: string | null;
  /** The cluster group that holds exactly the ready members for `want` (`--target @group`), when passthru keeps it. */
  group: string | null;
  candidates: Array<{ member: string; devices: string[] }>;
  rejected: Array<{ member: string; why: string }>;
}

export async function placeDevice(request: PlaceRequest): Promise<Placement> {
  const want = request.want.trim().toLowerCase();
  const id = /^([0-9a-f]{4}):([0-9a-f]{4})$/.exec(want);
  if (want !== 'gpu' && !id)
    throw new FleetError('placing', JSON.stringify(request.want), request.client.via, 'expected `gpu` or vendor:device (10de:2684)', 'bad-input');
  const status: FleetStatus = await fleetStatus(request);
  const held = await heldAddresses(request.client);
  const matches = (d: FleetDevice) => d.vmReady && (id ? d.vendorId === id[1] && d.deviceId === id[2] : d.gpu);
  const candidates: Placement['candidates'] = [];
  const rejected: Placement['rejected'] = [];
  for (const m of status.members) {
    if (m.status !== 'ONLINE' || !m.reachable) rejected.push({ member: m.name, why: m.error ?? `member is ${m.status}` });
    else if (m.verdict === null) rejected.push({ member: m.name, why: 'published no readiness (run passthru fleet publish on it)' });
    else if (m.stale) rejected.push({ member: m.name, why: `readiness published ${m.ageSeconds} s ago, older than ${status.staleAfterSeconds} s` });
    else {
      const ready = m.devices.filter(matches);
      const free = ready.filter((d) => !held.get(m.name)?.has(d.address));
      if (free.length > 0) candidates.push({ member: m.name, devices: free.map((d) => d.address) });
      else
        rejected.push({
          member: m.name,
          why: ready.length > 0 ? `every VM-ready ${want} is held by an instance (${ready.map((d) => d.address).join(', ')})` : `no VM-ready ${want}`,
        });
    }
  }
  const groupName = id ? `${GROUP_PREFIX}${id[1]}-${id[2]}` : `${GROUP_PREFIX}gpu`;
  const group = status.groups.find((g) => g.name === groupName);
  return { want, target: candidates[0]?.member ?? null, group: group && group.members.length > 0 ? group.name : null, candidates, rejected };
}

/** Member -> PCI addresses its instances hold (gpu `pci=`, pci `address=`), across all projects. */
async function heldAddresses(client: LxdClient): Promise<Map<string, Set<string>>> {
  const held = new Map<string, Set<string>>();
  let instances: Awaited<ReturnType<LxdClient['listInstances']>>;
  try {
    instances = await client.listInstances({ allProjects: true });
  } catch (error) {
    if (error instanceof LxdError) throw new FleetError('listing', 'the instances of the cluster', client.via, error.detail, 'failed', { cause: error });
    throw error;
  }
  for (const i of instances) {
    const location = (i as { location?: string }).location ?? '';
    for (const dev of Object.values(i.devices ?? {})) {
      const d = dev as Record<string, string>;
      const address = d.type === 'gpu' ? d.pci : d.type === 'pci' ? d.address : undefined;
      if (!address) continue;
      const full = /^[0-9a-f]{2}:/.test(address) ? `0000:${address}` : address;
      held.set(location, (held.get(location) ?? new Set()).add(full.toLowerCase()));
    }
  }
  return held;
}
