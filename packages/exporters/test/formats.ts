/**
 * Parsers of the output formats, written from the formats' own documentation (not from the
 * renderers), so a test that uses them checks the renderers against the format.
 */

/**
 * NFD feature file (node-feature-discovery, docs/usage/customization-guide.md, "Local feature
 * source"): one `<key>[=<value>]` a line, the value `true` when absent; lines starting with `#`
 * are comments, except the directives `# +expiry-time=<RFC 3339>` (applies to the lines after
 * it, until the next one), `# +no-label`, `# +no-feature`; a file over 64 kB is ignored whole.
 * Labels must be valid Kubernetes labels: an optional DNS-subdomain prefix and `/`, a name of
 * at most 63 characters `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`, a value of at most 63 such
 * characters (or empty).
 */
export interface NfdLabel {
  key: string;
  value: string;
  expiry?: Date;
}
const K8S_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export function parseNfdFeatureFile(text: string, now: Date): { labels: Map<string, string>; all: NfdLabel[] } {
  if (Buffer.byteLength(text) > 64 * 1024) throw new Error('over 64 kB: nfd-worker ignores the file');
  const all: NfdLabel[] = [];
  let expiry: Date | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s*\+expiry-time=(.*)$/.exec(line);
      if (m) {
        if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(m[1]!)) throw new Error(`expiry-time not RFC 3339: ${m[1]}`);
        expiry = new Date(m[1]!);
      }
      continue;
    }
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    const value = eq < 0 ? 'true' : line.slice(eq + 1);
    const slash = key.lastIndexOf('/');
    const prefix = slash < 0 ? undefined : key.slice(0, slash);
    const name = key.slice(slash + 1);
    if (prefix !== undefined && (!DNS_SUBDOMAIN.test(prefix) || prefix.length > 253)) throw new Error(`bad label prefix: ${key}`);
    if (name.length > 63 || !K8S_NAME.test(name)) throw new Error(`bad label name: ${key}`);
    if (value.length > 63 || (value !== '' && !K8S_NAME.test(value))) throw new Error(`bad label value: ${key}=${value}`);
    all.push(expiry === undefined ? { key, value } : { key, value, expiry });
  }
  const labels = new Map(all.filter((l) => l.expiry === undefined || l.expiry > now).map((l) => [l.key, l.value]));
  return { labels, all };
}

/**
 * Prometheus text exposition format 0.0.4: `# HELP name text` and `# TYPE name type` at most
 * once per family and before its samples; a family's samples together; a sample is
 * `name{label="value",...} value`, label values escaping `\`, `"` and line feed.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export function parseExposition(text: string): { samples: Sample[]; help: Map<string, string>; type: Map<string, string> } {
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  const samples: Sample[] = [];
  const done = new Set<string>();
  let current: string | undefined;
  const enter = (name: string) => {
    if (current !== name) {
      if (done.has(name)) throw new Error(`family ${name} is split`);
      if (current !== undefined) done.add(current);
      current = name;
    }
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      const map = m[1] === 'HELP' ? help : type;
      if (map.has(m[2]!)) throw new Error(`second ${m[1]} for ${m[2]}`);
      if (samples.some((s) => s.name === m![2])) throw new Error(`${m[1]} after samples of ${m[2]}`);
      enter(m[2]!);
      map.set(m[2]!, m[3]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([^ ]+)$/.exec(line);
    if (!m) throw new Error(`not a sample: ${line}`);
    enter(m[1]!);
    const labels: Record<string, string> = {};
    const body = m[3] ?? '';
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
    let pos = 0;
    while (pos < body.length) {
      re.lastIndex = pos;
      const l = re.exec(body);
      if (!l) throw new Error(`bad labels: ${body}`);
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      pos = re.lastIndex;
    }
    samples.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return { samples, help, type };
}
