// Every comparison the suite makes between a peer tool and passthru, kept so the run can
// print "e2e comparisons: N made, M agreed" (globalSetup teardown sums the files) and so a
// disagreement is reported with both sides, never swallowed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { anchorBugFor } from './anchorBugs';

export const TALLY_DIR = path.resolve(__dirname, '../../../tmp/e2e');

export interface Comparison {
  fixture: string;
  /** Which tool passthru is compared with (lspci, driverctl, dpdk-devbind, virt-host-validate, passthru --root). */
  tool: string;
  /** What is compared: an address or a check, and the field. */
  subject: string;
  field: string;
  peer: unknown;
  passthru: unknown;
  agreed: boolean;
  /** A documented peer-tool bug (tools/e2e/ANCHOR_BUGS.md) explaining the disagreement. */
  anchorBug?: string;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The leaves where two JSON values differ, as { path: value } on each side (at most `max`). */
export function jsonDiff(a: unknown, b: unknown, max = 8): { a: Record<string, unknown>; b: Record<string, unknown> } {
  const out = { a: {} as Record<string, unknown>, b: {} as Record<string, unknown> };
  let n = 0;
  const walk = (x: unknown, y: unknown, at: string) => {
    if (n >= max || same(x, y)) return;
    const bothObjects = x !== null && y !== null && typeof x === 'object' && typeof y === 'object' && Array.isArray(x) === Array.isArray(y);
    if (!bothObjects) {
      out.a[at] = x;
      out.b[at] = y;
      n++;
      return;
    }
    const keys = new Set([...Object.keys(x as object), ...Object.keys(y as object)]);
    for (const k of keys) walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], at ? `${at}.${k}` : k);
  };
  walk(a, b, '');
  return out;
}

export class Tally {
  readonly comparisons: Comparison[] = [];
  constructor(readonly name: string) {}

  /** One comparison of two whole JSON documents, keeping only the differing leaves. */
  compareJson(fixture: string, tool: string, subject: string, peer: unknown, passthru: unknown): Comparison {
    const d = jsonDiff(peer, passthru);
    return this.compare(fixture, tool, subject, 'json', d.a, d.b);
  }

  compare(fixture: string, tool: string, subject: string, field: string, peer: unknown, passthru: unknown): Comparison {
    const c: Comparison = { fixture, tool, subject, field, peer, passthru, agreed: same(peer, passthru) };
    if (!c.agreed) c.anchorBug = anchorBugFor(c);
    this.comparisons.push(c);
    return c;
  }

  /** Disagreements no anchor bug explains: each one is a passthru bug (or a harness bug). */
  unexplained(fixture?: string): Comparison[] {
    return this.comparisons.filter((c) => !c.agreed && !c.anchorBug && (fixture === undefined || c.fixture === fixture));
  }

  write(): void {
    fs.mkdirSync(TALLY_DIR, { recursive: true });
    fs.writeFileSync(path.join(TALLY_DIR, `tally-${this.name}.json`), JSON.stringify(this.comparisons, null, 1));
  }
}

export function describeDisagreements(list: Comparison[]): string {
  return list.map((c) => `${c.fixture} ${c.tool} ${c.subject} ${c.field}: peer ${JSON.stringify(c.peer)} vs passthru ${JSON.stringify(c.passthru)}`).join('\n');
}

/** Sums every tally file of this run (called by globalSetup's teardown). */
export function summarize(): { made: number; agreed: number; anchorBugs: number; lines: string[] } {
  let made = 0;
  let agreed = 0;
  let anchorBugs = 0;
  const lines: string[] = [];
  if (!fs.existsSync(TALLY_DIR)) return { made, agreed, anchorBugs, lines };
  for (const file of fs
    .readdirSync(TALLY_DIR)
    .filter((f) => f.startsWith('tally-'))
    .sort()) {
    const list = JSON.parse(fs.readFileSync(path.join(TALLY_DIR, file), 'utf8')) as Comparison[];
    made += list.length;
    agreed += list.filter((c) => c.agreed).length;
    for (const c of list.filter((x) => !x.agreed)) {
      if (c.anchorBug) anchorBugs++;
      lines.push(`  ${c.anchorBug ? `anchor bug ${c.anchorBug}` : 'UNEXPLAINED'}: ${describeDisagreements([c])}`);
    }
  }
  return { made, agreed, anchorBugs, lines };
}
