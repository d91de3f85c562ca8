import { serverKindOf, staleResourcesNote, type LxdClient, type ServerKind } from '@passthru/lxd-device-attach';
import { FleetError } from './FleetError';

const WHY: Record<string, string> = {
  clustering_config: 'per-member user.* configuration',
  clustering_groups: 'cluster groups',
};

/**
 * The server must be a cluster member whose API has the extensions passthru uses (LXD 5.0 and
 * Incus have them; older LXD servers lack per-member config). Anything else is bad input: nothing is written.
 */
export async function requireCluster(client: LxdClient, extensions: string[]): Promise<{ serverName: string; kind: ServerKind; resourcesNote: string | null }> {
  const server = await client.getServer();
  const kind = serverKindOf(server);
  const env = (server.environment ?? {}) as { server_clustered?: boolean; server_name?: string };
  const missing = extensions.filter((e) => !server.api_extensions.includes(e));
  if (missing.length > 0)
    throw new FleetError(
      'checking',
      `the ${kind.product} server`,
      client.via,
      `the server lacks ${missing.map((m) => `${WHY[m] ?? m} (API extension ${m})`).join(' and ')}; fleets need LXD 5.0 or later, or Incus`,
      'bad-input',
    );
  if (env.server_clustered !== true)
    throw new FleetError(
      'checking',
      `the ${kind.product} server`,
      client.via,
      `this server is not a cluster member (\`${kind.cli} cluster list\` says "${kind.product} server isn't part of a cluster")`,
      'bad-input',
    );
  return { serverName: env.server_name ?? '', kind, resourcesNote: staleResourcesNote(server) };
}
