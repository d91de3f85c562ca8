// Driver id tables and the match rule of the PCI bus (drivers/pci/pci-driver.c): static tables
// fixed at first load, dynamic ids added through new_id, and driver_override over both.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import type { HostSpec } from '../HostSpec';
import { virtualFunctionSpecs } from '../materialize';
import { SIM_KERNEL_STATE_FILE, readSidecar, writeSidecar } from './sidecar';
import { hex4 } from './sysfsParse';
import type { PciIdentity, SysfsTree, TreeDevice } from './SysfsTree';

/** PCI_ANY_ID: the wildcard of struct pci_device_id. */
export const ANY = 0xffffffff;
/** Drivers with no static id table of their own: they bind only by driver_override or new_id. */
const ID_LESS_DRIVERS = new Set(['vfio-pci', 'pci-stub']);

/** struct pci_device_id: numbers, PCI_ANY_ID (0xffffffff) as the wildcard. */
const DynamicIdSchema = z.object({
  vendor: z.number().int(),
  device: z.number().int(),
  subvendor: z.number().int(),
  subdevice: z.number().int(),
  class: z.number().int(),
  classMask: z.number().int(),
  driverData: z.number().int(),
});
export type DynamicId = z.infer<typeof DynamicIdSchema>;
const KernelStateSchema = z.object({
  version: z.literal(1),
  /** Static id tables (`vvvv:dddd`, `vvvv:*`) per driver, fixed at first load. */
  idTables: z.record(z.string(), z.array(z.string())),
  /** Ids added through new_id, per driver. */
  dynamicIds: z.record(z.string(), z.array(DynamicIdSchema)).default({}),
});
type KernelState = z.infer<typeof KernelStateSchema>;

/**
 * The id tables of every driver on one tree, as of the last `reload` (state.json is shared by
 * every process on the tree, so a writer reloads before each write).
 */
export class IdTables {
  private state: KernelState;

  constructor(
    private readonly tree: SysfsTree,
    private readonly spec: HostSpec | undefined,
  ) {
    this.state = this.load();
  }

  reload(): void {
    this.state = this.load();
  }

  /** The id tables are fixed from the tree as it was before its first write: the first write saves them. */
  fixBeforeFirstWrite(): void {
    if (fs.existsSync(path.join(this.tree.root, SIM_KERNEL_STATE_FILE))) return;
    try {
      this.save();
    } catch {
      // A read-only tree keeps its state in memory.
    }
  }

  /** The static id table of a driver (`vvvv:dddd`, `vvvv:*`). */
  idTable(driver: string): string[] {
    return [...(this.state.idTables[driver] ?? [])];
  }

  dynamicIds(driver: string): DynamicId[] {
    return (this.state.dynamicIds[driver] ?? []).map((id) => ({ ...id }));
  }

  /** pci_bus_match (pci_match_device): driver_override decides alone; else dynamic ids, then the static table. */
  matches(driver: string, device: Pick<TreeDevice, 'override'> & PciIdentity): boolean {
    if (device.override !== undefined) return device.override === driver;
    if ((this.state.dynamicIds[driver] ?? []).some((id) => matchOne(id, device))) return true;
    return (this.state.idTables[driver] ?? []).some((entry) => matchOne(parseTableEntry(entry), device));
  }

  /** pci_add_dynid: appends, saved at once. */
  addDynamicId(driver: string, id: DynamicId): void {
    const dynamicIds = { ...this.state.dynamicIds, [driver]: [...(this.state.dynamicIds[driver] ?? []), id] };
    this.state = { ...this.state, dynamicIds };
    this.save();
  }

  /**
   * remove_id_store: removes the first dynamic id with this vendor and device whose subvendor,
   * subdevice (PCI_ANY_ID in `pattern` matches any) and class under the mask agree; false when none.
   */
  removeDynamicId(driver: string, pattern: Omit<DynamicId, 'driverData'>): boolean {
    const { vendor, device, subvendor, subdevice, class: cls, classMask } = pattern;
    const ids = this.state.dynamicIds[driver] ?? [];
    const index = ids.findIndex(
      (id) =>
        id.vendor === vendor &&
        id.device === device &&
        (subvendor === ANY || id.subvendor === subvendor) &&
        (subdevice === ANY || id.subdevice === subdevice) &&
        ((id.class ^ cls) & classMask) === 0,
    );
    if (index < 0) return false;
    this.state = { ...this.state, dynamicIds: { ...this.state.dynamicIds, [driver]: ids.filter((_, i) => i !== index) } };
    this.save();
    return true;
  }

  /** state.json; until the first write the static id tables are derived afresh (spec tables, then what is bound). */
  private load(): KernelState {
    const saved = readSidecar(this.tree.root, SIM_KERNEL_STATE_FILE, KernelStateSchema, 'reading kernel state');
    if (saved) return saved;
    // Not saved here: reading a tree must not change it. The first write saves it (fixBeforeFirstWrite).
    return { version: 1, idTables: this.initialIdTables(), dynamicIds: {} };
  }

  private save(): void {
    writeSidecar(this.tree.root, SIM_KERNEL_STATE_FILE, `${JSON.stringify(this.state, null, 1)}\n`);
  }

  /**
   * Static id tables: a spec's `drivers[].ids`; for drivers the spec does not list, the
   * vendor:device of every device (and every possible VF) the spec binds to them, and of every
   * device bound to them in the tree now (a captured tree). vfio-pci and pci-stub get none:
   * they bind only by driver_override or new_id.
   */
  private initialIdTables(): Record<string, string[]> {
    const tables = new Map<string, Set<string>>();
    const listed = new Set(this.spec?.drivers.map((d) => d.name) ?? []);
    for (const d of this.spec?.drivers ?? []) tables.set(d.name, new Set(d.ids));
    const add = (driver: string | undefined, vendor: string, device: string) => {
      if (!driver || listed.has(driver) || ID_LESS_DRIVERS.has(driver) || !/^[0-9a-f]{4}$/.test(vendor) || !/^[0-9a-f]{4}$/.test(device)) return;
      if (!tables.has(driver)) tables.set(driver, new Set());
      tables.get(driver)!.add(`${vendor}:${device}`);
    };
    for (const d of this.spec?.devices ?? []) {
      add(d.driver, d.vendor, d.device);
      for (const vf of virtualFunctionSpecs(d, d.sriov?.totalVfs ?? 0)) add(vf.driver, vf.vendor, vf.device);
    }
    // A captured tree carries the real tables: modules.alias's pci: patterns of each driver's module.
    const fromAliases = this.aliasTables(listed);
    for (const [driver, patterns] of fromAliases) tables.set(driver, new Set(patterns));
    for (const address of this.tree.deviceAddresses()) {
      const device = this.tree.device(address);
      if (device?.driver && !fromAliases.has(device.driver)) add(device.driver, hex4(device.vendor), hex4(device.device));
    }
    return Object.fromEntries([...tables].map(([name, ids]) => [name, [...ids]]));
  }

  /**
   * The `alias pci:...` patterns of /lib/modules/<release>/modules.alias per registered driver
   * (its module from the driver folder's `module` link, else its own name), for the drivers a
   * spec does not list. What the kernel matches a device against is exactly these tables.
   */
  private aliasTables(listed: ReadonlySet<string>): Map<string, string[]> {
    const release = this.tree.readFile('/proc/sys/kernel/osrelease')?.trim();
    const text = release ? this.tree.readFile(`/lib/modules/${release}/modules.alias`) : undefined;
    const result = new Map<string, string[]>();
    if (!text) return result;
    const byModule = new Map<string, string[]>();
    for (const line of text.split('\n')) {
      const [word, pattern, module] = line.trim().split(/\s+/);
      if (word !== 'alias' || !pattern?.startsWith('pci:') || !module || parseModalias(pattern) === undefined) continue;
      const key = module.replace(/-/g, '_');
      byModule.set(key, [...(byModule.get(key) ?? []), pattern]);
    }
    for (const driver of this.tree.list('/sys/bus/pci/drivers')) {
      if (listed.has(driver) || ID_LESS_DRIVERS.has(driver)) continue;
      const module = (this.tree.linkName(`/sys/bus/pci/drivers/${driver}/module`) ?? driver).replace(/-/g, '_');
      const patterns = byModule.get(module);
      if (patterns) result.set(driver, patterns);
    }
    return result;
  }
}

/**
 * A modalias pattern of modules.alias (`pci:v00008086d0000100Esv*sd*bc*sc*i*`, what
 * file2alias makes of a driver's pci_device_id) as a pci_device_id; undefined for a pattern
 * with a partial wildcard inside a field, which no pci_device_id makes.
 */
export function parseModalias(pattern: string): DynamicId | undefined {
  const m = /^pci:v([0-9A-F]{8}|\*)d([0-9A-F]{8}|\*)sv([0-9A-F]{8}|\*)sd([0-9A-F]{8}|\*)bc([0-9A-F]{2}|\*)sc([0-9A-F]{2}|\*)i([0-9A-F]{2}|\*)\*?$/i.exec(
    pattern,
  );
  if (!m) return undefined;
  const id = (v: string) => (v === '*' ? ANY : parseInt(v, 16));
  let cls = 0;
  let classMask = 0;
  for (const [i, v] of [m[5]!, m[6]!, m[7]!].entries()) {
    if (v === '*') continue;
    const shift = 16 - 8 * i;
    cls |= parseInt(v, 16) << shift;
    classMask |= 0xff << shift;
  }
  return { vendor: id(m[1]!), device: id(m[2]!), subvendor: id(m[3]!), subdevice: id(m[4]!), class: cls, classMask, driverData: 0 };
}

/** A static id table entry `vvvv:dddd`, `vvvv:*` or a modalias pattern (`pci:v...`) as a pci_device_id. */
function parseTableEntry(entry: string): DynamicId {
  if (entry.startsWith('pci:')) return parseModalias(entry) ?? { vendor: -1, device: -1, subvendor: -1, subdevice: -1, class: 0, classMask: 0, driverData: 0 };
  const [vendor, device] = entry.split(':') as [string, string];
  return {
    vendor: parseInt(vendor, 16),
    device: device === '*' ? ANY : parseInt(device, 16),
    subvendor: ANY,
    subdevice: ANY,
    class: 0,
    classMask: 0,
    driverData: 0,
  };
}

/** pci_match_one_device. */
function matchOne(id: DynamicId, dev: PciIdentity): boolean {
  return (
    (id.vendor === ANY || id.vendor === dev.vendor) &&
    (id.device === ANY || id.device === dev.device) &&
    (id.subvendor === ANY || id.subvendor === dev.subvendor) &&
    (id.subdevice === ANY || id.subdevice === dev.subdevice) &&
    ((id.class ^ dev.class) & id.classMask) === 0
  );
}
