import { deviceClassOf } from '@passthru/pci-discovery';
import { ExportersError } from './ExportersError';
import { primaryOf, type HostReport } from './HostReport';

/** Where nfd-worker's `local` source reads feature files; `passthru export nfd` writes DIR/passthru. */
export const NFD_FEATURES_DIR = '/etc/kubernetes/node-feature-discovery/features.d';
export const NFD_FILE_NAME = 'passthru';
/** nfd-worker ignores a feature file larger than this (its documented limit). */
export const NFD_MAX_BYTES = 64 * 1024;
/** The label namespace; nfd-master publishes it when started with `-extra-label-ns=passthru.io`. */
export const NFD_PREFIX = 'passthru.io';
/** How long the labels stand without a newer export (the DaemonSet rewrites the file every minute). */
export const NFD_DEFAULT_TTL_SECONDS = 600;

export interface NfdOptions {
  /** Seconds after the scan when nfd-worker must drop the labels (`# +expiry-time=`). */
  ttlSeconds?: number;
}

/** RFC 3339 in UTC without fractional seconds: what `# +expiry-time=` takes. */
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Groups of each key, counted once per group. */
function count(keys: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return new Map([...m].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The labels, in file order: name (without the prefix) and value. Every name is a valid
 * Kubernetes label name (63 characters at most, [A-Za-z0-9._-]); every value too.
 * A group counts under the class and vendor-device of its primary function (its first
 * endpoint: a GPU's group counts as one gpu, not also as the audio and USB functions beside it).
 */
export function nfdLabels(report: HostReport): Array<[string, string]> {
  const byAddress = new Map(report.devices.map((d) => [d.address, d]));
  const primaries = (wanted: (g: HostReport['groups'][number]) => boolean) =>
    report.groups
      .filter(wanted)
      .map((g) => primaryOf(g, byAddress))
      .filter((d) => d !== undefined);
  const ready = primaries((g) => g.vmReady);
  const labels: Array<[string, string]> = [
    ['iommu.enabled', String(report.facts.iommuEnabled)],
    ['irq.remapping', String(report.facts.interruptRemapping)],
    ['acs.override', String(report.facts.acsOverride)],
    ['vfio.ready', String(report.facts.vfioReady)],
    ['ready', String(report.verdict === 'ready' || report.verdict === 'ready-with-warnings')],
    ['verdict', report.verdict],
    ['vm-ready-groups', String(ready.length)],
    ['bindable-groups', String(primaries((g) => g.status === 'bindable').length)],
  ];
  for (const [cls, n] of count(ready.map((d) => deviceClassOf(d.class)))) labels.push([`vm-ready-groups.${cls}`, String(n)]);
  for (const [ids, n] of count(ready.map((d) => `${d.vendorId}-${d.deviceId}`))) labels.push([`vm-ready-groups.${ids}`, String(n)]);
  return labels;
}

/**
 * NFD's feature file (nfd-worker `local` source): comment lines, the `# +expiry-time=` directive
 * (RFC 3339), then one `passthru.io/<name>=<value>` a line. Throws past NFD's 64 kB limit
 * (nfd-worker would ignore the whole file).
 */
export function renderNfdFeatures(report: HostReport, options: NfdOptions = {}): string {
  const ttl = options.ttlSeconds ?? NFD_DEFAULT_TTL_SECONDS;
  const expiry = new Date(Date.parse(report.scannedAt) + ttl * 1000);
  let text = `# passthru: PCI passthrough readiness of this node (passthru export nfd), scanned ${report.scannedAt}\n`;
  text += `# +expiry-time=${rfc3339(expiry)}\n`;
  for (const [name, value] of nfdLabels(report)) text += `${NFD_PREFIX}/${name}=${value}\n`;
  const bytes = Buffer.byteLength(text);
  if (bytes > NFD_MAX_BYTES)
    throw new ExportersError(
      `Failed rendering NFD feature file via ${NFD_FILE_NAME}: ${bytes} bytes, over NFD's limit of ${NFD_MAX_BYTES} (nfd-worker would ignore it)`,
    );
  return text;
}
