/**
 * How a readiness summary lives in a cluster member's configuration: free-form `user.*` keys
 * (LXD extension `clustering_config`), all strings. Every key passthru writes starts with
 * PUBLISHED_PREFIX; a publish replaces exactly those keys and leaves every other key alone.
 *
 *   user.passthru.verdict       ready | ready-with-warnings | not-ready | incomplete
 *   user.passthru.failing       failing check ids, comma-separated ("" when none)
 *   user.passthru.iommu         on | off (off: LXD's iommu_group 0 means nothing)
 *   user.passthru.vm-ready      addresses of the VM-ready functions, comma-separated
 *   user.passthru.viable        kind/vendor:device=groups, comma-separated (gpu/10de:2684=1)
 *   user.passthru.published-at  ISO 8601 time of the publish
 *   user.passthru.version       the passthru version that published
 */
import { VERDICTS } from '@passthru/iommu-check';
import { DEVICE_KINDS, type ReadinessSummary, type ViableCount } from './readiness';

export const PUBLISHED_PREFIX = 'user.passthru.';
export const KEYS = {
  verdict: 'user.passthru.verdict',
  failing: 'user.passthru.failing',
  iommu: 'user.passthru.iommu',
  vmReady: 'user.passthru.vm-ready',
  viable: 'user.passthru.viable',
  publishedAt: 'user.passthru.published-at',
  version: 'user.passthru.version',
} as const;

export interface Published extends ReadinessSummary {
  publishedAt: string;
  version: string;
}

const list = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

export function publishedConfig(summary: ReadinessSummary, publishedAt: Date, version: string): Record<string, string> {
  return {
    [KEYS.verdict]: summary.verdict,
    [KEYS.failing]: summary.failing.join(','),
    [KEYS.iommu]: summary.iommu ? 'on' : 'off',
    [KEYS.vmReady]: summary.vmReady.join(','),
    [KEYS.viable]: summary.viable.map((v) => `${v.kind}/${v.vendorId}:${v.deviceId}=${v.groups}`).join(','),
    [KEYS.publishedAt]: publishedAt.toISOString(),
    [KEYS.version]: version,
  };
}

/** The member's published summary, or null when it published none (or something unreadable). */
export function readPublished(config: Record<string, string>): Published | null {
  const verdict = config[KEYS.verdict];
  const publishedAt = config[KEYS.publishedAt];
  if (!verdict || !(VERDICTS as readonly string[]).includes(verdict) || !publishedAt || Number.isNaN(Date.parse(publishedAt))) return null;
  const viable: ViableCount[] = [];
  for (const item of list(config[KEYS.viable])) {
    const m = /^([a-z]+)\/([0-9a-f]{4}):([0-9a-f]{4})=(\d+)$/.exec(item);
    if (m && (DEVICE_KINDS as readonly string[]).includes(m[1]!))
      viable.push({ kind: m[1] as ViableCount['kind'], vendorId: m[2]!, deviceId: m[3]!, groups: Number(m[4]) });
  }
  return {
    verdict: verdict as Published['verdict'],
    failing: list(config[KEYS.failing]),
    iommu: config[KEYS.iommu] === 'on',
    vmReady: list(config[KEYS.vmReady]),
    viable,
    publishedAt,
    version: config[KEYS.version] ?? '',
  };
}

/** How old a publication is, in whole seconds (null: nothing published), and whether it is older than allowed (stale: not trusted). */
export function publishedAge(published: Published | null, now: Date, staleAfterSeconds: number): { ageSeconds: number | null; stale: boolean } {
  const ageSeconds = published ? Math.max(0, Math.round((now.getTime() - Date.parse(published.publishedAt)) / 1000)) : null;
  return { ageSeconds, stale: ageSeconds !== null && ageSeconds > staleAfterSeconds };
}

/** The config with every user.passthru.* key replaced by `published`; other keys untouched. */
export function withPublished(config: Record<string, string>, published: Record<string, string>): Record<string, string> {
  const kept = Object.fromEntries(Object.entries(config).filter(([k]) => !k.startsWith(PUBLISHED_PREFIX)));
  return { ...kept, ...published };
}
