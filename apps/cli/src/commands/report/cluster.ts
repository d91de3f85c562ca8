import type { CliContext } from '../../context';
import type { ReportCluster } from './schema';

/**
 * `report --cluster`: the LXD cluster as `fleet status` sees it, for the report's cluster
 * section. fleet and the LXD client load only with the flag: without it the report never
 * contacts LXD. A server that is no cluster is a FleetError `bad-input` (exit 2, nothing
 * written); an OFFLINE or unreachable member is shown as such and never fails the report.
 */
export async function readCluster(ctx: CliContext): Promise<ReportCluster> {
  const [{ DEFAULT_STALE_SECONDS, fleetStatus }, { memberClients }] = await Promise.all([import('@passthru/fleet'), import('../fleet/render')]);
  const { schemaVersion: _version, ...cluster } = await fleetStatus(memberClients(ctx, { stale: String(DEFAULT_STALE_SECONDS), timeout: '15' }));
  return cluster;
}

/** Each member's state and verdict, for the report's summary line. */
export function clusterSummary(cluster: ReportCluster): string {
  const state = (m: ReportCluster['members'][number]) =>
    m.status !== 'ONLINE' || !m.reachable ? `${m.status}${m.reachable ? '' : ' (unreachable)'}` : `${m.verdict ?? 'unpublished'}${m.stale ? ' (stale)' : ''}`;
  return `cluster: ${cluster.members.map((m) => `${m.name} ${state(m)}`).join(', ')}`;
}
