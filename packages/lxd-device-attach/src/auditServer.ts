import { trustFindings, type PendingToken } from './auditTrust';
import { sortFindings, type Finding, type Severity } from './Finding';
import { SERIES, lxdSupport, type LxdSeries, type LxdSupport } from './lxdSeries';
import type { Certificate, Server } from './schemas';
import { serverKindOf, type ServerKind } from './servers';

/** Where a listen address ("[::]:8443", ":8443", "127.0.0.1:8443", "lxd.example") points. */
export type ListenScope = 'loopback' | 'all' | 'address';

/** Classifies an LXD listen address (core.https_address, core.metrics_address) by its host part. */
export function listenScope(address: string): ListenScope {
  const a = address.trim();
  let host: string;
  if (a.startsWith('[')) host = a.slice(1, a.indexOf(']') < 0 ? undefined : a.indexOf(']'));
  else if ((a.match(/:/g) ?? []).length > 1)
    host = a; // a bare IPv6 address, no port
  else host = a.includes(':') ? a.slice(0, a.lastIndexOf(':')) : a;
  host = host.toLowerCase();
  if (host === '' || host === '0.0.0.0' || host === '::' || host === '*') return 'all';
  if (host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)) return 'loopback';
  return 'address';
}

const portOf = (address: string) => /:(\d+)$/.exec(address.trim())?.[1] ?? '8443';

/** How to reach a supported LTS: only series at or above the running one (neither server downgrades). */
function upgradeAdvice(kind: ServerKind, version: string, today: string): string {
  const [major, minor] = (/^(\d+)\.(\d+)/.exec(version.trim()) ?? ['', '0', '0']).slice(1).map(Number) as [number, number];
  const atOrAbove = (s: LxdSeries) => {
    const [a, b] = s.series.split('.').map(Number) as [number, number];
    return a > major || (a === major && b >= minor);
  };
  const current = SERIES[kind.name].filter((s) => s.kind === 'lts' && s.supportedUntil !== null && s.supportedUntil >= today);
  const lts = current.some(atOrAbove) ? current.filter(atOrAbove) : current;
  const list = lts.map((s) => `${s.series} (until ${s.supportedUntil})`).join(' or ') || 'the current LTS';
  return kind.name === 'incus'
    ? `upgrade Incus to a supported LTS series: ${list} (your distribution's Incus LTS packages, or Zabbly's LTS repository)`
    : `upgrade LXD to a supported LTS series: ${list} (snap: snap refresh lxd --channel=${lts[0]?.series ?? 'latest'}/stable)`;
}

/**
 * Findings for the daemon itself (the security checklist: supported versions; restrict access to
 * the daemon and the remote API): the server config from GET /1.0, the trusted certificates and
 * the pending trust tokens. The server's own `environment.server` says whether it is LXD or Incus
 * (its series table, what exists there). `today` (ISO date) decides the support status.
 */
export function auditServer(
  server: Server,
  certificates: Certificate[],
  today: string = new Date().toISOString().slice(0, 10),
  tokens: PendingToken[] = [],
): { support: LxdSupport | null; findings: Finding[] } {
  const cfg = server.config;
  const kind = serverKindOf(server);
  const findings: Finding[] = [];
  const add = (id: string, severity: Severity, summary: string, fix: string) => findings.push({ id, severity, summary, fix });

  const version = server.environment?.server_version;
  const support = version ? lxdSupport(version, today, SERIES[kind.name]) : null;
  if (version && support) {
    const upgrade = upgradeAdvice(kind, version, today);
    if (support.status === 'unsupported') {
      add(
        'lxd-version-unsupported',
        'high',
        `LXD ${version} (${support.series ? `${support.series.kind === 'lts' ? 'LTS' : 'feature'} series ${support.series.series}` : 'an old series'}) is out of support${support.series?.supportedUntil ? ` since ${support.series.supportedUntil}` : ''}: security fixes no longer reach it`,
        upgrade,
      );
    } else if (support.status === 'feature-release') {
      add(
        'lxd-version-feature-release',
        'low',
        `LXD ${version} is a feature release, supported only until the next one`,
        `follow every feature release, or ${upgrade}`,
      );
    } else if (support.status === 'unknown') {
      add(
        'lxd-version-unknown',
        'low',
        `LXD ${version} is not in passthru's table of LXD series: its support status is unknown`,
        kind.name === 'incus'
          ? "check Incus's support page (https://linuxcontainers.org/incus/docs/main/support/) for this series"
          : "check LXD's support page (doc/support.md) for this series",
      );
    }
  }

  const https = cfg['core.https_address']?.trim();
  const listening = Boolean(https);
  if (https) {
    const scope = listenScope(https);
    if (scope !== 'loopback') {
      add(
        'remote-api-exposed',
        scope === 'all' ? 'medium' : 'low',
        `core.https_address=${https}: the remote API listens ${scope === 'all' ? 'on every address' : `on ${https}, beyond loopback`}; a trusted certificate${kind.name === 'incus' ? ' or a pending trust token' : ' or the trust password'} is then host root from the network`,
        `lxc config set core.https_address=127.0.0.1:${portOf(https)} (for remote management: a management address only, firewalled)`,
      );
    }
  }
  if (cfg['core.trust_password'] && cfg['core.trust_password'] !== 'false') {
    add(
      'remote-api-trust-password',
      listening ? 'high' : 'medium',
      `core.trust_password is set: anyone who knows it can add a trusted, unrestricted client${listening ? ` over ${https}` : ' once the remote API listens'}`,
      'lxc config unset core.trust_password (add clients with one-time tokens: lxc config trust add)',
    );
  }
  for (const c of certificates.filter((x) => x.type === 'client' && !x.restricted)) {
    const fp = c.fingerprint.slice(0, 12);
    add(
      'certificate-unrestricted',
      listening ? 'medium' : 'low',
      `trusted client certificate ${c.name || fp} (${fp}) is not restricted to projects: it has full control of LXD, i.e. the host${listening ? '' : ' (the remote API does not listen today)'}`,
      `lxc config trust edit ${fp} (set restricted: true and list its projects), or lxc config trust remove ${fp}`,
    );
  }
  const metrics = cfg['core.metrics_address']?.trim();
  if (metrics && cfg['core.metrics_authentication'] === 'false') {
    const open = listenScope(metrics) !== 'loopback';
    // LXD 5.0.2 stores "false" when core.metrics_authentication is unset (its default is true),
    // so the fix sets it to true instead of unsetting it.
    add(
      'metrics-unauthenticated',
      open ? 'medium' : 'low',
      `core.metrics_address=${metrics} with core.metrics_authentication=false: /1.0/metrics is served to anyone who reaches ${open ? 'it' : 'it on this host'}`,
      'lxc config set core.metrics_authentication=true (scrape with a metrics certificate: lxc config trust add --type=metrics)',
    );
  }
  findings.push(...trustFindings(server, tokens, kind, https ? listenScope(https) : null));
  return { support, findings: sortFindings(findings) };
}
