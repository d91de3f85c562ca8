/**
 * `passthru fleet status`: every cluster member with its state as LXD reports it, its PCI
 * devices from `/1.0/resources?target=` (pci.devices joined with gpu.cards by address: a
 * card carries no IOMMU group), its published readiness and that readiness's age, and the
 * cluster groups passthru keeps. One unreachable member never fails the whole status: its
 * devices are empty and `error` says why. An OFFLINE member is not asked at all (on LXD 5.0 a
 * `resources?target=` to it hangs about 10 s before failing).
 */
import { getMemberResources, listClusterGroups, listClusterMembers, type LxdClient, type Resources } from '@passthru/lxd-device-attach';
import { VerdictSchema } from '@passthru/iommu-check';
import * as z from 'zod';
import { isPassthruGroup } from './groups';
import { publishedAge, readPublished, type Published } from './published';
import { requireCluster } from './requireCluster';

export const FleetDeviceSchema = z.object({
  address: z.string(),
  vendorId: z.string(),
  deviceId: z.string(),
  /** null when the member published that its kernel has no IOMMU groups (LXD then says 0 for every device). */
  iommuGroup: z.number().int().nullable(),
  driver: z.string().nullable(),
  /** A GPU card in LXD's gpu.cards. */
  gpu: z.boolean(),
  /** Named VM-ready in the member's fresh published readiness. */
  vmReady: z.boolean(),
});
export type FleetDevice = z.infer<typeof FleetDeviceSchema>;

export const FleetMemberSchema = z.object({
  name: z.string(),
  /** As LXD reports it, upper case: ONLINE, OFFLINE, EVACUATED, BLOCKED... */
  status: z.string(),
  message: z.string(),
  url: z.string(),
  /** Whether the member's resources could be read. */
  reachable: z.boolean(),
  error: z.string().nullable(),
  /** The member's published doctor verdict, or null when it published none. */
  verdict: VerdictSchema.nullable(),
  publishedAt: z.string().nullable(),
  ageSeconds: z.number().int().nullable(),
  /** Published longer ago than the allowed age: not used for placement. */
  stale: z.boolean(),
  failing: z.array(z.string()),
  iommu: z.boolean().nullable(),
  version: z.string().nullable(),
  groups: z.array(z.string()),
  devices: z.array(FleetDeviceSchema),
});
export type FleetMember = z.infer<typeof FleetMemberSchema>;

export const FleetStatusSchema = z.object({
  schemaVersion: z.literal(1),
  /** The cluster's daemon (its GET /1.0): fix lines and commands name its client. */
  server: z.enum(['lxd', 'incus']).describe('the daemon of the cluster: lxd or incus (its GET /1.0 environment.server)'),
  generatedAt: z.string(),
  staleAfterSeconds: z.number().int(),
  /** What limits this status, e.g. a server release whose resources can be stale. */
  notes: z.array(z.string()).describe('what limits this status (e.g. an Incus release whose /1.0/resources can be stale)'),
  members: z.array(FleetMemberSchema),
  groups: z.array(z.object({ name: z.string(), description: z.string(), members: z.array(z.string()) })),
});
export type FleetStatus = z.infer<typeof FleetStatusSchema>;

export interface StatusRequest {
  client: LxdClient;
  /** The client for `resources?target=` (a shorter request timeout than the default 30 s). */
  resourcesClient?: LxdClient;
  staleAfterSeconds?: number;
  now?: () => Date;
}

export const DEFAULT_STALE_SECONDS = 3600;

export async function fleetStatus(request: StatusRequest): Promise<FleetStatus> {
  const { client } = request;
  const now = (request.now ?? (() => new Date()))();
  const staleAfterSeconds = request.staleAfterSeconds ?? DEFAULT_STALE_SECONDS;
  const { kind, resourcesNote } = await requireCluster(client, ['clustering_config', 'clustering_groups']);
  const [members, groups] = await Promise.all([listClusterMembers(client), listClusterGroups(client)]);
  const resources = request.resourcesClient ?? client;
  const out = await Promise.all(
    members.map(async (m): Promise<FleetMember> => {
      const status = m.status.toUpperCase();
      const published = readPublished(m.config);
      const { ageSeconds, stale } = publishedAge(published, now, staleAfterSeconds);
      let devices: FleetDevice[] = [];
      let error: string | null = null;
      if (status === 'OFFLINE') error = `member is OFFLINE (${m.message || `${kind.product} lost contact`}): its resources were not asked`;
      else {
        try {
          devices = joinDevices(await getMemberResources(resources, m.server_name), stale ? null : published);
        } catch (e) {
          error = (e as Error).message;
        }
      }
      return {
        name: m.server_name,
        status,
        message: m.message,
        url: m.url,
        reachable: error === null,
        error,
        verdict: published?.verdict ?? null,
        publishedAt: published?.publishedAt ?? null,
        ageSeconds,
        stale,
        failing: published?.failing ?? [],
        iommu: published ? published.iommu : null,
        version: published?.version ?? null,
        groups: m.groups.filter((g) => groups.some((x) => x.name === g && isPassthruGroup(x))),
        devices,
      };
    }),
  );
  return {
    schemaVersion: 1,
    server: kind.name,
    generatedAt: now.toISOString(),
    staleAfterSeconds,
    notes: resourcesNote ? [resourcesNote] : [],
    members: out.sort((a, b) => a.name.localeCompare(b.name)),
    groups: groups
      .filter(isPassthruGroup)
      .map((g) => ({ name: g.name, description: g.description, members: [...g.members].sort() }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/** pci.devices joined with gpu.cards by address (a card not in pci.devices is added, group unknown). */
export function joinDevices(resources: Resources, published: Published | null): FleetDevice[] {
  const ready = new Set(published?.vmReady ?? []);
  const noIommu = published !== null && !published.iommu;
  const cards = new Map((resources.gpu?.cards ?? []).filter((c) => c.pci_address).map((c) => [c.pci_address, c]));
  const devices: FleetDevice[] = (resources.pci?.devices ?? []).map((d) => ({
    address: d.pci_address,
    vendorId: d.vendor_id,
    deviceId: d.product_id,
    iommuGroup: noIommu ? null : d.iommu_group,
    driver: d.driver || null,
    gpu: cards.has(d.pci_address),
    vmReady: ready.has(d.pci_address),
  }));
  for (const [address, c] of cards) {
    if (!devices.some((d) => d.address === address))
      devices.push({
        address,
        vendorId: c.vendor_id,
        deviceId: c.product_id,
        iommuGroup: null,
        driver: c.driver || null,
        gpu: true,
        vmReady: ready.has(address),
      });
  }
  return devices.sort((a, b) => a.address.localeCompare(b.address));
}

/** 0: every member ONLINE and answered; 1: at least one is not (it is still listed). */
export const statusExitCode = (s: FleetStatus): 0 | 1 => (s.members.every((m) => m.status === 'ONLINE' && m.reachable) ? 0 : 1);
