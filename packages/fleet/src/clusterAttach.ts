/**
 * `passthru attach` on an LXD cluster. The instance may live on another member than this host
 * (`instance.location`); its devices are then that member's, not this host's sysfs. This use
 * case runs lxd-device-attach's preflight with the inventory of the member the instance lives
 * on (memberInventory: its LXD resources and its published readiness). An instance on this
 * host's own member, or a server that is no cluster, is checked against this host as always.
 * Over HTTPS (`remote`) this host is not the server, so every member is read through LXD.
 */
import type { HostFs } from '@passthru/hostfs';
import {
  getClusterMember,
  getMemberResources,
  planAttach,
  staleResourcesNote,
  type AttachPlan,
  type AttachRequest,
  type DeviceInventory,
  type Instance,
  type LxdClient,
  type PlanOptions,
} from '@passthru/lxd-device-attach';
import { FleetError } from './FleetError';
import { DEFAULT_STALE_SECONDS } from './fleetStatus';
import { memberInventory } from './memberInventory';
import { publishedAge, readPublished } from './published';

export interface ClusterAttachRequest {
  client: LxdClient;
  /** This host (sysfs, or a fixture with --root): used for an instance on this host's member. */
  host: HostFs;
  request: Omit<AttachRequest, 'hostCheck'>;
  /** The client talks HTTPS to a server that is not this host. */
  remote?: boolean;
  /** nvidia-smi on this host, for `gputype=mig` on an instance of this host's member. */
  nvidiaSmi?: PlanOptions['nvidiaSmi'];
  /** A member's readiness older than this is not trusted for a VM device. */
  staleAfterSeconds?: number;
  now?: () => Date;
}

export async function planClusterAttach(r: ClusterAttachRequest): Promise<AttachPlan> {
  return planAttach(
    r.client,
    r.host,
    { ...r.request, hostCheck: r.remote !== true },
    { inventoryFor: (instance) => inventoryOfLocation(r, instance), ...(r.nvidiaSmi ? { nvidiaSmi: r.nvidiaSmi } : {}) },
  );
}

/** The inventory of the member the instance lives on, or null when that is this host (or there is no cluster). */
async function inventoryOfLocation(r: ClusterAttachRequest, instance: Instance): Promise<DeviceInventory | null> {
  const location = instance.location;
  if (!location || location === 'none') return null;
  const server = await r.client.getServer();
  const env = (server.environment ?? {}) as { server_clustered?: boolean; server_name?: string };
  if (env.server_clustered !== true) return null;
  if (r.remote !== true && env.server_name === location) return null;
  const inventory = await readMemberInventory(r.client, location, r.staleAfterSeconds ?? DEFAULT_STALE_SECONDS, (r.now ?? (() => new Date()))());
  const stale = staleResourcesNote(server);
  return stale ? { ...inventory, note: `${inventory.note}; ${stale}` } : inventory;
}

/** Reads one member's config (its published readiness) and, when it is not OFFLINE, its resources. */
export async function readMemberInventory(client: LxdClient, member: string, staleAfterSeconds: number, now: Date): Promise<DeviceInventory> {
  const { member: m } = await getClusterMember(client, member);
  const product = (await client.serverKind()).product;
  // On LXD 5.0 `resources?target=` to an OFFLINE member hangs about 10 s before it fails.
  if (m.status.toUpperCase() === 'OFFLINE')
    throw new FleetError(
      'checking',
      `the devices of cluster member ${member}`,
      client.via,
      `the member is OFFLINE (${m.message || `${product} lost contact`}); nothing was written`,
    );
  const resources = await getMemberResources(client, member);
  const published = readPublished(m.config);
  return memberInventory({ member, resources, published, ...publishedAge(published, now, staleAfterSeconds), staleAfterSeconds, product });
}
