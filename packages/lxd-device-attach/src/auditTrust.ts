import * as z from 'zod';
import type { Finding, Severity } from './Finding';
import type { LxdClient } from './LxdClient';
import type { Server } from './schemas';
import type { ServerKind } from './servers';

/**
 * How remote clients become trusted, beyond certificates: pending certificate add tokens (LXD and
 * Incus; Incus has no trust password, so tokens are its way in) and OpenID Connect without an
 * authorizer (Incus, whose documentation says every OIDC user then has full access).
 */

/** A certificate add token made by `lxc config trust add NAME` and not used yet (never its secret). */
export interface PendingToken {
  name: string;
  restricted: boolean;
  projects: string[];
  /** When it expires (ISO time); null when it never does. */
  expiresAt: string | null;
}

const TokenOperationSchema = z.looseObject({
  class: z.string().optional(),
  status_code: z.number().int().optional(),
  metadata: z
    .looseObject({
      request: z.looseObject({ name: z.string().optional(), restricted: z.boolean().optional(), projects: z.array(z.string()).nullish() }).optional(),
      expiresAt: z.string().optional(),
    })
    .nullish(),
});
const OperationListSchema = z.record(z.string(), z.array(z.unknown()).nullish());

/**
 * The pending certificate add tokens among `GET /1.0/operations?recursion=1` (class "token",
 * running, with a certificate request; cluster join tokens have none). A zero time ("0001-01-01...")
 * or no `expiresAt` is a token that never expires.
 */
export function parsePendingTokens(metadata: unknown): PendingToken[] {
  const lists = OperationListSchema.safeParse(metadata ?? {});
  if (!lists.success) return [];
  const out: PendingToken[] = [];
  for (const raw of Object.values(lists.data).flatMap((l) => l ?? [])) {
    const op = TokenOperationSchema.safeParse(raw);
    if (!op.success || op.data.class !== 'token' || (op.data.status_code ?? 103) !== 103) continue;
    const request = op.data.metadata?.request;
    if (!request?.name) continue;
    const expiresAt = op.data.metadata?.expiresAt;
    out.push({
      name: request.name,
      restricted: request.restricted === true,
      projects: request.projects ?? [],
      expiresAt: expiresAt && !expiresAt.startsWith('0001-') ? expiresAt : null,
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The pending certificate add tokens of the server (operations are the admin's to list). */
export async function pendingTrustTokens(client: LxdClient): Promise<PendingToken[]> {
  const { metadata } = await client.request('GET', '/1.0/operations', { query: { recursion: '1' } }, { doing: 'listing', what: 'operations (trust tokens)' });
  return parsePendingTokens(metadata);
}

/**
 * `trust-token-no-expiry` per pending token that never expires; `oidc-full-access` on Incus.
 * `httpsScope`: where core.https_address listens (auditServer's `listenScope`), null when it does not.
 */
export function trustFindings(server: Server, tokens: PendingToken[], kind: ServerKind, httpsScope: 'loopback' | 'all' | 'address' | null): Finding[] {
  const cfg = server.config;
  const findings: Finding[] = [];
  const add = (id: string, severity: Severity, summary: string, fix: string) => findings.push({ id, severity, summary, fix });
  const https = cfg['core.https_address']?.trim();
  const expiry = cfg['core.remote_token_expiry']?.trim();
  for (const t of tokens.filter((x) => x.expiresAt === null)) {
    add(
      'trust-token-no-expiry',
      t.restricted ? 'low' : 'medium',
      `pending trust token ${t.name} never expires${expiry ? '' : ' (core.remote_token_expiry is unset)'}: whoever obtains it becomes a trusted ${t.restricted ? `client restricted to ${t.projects.join(', ') || 'no project'}` : 'unrestricted client, i.e. host root'}, now or at any later time (revoke it unless it is about to be used)`,
      `lxc config trust revoke-token ${t.name}${expiry ? '' : '; lxc config set core.remote_token_expiry=15M (new tokens then expire after 15 minutes)'}`,
    );
  }
  const issuer = cfg['oidc.issuer']?.trim();
  const openfga = ['openfga.api.url', 'openfga.api.token', 'openfga.store.id'].every((k) => cfg[k]?.trim());
  if (kind.name === 'incus' && issuer && cfg['oidc.client.id']?.trim() && !openfga && !cfg['authorization.scriptlet']?.trim()) {
    const open = httpsScope !== null && httpsScope !== 'loopback';
    add(
      'oidc-full-access',
      open ? 'high' : 'medium',
      `oidc.issuer=${issuer} without authorization (no openfga.*, no authorization.scriptlet): every account of that identity provider gets full access to Incus, i.e. root on the host, ${https ? `over ${https}` : 'once the remote API listens'}`,
      'incus config unset oidc.issuer (or let an authorizer decide: openfga.api.url, openfga.api.token and openfga.store.id, or authorization.scriptlet)',
    );
  }
  return findings;
}
