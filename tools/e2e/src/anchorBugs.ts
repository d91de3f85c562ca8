// Disagreements where the peer tool, not passthru, is wrong: each entry names its section
// of tools/e2e/ANCHOR_BUGS.md (where the evidence is) and matches exactly the comparisons it
// explains. Anything else that disagrees fails the suite.
import type { Comparison } from './tally';

interface AnchorBug {
  id: string;
  matches(c: Comparison): boolean;
}

export const ANCHOR_BUGS: AnchorBug[] = [];

export function anchorBugFor(c: Comparison): string | undefined {
  return ANCHOR_BUGS.find((b) => b.matches(c))?.id;
}
