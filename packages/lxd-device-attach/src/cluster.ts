/**
 * The cluster endpoints of the LXD REST API (extensions `clustering`, `clustering_config`,
 * `clustering_groups`), over one LxdClient: members with their per-member config and ETag,
 * cluster groups, and a member's `/1.0/resources`. LXD 5.0 facts: a member's `status` is
 * "Online"/"Offline"/"Evacuated"...; `/1.0/cluster/members/NAME/state` is not implemented;
 * `iommu_group` is 0 for every device of a host without an IOMMU and `numa_node` -1 reads 0.
 */
import * as z from 'zod';
import type { LxdClient, Purpose } from './LxdClient';
import { LxdError } from './LxdError';

export const ClusterMemberSchema = z.looseObject({
  server_name: z.string(),
  url: z.string().optional().default(''),
  database: z.boolean().optional(),
  status: z.string(),
  message: z.string().optional().default(''),
  architecture: z.string().optional(),
  roles: z
    .array(z.string())
    .nullable()
    .optional()
    .transform((r) => r ?? []),
  failure_domain: z.string().optional().default('default'),
  description: z.string().optional().default(''),
  config: z
    .record(z.string(), z.string())
    .nullable()
    .optional()
    .transform((c) => c ?? {}),
  groups: z
    .array(z.string())
    .nullable()
    .optional()
    .transform((g) => g ?? []),
});
export type ClusterMember = z.infer<typeof ClusterMemberSchema>;

/** The writable part of a member (PUT /1.0/cluster/members/NAME replaces all of it). */
export interface ClusterMemberPut {
  config: Record<string, string>;
  description: string;
  failure_domain: string;
  groups: string[];
  roles: string[];
}

export const ClusterGroupSchema = z.looseObject({
  name: z.string(),
  description: z.string().optional().default(''),
  members: z
    .array(z.string())
    .nullable()
    .optional()
    .transform((m) => m ?? []),
});
export type ClusterGroup = z.infer<typeof ClusterGroupSchema>;

/** The parts of GET /1.0/resources that passthru reads: PCI devices, GPU and network cards, USB devices. */
export const ResourcesPciDeviceSchema = z.looseObject({
  pci_address: z.string(),
  vendor_id: z.string().optional().default(''),
  product_id: z.string().optional().default(''),
  vendor: z.string().optional().default(''),
  product: z.string().optional().default(''),
  driver: z.string().optional().default(''),
  numa_node: z.number().int().optional().default(0),
  iommu_group: z.number().int().optional().default(0),
});
export const ResourcesGpuCardSchema = z.looseObject({
  pci_address: z.string().optional().default(''),
  vendor_id: z.string().optional().default(''),
  product_id: z.string().optional().default(''),
  driver: z.string().optional().default(''),
  numa_node: z.number().int().optional().default(0),
});
/** A network card and its ports (`id` is the interface name on that member). */
export const ResourcesNetworkCardSchema = z.looseObject({
  pci_address: z.string().optional().default(''),
  ports: z
    .array(z.looseObject({ id: z.string() }))
    .nullable()
    .optional()
    .transform((p) => p ?? []),
});
export const ResourcesUsbDeviceSchema = z.looseObject({
  vendor_id: z.string().optional().default(''),
  product_id: z.string().optional().default(''),
  bus_address: z.number().int().optional().default(0),
  device_address: z.number().int().optional().default(0),
});
const listOf = <S extends z.ZodType>(item: S) =>
  z
    .array(item)
    .nullable()
    .optional()
    .transform((d) => d ?? []);

export const ResourcesSchema = z.looseObject({
  pci: z
    .looseObject({
      devices: z
        .array(ResourcesPciDeviceSchema)
        .nullable()
        .optional()
        .transform((d) => d ?? []),
    })
    .optional(),
  gpu: z
    .looseObject({
      cards: z
        .array(ResourcesGpuCardSchema)
        .nullable()
        .optional()
        .transform((c) => c ?? []),
    })
    .optional(),
  network: z.looseObject({ cards: listOf(ResourcesNetworkCardSchema) }).optional(),
  usb: z.looseObject({ devices: listOf(ResourcesUsbDeviceSchema) }).optional(),
});
export type Resources = z.infer<typeof ResourcesSchema>;

function parse<S extends z.ZodType>(client: LxdClient, schema: S, value: unknown, purpose: Purpose): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LxdError(
      purpose.doing,
      purpose.what,
      client.via,
      `unexpected answer from LXD: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`,
      { reason: 'lxd', cause: parsed.error },
    );
  }
  return parsed.data;
}

const memberPath = (name: string) => `/1.0/cluster/members/${encodeURIComponent(name)}`;

export async function listClusterMembers(client: LxdClient): Promise<ClusterMember[]> {
  const purpose = { doing: 'listing', what: 'cluster members' };
  const { metadata } = await client.request('GET', '/1.0/cluster/members', { query: { recursion: '1' } }, purpose);
  return parse(client, ClusterMemberSchema.array(), metadata ?? [], purpose);
}

/** One member and its ETag (for If-Match); a 404 is a `not-found` LxdError. */
export async function getClusterMember(client: LxdClient, name: string): Promise<{ member: ClusterMember; etag: string | undefined }> {
  const purpose = { doing: 'reading', what: `cluster member ${name}` };
  try {
    const { metadata, etag } = await client.request('GET', memberPath(name), {}, purpose);
    return { member: parse(client, ClusterMemberSchema, metadata, purpose), etag };
  } catch (error) {
    if (error instanceof LxdError && error.status === 404)
      throw new LxdError(purpose.doing, purpose.what, client.via, `no such cluster member (LXD: ${error.detail})`, {
        reason: 'not-found',
        status: 404,
        cause: error,
      });
    throw error;
  }
}

/**
 * Replaces a member's writable part only if its ETag is still `etag`. A 412 (another writer
 * changed the member since it was read) is a `conflict` LxdError and nothing was written:
 * re-read and apply again. Without an etag the write is refused (never blind).
 */
export async function updateClusterMember(client: LxdClient, name: string, put: ClusterMemberPut, etag: string | undefined): Promise<void> {
  const purpose = { doing: 'updating', what: `cluster member ${name}` };
  if (!etag)
    throw new LxdError(
      purpose.doing,
      purpose.what,
      client.via,
      'LXD sent no ETag for the member, so a concurrent change could not be detected; refusing to write',
      { reason: 'conflict' },
    );
  try {
    await client.request('PUT', memberPath(name), { body: put, headers: { 'If-Match': etag } }, purpose);
  } catch (error) {
    if (error instanceof LxdError && error.status === 412) {
      throw new LxdError(purpose.doing, purpose.what, client.via, `the member changed since it was read; nothing was overwritten (LXD: ${error.detail})`, {
        reason: 'conflict',
        status: 412,
        cause: error,
      });
    }
    throw error;
  }
}

export function memberPut(member: ClusterMember): ClusterMemberPut {
  return {
    config: { ...member.config },
    description: member.description,
    failure_domain: member.failure_domain,
    groups: [...member.groups],
    roles: [...member.roles],
  };
}

export async function listClusterGroups(client: LxdClient): Promise<ClusterGroup[]> {
  const purpose = { doing: 'listing', what: 'cluster groups' };
  const { metadata } = await client.request('GET', '/1.0/cluster/groups', { query: { recursion: '1' } }, purpose);
  return parse(client, ClusterGroupSchema.array(), metadata ?? [], purpose);
}

/**
 * Creates an empty cluster group. A group that already exists is a `conflict` LxdError: LXD
 * says 409 or "already exists"; Incus 6.0, when two members create it at the same moment, 500
 * "Failed to create "cluster_groups" entry: UNIQUE constraint failed: cluster_groups.name".
 */
export async function createClusterGroup(client: LxdClient, name: string, description: string): Promise<void> {
  const purpose = { doing: 'creating', what: `cluster group ${name}` };
  try {
    await client.request('POST', '/1.0/cluster/groups', { body: { name, description, members: [] } }, purpose);
  } catch (error) {
    if (error instanceof LxdError && (error.status === 409 || /already exists|UNIQUE constraint failed: cluster_groups\.name/i.test(error.detail))) {
      throw new LxdError(purpose.doing, purpose.what, client.via, error.detail, { reason: 'conflict', status: error.status, cause: error });
    }
    throw error;
  }
}

/** GET /1.0/resources of one member (`?target=`; LXD forwards to that member). */
export async function getMemberResources(client: LxdClient, member: string): Promise<Resources> {
  const purpose = { doing: 'reading', what: `the resources of cluster member ${member}` };
  const { metadata } = await client.request('GET', '/1.0/resources', { query: { target: member } }, purpose);
  return parse(client, ResourcesSchema, metadata, purpose);
}
