import type { HostSpec } from '../HostSpec';
import type { IdTables } from './IdTables';
import type { SysfsTree } from './SysfsTree';

/** What one write sees of the kernel: the tree, the spec, the id tables, and what its faults ask for. */
export interface WriteContext {
  readonly tree: SysfsTree;
  /** The spec the tree was materialized from; undefined for a captured tree. */
  readonly spec: HostSpec | undefined;
  readonly ids: IdTables;
  /** A `noBind` fault fired: every probe during this write fails quietly. */
  readonly noBind: boolean;
}
