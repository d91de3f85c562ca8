/**
 * `passthru fleet publish`: this member's readiness summary into its own cluster member
 * config (user.passthru.*) and its membership of passthru's cluster groups, in one PUT of the
 * member with If-Match. A 412 (another writer changed the member between read and write:
 * a second publish, an operator's `lxc cluster set`) is retried on a fresh read, so nobody's
 * change is lost. Only this member is ever written; groups are created when missing, never
 * deleted (an empty group makes `--target @group` fail clearly: no ready member).
 */
import type { HostFs } from '@passthru/hostfs';
import {
  createClusterGroup,
  getClusterMember,
  listClusterGroups,
  LxdError,
  memberPut,
  updateClusterMember,
  type ClusterMemberPut,
  type LxdClient,
} from '@passthru/lxd-device-attach';
import { FleetError } from './FleetError';
import { isPassthruGroup, wantedGroups } from './groups';
import { publishedConfig, withPublished } from './published';
import { readinessOf, type ReadinessSummary } from './readiness';
import { requireCluster } from './requireCluster';

export interface PublishRequest {
  client: LxdClient;
  host: HostFs;
  /** The member to publish as; default: the server the client talks to. */
  member?: string;
  version: string;
  dryRun?: boolean;
  /** Writes tried on ETag conflicts before giving up. */
  maxAttempts?: number;
  /** Called after each read of the member, before its write (tests race a writer here). */
  beforeWrite?: (attempt: number) => Promise<void>;
  /** The summary to publish; computed from `host` when absent. */
  summary?: ReadinessSummary;
  now?: () => Date;
}

export interface PlannedCall {
  method: 'POST' | 'PUT';
  path: string;
  ifMatch?: string;
  body: unknown;
}

export interface PublishResult {
  member: string;
  dryRun: boolean;
  summary: ReadinessSummary;
  published: Record<string, string>;
  joined: string[];
  left: string[];
  created: string[];
  /** Groups with a passthru name passthru did not create: left alone. */
  skipped: string[];
  calls: PlannedCall[];
  attempts: number;
}

export async function publishReadiness(request: PublishRequest): Promise<PublishResult> {
  const { client } = request;
  const now = request.now ?? (() => new Date());
  const { serverName } = await requireCluster(client, ['clustering_config', 'clustering_groups']);
  const member = request.member ?? serverName;
  await memberOrBadInput(client, member);
  const summary = request.summary ?? readinessOf(request.host);
  const published = publishedConfig(summary, now(), request.version);

  const wanted = wantedGroups(summary);
  const existing = await listClusterGroups(client);
  const skipped = existing.filter((g) => wanted.has(g.name) && !isPassthruGroup(g)).map((g) => g.name);
  const toCreate = [...wanted.keys()].filter((n) => !existing.some((g) => g.name === n));
  const ours = new Set([...existing.filter(isPassthruGroup).map((g) => g.name), ...toCreate]);
  const want = new Set([...wanted.keys()].filter((n) => !skipped.includes(n)));
  const calls: PlannedCall[] = toCreate.map((name) => ({
    method: 'POST',
    path: '/1.0/cluster/groups',
    body: { name, description: wanted.get(name), members: [] },
  }));
  const putOf = (current: ClusterMemberPut): ClusterMemberPut => ({
    ...current,
    config: withPublished(current.config, published),
    groups: [...current.groups.filter((g) => !ours.has(g) || want.has(g)), ...[...want].filter((g) => !current.groups.includes(g))],
  });

  if (request.dryRun) {
    const { member: m, etag } = await getClusterMember(client, member);
    const put = putOf(memberPut(m));
    calls.push({ method: 'PUT', path: `/1.0/cluster/members/${member}`, ifMatch: etag ?? '', body: put });
    return { member, dryRun: true, summary, published, ...membership(m.groups, put.groups), created: toCreate, skipped, calls, attempts: 0 };
  }

  for (const name of toCreate) {
    try {
      await createClusterGroup(client, name, wanted.get(name)!);
    } catch (error) {
      // Another member created it at the same moment: fine when it is passthru's.
      if (!(error instanceof LxdError && error.reason === 'conflict')) throw error;
      const again = (await listClusterGroups(client)).find((g) => g.name === name);
      if (!again || !isPassthruGroup(again))
        throw new FleetError('creating', `cluster group ${name}`, client.via, `a group of that name exists that passthru did not create`, 'failed', {
          cause: error,
        });
    }
  }
  const maxAttempts = request.maxAttempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const { member: m, etag } = await getClusterMember(client, member);
    const put = putOf(memberPut(m));
    await request.beforeWrite?.(attempt);
    try {
      await updateClusterMember(client, member, put, etag);
      calls.push({ method: 'PUT', path: `/1.0/cluster/members/${member}`, ifMatch: etag ?? '', body: put });
      return { member, dryRun: false, summary, published, ...membership(m.groups, put.groups), created: toCreate, skipped, calls, attempts: attempt };
    } catch (error) {
      if (!(error instanceof LxdError && error.reason === 'conflict' && error.status === 412) || attempt >= maxAttempts) {
        if (error instanceof LxdError && error.reason === 'conflict')
          throw new FleetError(
            'publishing',
            `the readiness of cluster member ${member}`,
            client.via,
            `the member changed under each of ${attempt} writes; nothing was overwritten`,
            'conflict',
            { cause: error },
          );
        throw error;
      }
    }
  }
}

function membership(before: string[], after: string[]): { joined: string[]; left: string[] } {
  return { joined: after.filter((g) => !before.includes(g)), left: before.filter((g) => !after.includes(g)) };
}

async function memberOrBadInput(client: LxdClient, member: string): Promise<void> {
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/.test(member))
    throw new FleetError('publishing', `the readiness of ${JSON.stringify(member)}`, client.via, 'not a valid cluster member name', 'bad-input');
  try {
    await getClusterMember(client, member);
  } catch (error) {
    if (error instanceof LxdError && error.reason === 'not-found')
      throw new FleetError('publishing', `the readiness of cluster member ${member}`, client.via, 'no such cluster member', 'bad-input', { cause: error });
    throw error;
  }
}
