/**
 * The LXC family's two daemons, LXD and Incus (LXD's community fork, 6.0 LTS): one REST API with
 * the same device types, cluster groups, member config and /1.0/resources, and different names
 * for the same things. passthru finds the server the way each one's own client does, says
 * which it talks to, and words every message and fix line in that server's vocabulary.
 */
import { LxdError } from './LxdError';
import type { Server } from './schemas';

export type ServerName = 'lxd' | 'incus';
export const SERVER_NAMES: readonly ServerName[] = ['lxd', 'incus'];

export interface ServerKind {
  /** `environment.server` of GET /1.0 ("incus"; LXD says "lxd"). */
  name: ServerName;
  product: 'LXD' | 'Incus';
  /** The client users type: `lxc config device add ...` or `incus config device add ...`. */
  cli: 'lxc' | 'incus';
  /** The variables its client reads before the default sockets (the first set one wins). */
  socketVariables: readonly { variable: string; socket: (value: string) => string }[];
  /** Where a packaged daemon listens, in the order its client tries them. */
  defaultSockets: readonly string[];
}

const inDir = (dir: string) => `${dir.replace(/\/+$/, '')}/unix.socket`;

export const LXD: ServerKind = {
  name: 'lxd',
  product: 'LXD',
  cli: 'lxc',
  socketVariables: [{ variable: 'LXD_DIR', socket: inDir }],
  // The snap's socket, then Debian's.
  defaultSockets: ['/var/snap/lxd/common/lxd/unix.socket', '/var/lib/lxd/unix.socket'],
};

export const INCUS: ServerKind = {
  name: 'incus',
  product: 'Incus',
  cli: 'incus',
  socketVariables: [
    { variable: 'INCUS_SOCKET', socket: (value) => value },
    { variable: 'INCUS_DIR', socket: inDir },
  ],
  // The daemon's socket; /run/incus is where the packages put it on hosts that keep state apart.
  defaultSockets: ['/var/lib/incus/unix.socket', '/run/incus/unix.socket'],
};

export const SERVERS: Readonly<Record<ServerName, ServerKind>> = { lxd: LXD, incus: INCUS };

/** The server a GET /1.0 answer is from: Incus says `environment.server: "incus"`; anything else is LXD. */
export function serverKindOf(server: Server): ServerKind {
  return (server.environment as { server?: unknown } | undefined)?.server === 'incus' ? INCUS : LXD;
}

/**
 * The sockets of `kind` passthru would try: the socket its variable names when set (then the
 * only one, as for its own client: a private daemon must never silently fall back to the
 * system's), else the packaged daemon's.
 */
export function socketCandidates(kind: ServerKind, env: NodeJS.ProcessEnv): { sockets: string[]; fromVariable?: string } {
  for (const { variable, socket } of kind.socketVariables) {
    const value = env[variable];
    if (value) return { sockets: [socket(value)], fromVariable: variable };
  }
  return { sockets: [...kind.defaultSockets] };
}

/**
 * Which server to talk to and through which socket:
 * - the one asked for (`--server`, PASSTHRU_SERVER), through its sockets only;
 * - else the one whose variable (LXD_DIR, INCUS_DIR, INCUS_SOCKET) is set, when only one is;
 * - else the one whose socket exists; when both exist, a `bad-input` error asks which.
 * No socket at all is a `not-found` error naming every path tried (exit 2: nothing was sent).
 */
export function findServerSocket(env: NodeJS.ProcessEnv, exists: (path: string) => boolean, wanted?: ServerName): { kind: ServerKind; socketPath: string } {
  const candidates = SERVER_NAMES.map((name) => ({ kind: SERVERS[name], ...socketCandidates(SERVERS[name], env) }));
  const pointed = candidates.filter((c) => c.fromVariable !== undefined);
  const chosen = wanted !== undefined ? candidates.filter((c) => c.kind.name === wanted) : pointed.length === 1 ? pointed : candidates;
  const found = chosen.map((c) => ({ kind: c.kind, socketPath: c.sockets.find((p) => exists(p)) })).filter((c) => c.socketPath !== undefined);
  if (found.length === 1) return found[0] as { kind: ServerKind; socketPath: string };
  if (found.length > 1) {
    throw new LxdError(
      'choosing',
      'the server',
      found.map((f) => f.socketPath).join(', '),
      `both LXD and Incus listen on this host; pick one with --server lxd|incus (or PASSTHRU_SERVER)`,
      { reason: 'bad-input' },
    );
  }
  const tried = chosen.flatMap((c) => c.sockets);
  const what = chosen.length === 1 ? `the ${chosen[0]!.kind.product} unix socket` : 'an LXD or Incus unix socket';
  const why = chosen.flatMap((c) => (c.fromVariable ? [`${c.fromVariable} is set`] : []));
  throw new LxdError('finding', what, tried.join(', '), `no socket exists${why.length ? ` (${why.join(', ')})` : ''}; is the daemon installed and running?`, {
    reason: 'not-found',
  });
}

/** "lxd" | "incus" from --server or PASSTHRU_SERVER; anything else is a usage error. */
export function parseServerName(value: string, from: string): ServerName {
  if ((SERVER_NAMES as readonly string[]).includes(value)) return value as ServerName;
  throw new LxdError('reading', from, '', `"${value}" is not a server: use lxd or incus`, { reason: 'bad-input' });
}

/**
 * What Incus renamed, as LXD's word -> Incus's (docs/lxd.md shows this table; servers.test.ts holds it to this).
 * Findings, fix lines and messages are written once in LXD's words; `inVocabularyOf` rewords
 * them for Incus. `raw.lxc` and `lxc.*` keys are LXC's own and stay as they are in both.
 */
export const INCUS_RENAMES: readonly { lxd: string; incus: string; pattern: RegExp; replacement: string }[] = [
  {
    lxd: '`lxc config ...`, `lxc project ...`, `lxc launch ...` (the client)',
    incus: '`incus config ...`, `incus project ...`, `incus launch ...`',
    pattern:
      /(^|[\s(`'"=;$])lxc (config|profile|project|cluster|launch|init|start|stop|restart|exec|query|list|info|delete|storage|network|image|remote|operation|file|warning|monitor|snapshot|copy|move|publish|export|import)\b/g,
    replacement: '$1incus $2',
  },
  {
    lxd: '`security.devlxd`, `security.devlxd.images`',
    incus: '`security.guestapi`, `security.guestapi.images`',
    pattern: /\bsecurity\.devlxd\b/g,
    replacement: 'security.guestapi',
  },
  { lxd: '`/dev/lxd` (the guest API socket)', incus: '`/dev/incus`', pattern: /\/dev\/lxd\b/g, replacement: '/dev/incus' },
  { lxd: '`lxd-agent`', incus: '`incus-agent`', pattern: /\blxd-agent\b/g, replacement: 'incus-agent' },
  { lxd: '`LXD_DIR`', incus: '`INCUS_DIR`', pattern: /\bLXD_DIR\b/g, replacement: 'INCUS_DIR' },
  { lxd: 'LXD', incus: 'Incus', pattern: /\bLXD\b/g, replacement: 'Incus' },
];

/** `text` as `kind` words it (LXD's own text is returned unchanged). */
export function inVocabularyOf(kind: ServerKind, text: string): string {
  if (kind.name === 'lxd') return text;
  return INCUS_RENAMES.reduce((t, r) => t.replace(r.pattern, r.replacement), text);
}

/**
 * Incus 6.0.0-6.0.5 and 6.1-6.17 answer GET /1.0/resources from a cache that, once 10 s have
 * passed since it was made, is returned forever (an inverted time test; lxc/incus commit 5ed516a,
 * "shared/resources: Fix caching mechanism", in 6.0.6 and 6.18): a driver change (passthru bind
 * or restore) is not seen until the daemon restarts. Null for LXD and for fixed releases.
 */
export function staleResourcesNote(server: Server): string | null {
  if (serverKindOf(server) !== INCUS) return null;
  const version = (server.environment as { server_version?: unknown } | undefined)?.server_version;
  const m = typeof version === 'string' ? /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version) : null;
  if (!m) return null;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  const affected = major === 6 && ((minor === 0 && patch <= 5) || (minor >= 1 && minor <= 17));
  if (!affected) return null;
  return `Incus ${version} may serve /1.0/resources from a stale cache (fixed in 6.0.6 and 6.18): drivers it shows can predate the last bind or restore; restart incus on a member to refresh what it shows, or upgrade`;
}
