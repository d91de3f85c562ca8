/**
 * The kernel command line as the kernel itself splits it (lib/cmdline.c next_arg, kernel/params.c
 * parse_args). What the IOMMU parameters mean is judged in IommuParams.ts.
 */

export interface KernelParam {
  /** The name as written (quotes removed): `intel_iommu`, `vfio-pci.ids`. */
  key: string;
  /** Absent for a bare flag (`quiet`); '' for `key=`. Surrounding double quotes removed. */
  value?: string;
  /** The token exactly as it appears in the text, quotes included. */
  raw: string;
}

/** A token with its [start, end) offsets in the text it came from (for byte-preserving edits). */
export interface KernelParamToken extends KernelParam {
  start: number;
  end: number;
}

export interface KernelCmdline {
  params: KernelParam[];
  /** Everything after a bare `--`: the kernel hands these to init as argv, `key=value` rejoined. */
  initArgs: string[];
}

export interface KernelCmdlineTokens {
  params: KernelParamToken[];
  initArgs: KernelParamToken[];
  /** Offset of the `--` token, when there is one. */
  dashDashAt?: number;
}

/** The kernel's isspace() in lib/ctype.c: space, \t \n \v \f \r. */
function isKernelSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

function skipSpaces(s: string, i: number): number {
  while (i < s.length && isKernelSpace(s[i])) i++;
  return i;
}

/**
 * One step of lib/cmdline.c next_arg(). Quirks kept on purpose:
 * - a double quote toggles "in quote" anywhere, so `a="b c"d` is one token;
 * - only a quote right after `=` (or a leading quote of the whole token) is stripped, with the
 *   token's last character if it is a quote; inner quotes stay (`a=x"y z"` keeps them);
 * - a token starting with `=` has no value (the kernel tests `equals == 0`).
 */
function nextArg(s: string, pos: number): { token: KernelParamToken; next: number } {
  const start = pos;
  let p = pos;
  let inQuote = false;
  let quoted = false;
  if (s[p] === '"') {
    p++;
    inQuote = true;
    quoted = true;
  }
  let equals = -1;
  let i = p;
  for (; i < s.length; i++) {
    const c = s[i];
    if (isKernelSpace(c) && !inQuote) break;
    if (equals < 0 && c === '=' && i > p) equals = i;
    if (c === '"') inQuote = !inQuote;
  }
  const endsWithQuote = i > p && s[i - 1] === '"';
  const contentEnd = quoted && endsWithQuote ? i - 1 : i;
  let key: string;
  let value: string | undefined;
  if (equals < 0) {
    key = s.slice(p, Math.max(p, contentEnd));
  } else {
    key = s.slice(p, equals);
    let vs = equals + 1;
    let ve = contentEnd;
    if (s[vs] === '"') {
      vs++;
      if (endsWithQuote) ve = i - 1;
    }
    value = s.slice(vs, Math.max(vs, ve));
  }
  const token: KernelParamToken = { key, raw: s.slice(start, i), start, end: i };
  if (value !== undefined) token.value = value;
  return { token, next: skipSpaces(s, i < s.length ? i + 1 : i) };
}

/** Tokens with offsets; what parseCmdline and the byte-preserving editors share. */
export function tokenizeCmdline(text: string): KernelCmdlineTokens {
  const params: KernelParamToken[] = [];
  const initArgs: KernelParamToken[] = [];
  let dashDashAt: number | undefined;
  let i = skipSpaces(text, 0);
  while (i < text.length) {
    const { token, next } = nextArg(text, i);
    i = next;
    if (dashDashAt === undefined && token.value === undefined && token.key === '--') {
      // parse_args() stops at a bare `--`; start_kernel() passes the rest to init.
      dashDashAt = token.start;
      continue;
    }
    (dashDashAt === undefined ? params : initArgs).push(token);
  }
  const result: KernelCmdlineTokens = { params, initArgs };
  if (dashDashAt !== undefined) result.dashDashAt = dashDashAt;
  return result;
}

/** Pure: /proc/cmdline (or a boot loader's cmdline string) -> kernel params and init args. */
export function parseCmdline(text: string): KernelCmdline {
  const tokens = tokenizeCmdline(text);
  const strip = ({ key, value, raw }: KernelParamToken): KernelParam => (value === undefined ? { key, raw } : { key, value, raw });
  return {
    params: tokens.params.map(strip),
    // init/main.c repair_env_string(): init gets `key=value` with the quotes gone.
    initArgs: tokens.initArgs.map((t) => (t.value === undefined ? t.key : `${t.key}=${t.value}`)),
  };
}

/** `key=value`, or `key` for a flag: the unquoted spelling of a parameter. */
export function formatParam(p: { key: string; value?: string }): string {
  return p.value === undefined ? p.key : `${p.key}=${p.value}`;
}

/**
 * The name the kernel matches on: parameq()/parameqn() treat `-` and `_` as the same character,
 * for early_param(), __setup() (obsolete_checksetup) and module parameters alike, so
 * `intel-iommu=off` and `vfio_pci.ids=` work.
 */
export function canonicalParamKey(key: string): string {
  return key.replace(/-/g, '_');
}

/** Splits a kernel option list the way the IOMMU setup handlers do (strcspn ","; empty items skipped). */
export function splitOptions(value: string | undefined): string[] {
  return (value ?? '').split(',').filter((o) => o !== '');
}

/** The items of `a` left after taking out those of `b`, each as often as it occurs (parameter lists repeat keys). */
export function multisetMinus(a: readonly string[], b: readonly string[]): string[] {
  // Counts, not indexOf + splice: linear in the length of both (a 1 MB command line has 80,000 parameters).
  const left = new Map<string, number>();
  for (const x of b) left.set(x, (left.get(x) ?? 0) + 1);
  return a.filter((x) => {
    const n = left.get(x) ?? 0;
    if (n === 0) return true;
    left.set(x, n - 1);
    return false;
  });
}
