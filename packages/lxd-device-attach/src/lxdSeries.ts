/**
 * LXD release series and their support status, kept in the repo (audit never asks the network).
 * Source: LXD's doc/support.md (github.com/canonical/lxd, "How to get support"): LTS 5.21 is
 * supported until June 2029, 5.0 until June 2027, 4.0 until June 2025; 3.0 until June 2023 (the
 * same page in the 4.0 era); feature releases are supported only until the next release, and
 * 5.21 closed the 5.x feature series (the next feature series is 6.x). Review when LXD ships an LTS.
 */
import type { ServerName } from './servers';

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

/**
 * Incus release series, kept the same way. Sources: Incus's own doc/support.md (github.com/lxc/incus,
 * https://linuxcontainers.org/incus/docs/main/support/): "The Incus 6.0 LTS release will be supported
 * until June 2029 ... (following Incus 7.0 LTS' release) only security updates"; "Feature releases
 * are pushed out about monthly ... supported until the next release comes out". 7.0 is an LTS (that
 * page, and its stable-7.0 branch) whose end date the page does not state yet: June 2031 is the Linux
 * Containers LTS policy (5 years, "Those come with 5 years of support from upstream",
 * stgraber.org/2024/07/01/lxc-lxcfs-incus-6-0-1-lts-release), as for 6.0 (April 2024 -> June 2029).
 * Feature series: 0.1-0.7 until 6.0 LTS (tagged 2024-04-03, announced 2024-04-04); 6.1-6.23 until 7.0
 * LTS (tag v7.0.0, 2026-05-01 UTC); 7.x current. Review when Incus ships an LTS or states 7.0's date.
 */
export const INCUS_SERIES: readonly LxdSeries[] = [
  { series: '7.0', kind: 'lts', supportedUntil: '2031-06-30' },
  { series: '6.0', kind: 'lts', supportedUntil: '2029-06-30' },
  { series: '7', kind: 'feature', supportedUntil: null },
  { series: '6', kind: 'feature', supportedUntil: '2026-05-01' },
  { series: '0', kind: 'feature', supportedUntil: '2024-04-04' },
];

/** Each server's series table. */
export const SERIES: Readonly<Record<ServerName, readonly LxdSeries[]>> = { lxd: LXD_SERIES, incus: INCUS_SERIES };

/**
 * Support status of a server_version ("5.0.2", "5.21.1 LTS", "6.1"; Incus "6.0.4") on `today` (ISO
 * date), in `table` (LXD's by default). A major older than every series of the table is unsupported.
 */
export function lxdSupport(version: string, today: string = new Date().toISOString().slice(0, 10), table: readonly LxdSeries[] = LXD_SERIES): LxdSupport {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  if (!m) return { version, series: null, status: 'unknown' };
  const [major, minor] = [Number(m[1]), Number(m[2])];
  const series = table.find((s) => s.series === `${major}.${minor}`) ?? table.find((s) => s.series === `${major}`) ?? null;
  const oldest = Math.min(...table.map((s) => Number.parseInt(s.series, 10)));
  if (!series) return { version, series: null, status: major < oldest ? 'unsupported' : 'unknown' };
  if (series.supportedUntil !== null && today > series.supportedUntil) return { version, series, status: 'unsupported' };
  return { version, series, status: series.kind === 'lts' ? 'supported-lts' : 'feature-release' };
}
