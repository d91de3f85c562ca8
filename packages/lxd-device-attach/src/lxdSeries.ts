/**
 * LXD release series and their support status, kept in the repo (audit never asks the network).
 * Source: LXD's doc/support.md (github.com/canonical/lxd, "How to get support"): LTS 5.21 is
 * supported until June 2029, 5.0 until June 2027, 4.0 until June 2025; 3.0 until June 2023 (the
 * same page in the 4.0 era); feature releases are supported only until the next release, and
 * 5.21 closed the 5.x feature series (the next feature series is 6.x). Review when LXD ships an LTS.
 */
export interface LxdSeries {
  /** "5.21" (an exact minor) or "6" (every 6.x). */
  series: string;
  kind: 'lts' | 'feature';
  /** Last day of support (ISO date); null for a feature series still current. */
  supportedUntil: string | null;
}

export const LXD_SERIES: readonly LxdSeries[] = [
  { series: '5.21', kind: 'lts', supportedUntil: '2029-06-30' },
  { series: '5.0', kind: 'lts', supportedUntil: '2027-06-30' },
  { series: '4.0', kind: 'lts', supportedUntil: '2025-06-30' },
  { series: '3.0', kind: 'lts', supportedUntil: '2023-06-30' },
  { series: '6', kind: 'feature', supportedUntil: null },
  // 5.1-5.20 and 4.1-4.24 were feature releases, each superseded by the next; the last of each
  // lost support when its LTS (5.21, April 2024; 5.0, April 2022) came out.
  { series: '5', kind: 'feature', supportedUntil: '2024-04-04' },
  { series: '4', kind: 'feature', supportedUntil: '2022-04-01' },
];

export interface LxdSupport {
  version: string;
  series: LxdSeries | null;
  status: 'supported-lts' | 'feature-release' | 'unsupported' | 'unknown';
}

/** Support status of a server_version ("5.0.2", "5.21.1 LTS", "6.1") on `today` (ISO date). */
export function lxdSupport(version: string, today: string = new Date().toISOString().slice(0, 10)): LxdSupport {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  if (!m) return { version, series: null, status: 'unknown' };
  const [major, minor] = [Number(m[1]), Number(m[2])];
  const series = LXD_SERIES.find((s) => s.series === `${major}.${minor}`) ?? LXD_SERIES.find((s) => s.series === `${major}`) ?? null;
  if (!series) return { version, series: null, status: major < 3 ? 'unsupported' : 'unknown' };
  if (series.supportedUntil !== null && today > series.supportedUntil) return { version, series, status: 'unsupported' };
  return { version, series, status: series.kind === 'lts' ? 'supported-lts' : 'feature-release' };
}
