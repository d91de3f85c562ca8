import * as fs from 'node:fs';
import * as path from 'node:path';
import { errnoError, errnoOf, sleepSync, type SimulatedKernelWriter } from '@passthru/hostfs';
import { z } from 'zod';
import { EXT_CAP_OFFSET, EXT_CAP_SRIOV, isBridgeClass } from './configSpace';
import { PCI_ADDRESS_RE, PciAddressSchema, parseHostSpec, type DeviceSpec, type HostSpec } from './HostSpec';
import { SIM_SPEC_FILE, SIM_STATE_DIR, bindInTree, linkTree, materializeDevice, virtualFunctionSpecs, writeTreeFile } from './materialize';
import { SysfsSimError } from './SysfsSimError';

/** What the simulated kernel remembers that sysfs does not show: id tables and dynamic ids. */
export const SIM_KERNEL_STATE_FILE = `${SIM_STATE_DIR}/state.json`;
/** Injected faults, shared by every SimulatedKernel (and so every CLI process) on the tree. */
export const SIM_FAULTS_FILE = `${SIM_STATE_DIR}/faults.json`;
/** One JSON line per write, appended by every SimulatedKernel on the tree. */
export const SIM_WRITE_LOG_FILE = `${SIM_STATE_DIR}/writes.jsonl`;
/** What a `remove` write took out of the tree, kept so that a `rescan` can bring it back. */
export const SIM_REMOVED_FILE = `${SIM_STATE_DIR}/removed.json`;

/** kernfs refuses writes larger than a page to sysfs attributes (atomic_write_len) with E2BIG. */
export const PAGE_SIZE = 4096;
/** PCI_ANY_ID: the wildcard of struct pci_device_id. */
const ANY = 0xffffffff;
/** Drivers with no static id table of their own: they bind only by driver_override or new_id. */
const ID_LESS_DRIVERS = new Set(['vfio-pci', 'pci-stub']);

/** One write as the simulated kernel saw it (serialport binding-mock / nx Tree listChanges). */
export interface KernelWrite {
  /** The host path as the caller spelled it. */
  path: string;
  data: string;
  /** 'ok', or the errno the write(2) failed with. */
  result: 'ok' | string;
  /** Milliseconds since the epoch, from the injected clock. */
  at: number;
}

/**
 * A scripted misbehaviour of the kernel. `path` is a glob (`*` within a path component, `**`
 * across them) or a RegExp, matched against the path as written and against its canonical
 * /sys/devices spelling. Occurrences count the writes matching `path` (and `data`, compared
 * without the trailing newline). Without `nth` the fault fires on every match (only the first
 * with `once`); with `nth` only on that occurrence. Effects apply in this order: `hang`,
 * `vanish`, `fail`; `noBind` lets the write succeed while every probe it causes binds nothing.
 */
export interface FaultSpec {
  path: string | RegExp;
  data?: string;
  /** 1-based occurrence among matching writes. */
  nth?: number;
  once?: boolean;
  /** errno to fail the write with, nothing applied (`EBUSY`, `EIO`, ...). */
  fail?: string;
  /** Block the writer this many milliseconds (bounded by `maxHangMs`), then go on. */
  hang?: number;
  /** Hot-unplug this device before the write is applied. */
  vanish?: string;
  /** Probes during this write fail quietly (the driver's probe() refused): nothing binds. */
  noBind?: boolean;
}

/** A fault as stored in faults.json, with its id and how often it matched and fired. */
export interface InjectedFault extends Omit<FaultSpec, 'path'> {
  id: number;
  path: string | { regexp: string; flags: string };
  seen: number;
  fired: number;
}

export interface SimulatedKernelOptions {
  /** Clock for `KernelWrite.at`. */
  now?: () => number;
  /** Synchronous sleep used by `hang` faults (default: Atomics.wait, which blocks the thread). */
  sleep?: (ms: number) => void;
  /** Upper bound of a `hang` fault, so a scenario cannot wedge a test run. */
  maxHangMs?: number;
  /** Append every write to `.sysfs-sim/writes.jsonl` (default true). */
  logWrites?: boolean;
}

const FaultPathSchema = z.union([z.string().min(1), z.object({ regexp: z.string().min(1), flags: z.string().regex(/^[imsu]*$/).default('') })]);
const FaultFieldsSchema = z.object({
  data: z.string().optional(),
  nth: z.number().int().min(1).optional(),
  once: z.boolean().optional(),
  fail: z.string().regex(/^E[A-Z0-9]+$/, 'fail: an errno name like EBUSY').optional(),
  hang: z.number().min(0).optional(),
  vanish: PciAddressSchema.optional(),
  noBind: z.boolean().optional(),
});
const InjectedFaultSchema = FaultFieldsSchema.extend({
  id: z.number().int(),
  path: FaultPathSchema,
  seen: z.number().int().min(0).default(0),
  fired: z.number().int().min(0).default(0),
});
const FaultFileSchema = z.object({ version: z.literal(1), nextId: z.number().int().default(1), faults: z.array(InjectedFaultSchema) });
type FaultFile = z.infer<typeof FaultFileSchema>;

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

/** One tree entry as it was just before `remove` took it out (file data base64: config is binary). */
const RemovedEntrySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('dir'), path: z.string(), mode: z.number().int() }),
  z.object({ kind: z.literal('file'), path: z.string(), mode: z.number().int(), data: z.string() }),
  z.object({ kind: z.literal('link'), path: z.string(), target: z.string() }),
]);
type RemovedEntry = z.infer<typeof RemovedEntrySchema>;
/** A removed device: its folder and every entry its removal took (folder, bus, group, class and IOMMU links). */
const RemovedDeviceSchema = z.object({ address: z.string(), folder: z.string(), entries: z.array(RemovedEntrySchema) });
type RemovedDevice = z.infer<typeof RemovedDeviceSchema>;
const RemovedFileSchema = z.object({ version: z.literal(1), devices: z.array(RemovedDeviceSchema) });

/** What pci_match_one_device compares. */
interface PciIdentity {
  vendor: number;
  device: number;
  subvendor: number;
  subdevice: number;
  class: number;
}

/** A device as found in the tree. */
interface TreeDevice extends PciIdentity {
  address: string;
  /** Host path of its folder under /sys/devices. */
  folder: string;
  driver: string | undefined;
  override: string | undefined;
}

/** Per-write context: what the faults of this write ask for. */
interface WriteContext {
  noBind: boolean;
}

type Target =
  | { kind: 'bus'; attr: string; file: string }
  | { kind: 'driver'; driver: string; attr: string; file: string }
  | { kind: 'device'; address: string; folder: string; attr: string; file: string }
  | { kind: 'other'; file: string };

/**
 * Gives sysfs writes their kernel meaning on a tree that is not a real sysfs (the write rule of
 * HostFs). One instance per tree root, no module state; everything another process must see
 * (dynamic ids, id tables, faults, the write log) lives in files under `.sysfs-sim/`, re-read
 * on every write, so a test and the CLI processes it starts on the same tree agree.
 *
 * Modelled on drivers/pci/pci-driver.c (new_id, remove_id, pci_bus_match, driver_override),
 * drivers/base/bus.c (bind, unbind, drivers_probe), pci-sysfs.c (remove, reset, rescan,
 * sriov_*), iov.c and vfio-pci; libvirt's tests/virpcimock.c is the prior art.
 * The host spec (`.sysfs-sim/host.json`) is used only for driver id tables and SR-IOV
 * templates: every other rule reads the tree, so a captured tree without a spec works too.
 */
export class SimulatedKernel implements SimulatedKernelWriter {
  readonly root: string;
  /** The spec the tree was materialized from; undefined for a captured tree. */
  readonly spec: HostSpec | undefined;
  /** Every write made through this instance, in order. */
  readonly writes: KernelWrite[] = [];
  private readonly now: () => number;
  private readonly sleep: (ms: number) => void;
  private readonly maxHangMs: number;
  private readonly logWrites: boolean;
  private state: KernelState;
  /** Set during a `remove` write: the devices removeDevice takes out, for a later rescan. */
  private removing: RemovedDevice[] | undefined;

  constructor(root: string, options: SimulatedKernelOptions = {}) {
    let real: string;
    try {
      real = fs.realpathSync.native(path.resolve(root));
    } catch (error) {
      throw new SysfsSimError('opening tree', root, undefined, (error as Error).message, { cause: error, code: errnoOf(error) });
    }
    if (!fs.statSync(real).isDirectory()) throw new SysfsSimError('opening tree', root, undefined, 'not a folder', { code: 'ENOTDIR' });
    this.root = real;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? sleepSync;
    this.maxHangMs = options.maxHangMs ?? 60_000;
    this.logWrites = options.logWrites ?? true;
    const specFile = path.join(real, SIM_SPEC_FILE);
    if (fs.existsSync(specFile)) {
      let value: unknown;
      try {
        value = JSON.parse(fs.readFileSync(specFile, 'utf8'));
      } catch (error) {
        throw new SysfsSimError('reading host spec', specFile, undefined, (error as Error).message, { cause: error });
      }
      this.spec = parseHostSpec(value, specFile);
    }
    this.state = this.loadState();
  }

  /** The kernel of a tree made by `materialize`; undefined when the tree has no host spec. */
  static forTree(root: string, options: SimulatedKernelOptions = {}): SimulatedKernel | undefined {
    return fs.existsSync(path.join(root, SIM_SPEC_FILE)) ? new SimulatedKernel(root, options) : undefined;
  }

  /** The writes every SimulatedKernel on `root` logged to `.sysfs-sim/writes.jsonl`. */
  static writeLog(root: string): KernelWrite[] {
    let text: string;
    try {
      text = fs.readFileSync(path.join(root, SIM_WRITE_LOG_FILE), 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as KernelWrite);
  }

  // ---------------------------------------------------------------- scenario API

  /** Adds a fault (persisted in faults.json, so other processes on the tree obey it); returns its id. */
  injectFault(fault: FaultSpec): number {
    const { path: where, ...fields } = fault;
    const parsedFields = FaultFieldsSchema.safeParse(fields);
    if (!parsedFields.success) throw new SysfsSimError('injecting fault', JSON.stringify(fault), undefined, parsedFields.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const storedPath = where instanceof RegExp ? { regexp: where.source, flags: where.flags.replace(/[gy]/g, '') } : where;
    if (typeof storedPath === 'string' && storedPath.length === 0) throw new SysfsSimError('injecting fault', '(empty path)', undefined, 'path must not be empty');
    const file = this.loadFaults();
    const id = file.nextId;
    file.faults.push({ ...parsedFields.data, id, path: storedPath, seen: 0, fired: 0 });
    file.nextId = id + 1;
    this.saveFaults(file);
    return id;
  }

  /** The faults in force on this tree, with their counters. */
  get faults(): InjectedFault[] {
    return this.loadFaults().faults.map((f) => ({ ...f }));
  }

  removeFault(id: number): void {
    const file = this.loadFaults();
    file.faults = file.faults.filter((f) => f.id !== id);
    this.saveFaults(file);
  }

  clearFaults(): void {
    fs.rmSync(path.join(this.root, SIM_FAULTS_FILE), { force: true });
  }

  /** The static id table of a driver (`vvvv:dddd`, `vvvv:*`). */
  idTable(driver: string): string[] {
    return [...(this.state.idTables[driver] ?? [])];
  }

  /** The ids added to a driver through new_id (by this or any other process). */
  dynamicIds(driver: string): DynamicId[] {
    this.state = this.loadState();
    return (this.state.dynamicIds[driver] ?? []).map((id) => ({ ...id }));
  }

  // ---------------------------------------------------------------- the write

  /** Applies one write(2) of `data` to `hostPath`; throws an error with an errno `code` as the kernel would. */
  write(hostPath: string, data: string): void {
    const record: KernelWrite = { path: hostPath, data, result: 'ok', at: this.now() };
    try {
      this.state = this.loadState();
      // The id tables are fixed from the tree as it was before its first write.
      if (!fs.existsSync(path.join(this.root, SIM_KERNEL_STATE_FILE))) {
        try {
          this.saveState();
        } catch {
          // A read-only tree keeps its state in memory.
        }
      }
      const ctx = this.runFaults(hostPath, data);
      this.apply(hostPath, data, ctx);
    } catch (error) {
      record.result = errnoOf(error);
      throw error;
    } finally {
      this.writes.push(record);
      if (this.logWrites) {
        try {
          fs.mkdirSync(path.join(this.root, SIM_STATE_DIR), { recursive: true });
          fs.appendFileSync(path.join(this.root, SIM_WRITE_LOG_FILE), `${JSON.stringify(record)}\n`);
        } catch {
          // The log is a convenience; a read-only tree still gets its write applied.
        }
      }
    }
  }

  private apply(hostPath: string, data: string, ctx: WriteContext): void {
    const target = this.classify(hostPath);
    // kernfs: a sysfs attribute takes at most one page per write, and a zero-length write
    // never reaches the store method (sysfs_kf_write returns 0): `echo -n '' >` changes nothing.
    if (Buffer.byteLength(data) > PAGE_SIZE) throw errnoError('E2BIG', `${hostPath}: a sysfs write takes at most ${PAGE_SIZE} bytes`);
    if (data.length === 0) return;
    switch (target.kind) {
      case 'bus':
        return this.writeBus(target.attr, data, target.file, ctx);
      case 'driver':
        return this.writeDriver(target.driver, target.attr, data, ctx);
      case 'device':
        return this.writeDevice(target.address, target.folder, target.attr, data, target.file, ctx);
      case 'other':
        return this.storeAttribute(target.file, data);
    }
  }

  /**
   * Which attribute a host path names, with the kernel's open(2) errors: ENODEV for a device
   * that went away, ENOENT for a missing folder (a driver whose module is not loaded), EACCES
   * for a file sysfs does not have or a read-only attribute, EISDIR for a folder.
   */
  private classify(hostPath: string): Target {
    if (typeof hostPath !== 'string' || !hostPath.startsWith('/')) throw errnoError('EINVAL', `${String(hostPath)}: a host path must be absolute`);
    const parts = hostPath.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) throw errnoError('EACCES', `${hostPath}: '..' is refused`);
    const clean = `/${parts.join('/')}`;
    if (parts[0] !== 'sys' || parts.length < 2) throw errnoError('EACCES', `${clean}: not a sysfs attribute`);
    const viaBus = /^\/sys\/bus\/pci\/devices\/([^/]+)\//.exec(clean);
    if (viaBus && !this.deviceFolder(viaBus[1]!)) throw errnoError('ENODEV', `${clean}: no device ${viaBus[1]}`);
    let parentReal: string;
    try {
      parentReal = fs.realpathSync.native(path.join(this.root, path.posix.dirname(clean)));
    } catch (error) {
      if (parts.slice(0, -1).some((p) => PCI_ADDRESS_RE.test(p))) throw errnoError('ENODEV', `${clean}: the device is gone`);
      throw errnoError(errnoOf(error) === 'ENOTDIR' ? 'ENOTDIR' : 'ENOENT', `${clean}: no such folder`);
    }
    if (parentReal !== this.root && !parentReal.startsWith(`${this.root}/`)) throw errnoError('EACCES', `${clean}: leads outside the tree`);
    const parent = parentReal === this.root ? '' : parentReal.slice(this.root.length);
    const attr = path.posix.basename(clean);
    const file = `${parent}/${attr}`;
    const stat = statOrUndefined(path.join(this.root, file));
    if (!stat) throw errnoError('EACCES', `${clean}: sysfs has no such attribute (files cannot be created)`);
    if (stat.isDirectory()) throw errnoError('EISDIR', `${clean}: is a folder`);
    if ((stat.mode & 0o200) === 0) throw errnoError('EACCES', `${clean}: read-only attribute`);
    if (parent === '/sys/bus/pci') return { kind: 'bus', attr, file };
    const driver = /^\/sys\/bus\/pci\/drivers\/([^/]+)$/.exec(parent);
    if (driver) return { kind: 'driver', driver: driver[1]!, attr, file };
    const address = path.posix.basename(parent);
    if (PCI_ADDRESS_RE.test(address) && this.deviceFolder(address) === parent) return { kind: 'device', address, folder: parent, attr, file };
    return { kind: 'other', file };
  }

  /** The path as written and its canonical spelling, for fault matching. */
  private spellings(hostPath: string): string[] {
    const clean = `/${hostPath.split('/').filter((p) => p !== '' && p !== '.').join('/')}`;
    try {
      const parentReal = fs.realpathSync.native(path.join(this.root, path.posix.dirname(clean)));
      if (parentReal.startsWith(`${this.root}/`)) {
        const attr = path.posix.basename(clean);
        const owner = path.posix.basename(parentReal);
        const viaBus = PCI_ADDRESS_RE.test(owner) ? [`/sys/bus/pci/devices/${owner}/${attr}`] : [];
        return [hostPath, clean, `${parentReal.slice(this.root.length)}/${attr}`, ...viaBus];
      }
    } catch {
      // A path that does not resolve matches as written only.
    }
    return [hostPath, clean];
  }

  private runFaults(hostPath: string, data: string): WriteContext {
    const ctx: WriteContext = { noBind: false };
    const file = this.loadFaults();
    if (file.faults.length === 0) return ctx;
    const spellings = this.spellings(hostPath);
    const value = data.replace(/\n$/, '');
    const firing: FaultFile['faults'] = [];
    for (const fault of file.faults) {
      const re = typeof fault.path === 'string' ? globToRegExp(fault.path) : new RegExp(fault.path.regexp, fault.path.flags);
      if (!spellings.some((s) => re.test(s))) continue;
      if (fault.data !== undefined && fault.data.replace(/\n$/, '') !== value) continue;
      fault.seen += 1;
      const fires = fault.nth !== undefined ? fault.seen === fault.nth : !(fault.once && fault.fired > 0);
      if (!fires) continue;
      fault.fired += 1;
      firing.push(fault);
    }
    this.saveFaults(file);
    const hang = Math.max(0, ...firing.map((f) => f.hang ?? 0));
    if (hang > 0) this.sleep(Math.min(hang, this.maxHangMs));
    for (const f of firing) if (f.vanish) this.removeDevice(f.vanish);
    const failing = firing.find((f) => f.fail);
    if (failing?.fail) throw errnoError(failing.fail, `${hostPath}: injected fault #${failing.id}`);
    ctx.noBind = firing.some((f) => f.noBind);
    return ctx;
  }

  // ---------------------------------------------------------------- /sys/bus/pci

  private writeBus(attr: string, data: string, file: string, ctx: WriteContext): void {
    switch (attr) {
      case 'drivers_probe': {
        // bus.c drivers_probe_store: ENODEV for no such device; a bound device is left alone;
        // probe failures are swallowed (the write succeeds with the device still unbound).
        const device = this.device(sysfsName(data));
        if (!device) throw errnoError('ENODEV', `drivers_probe: no device ${sysfsName(data)}`);
        if (!device.driver) this.attach(device, ctx);
        return;
      }
      case 'rescan':
        // pci-sysfs.c rescan_store: kstrtoul, then a rescan of every root bus when non-zero.
        if (kstrtoul(data, 'rescan') !== 0) this.rescan(undefined, ctx);
        return;
      case 'drivers_autoprobe':
        // bus.c: anything starting with '0' turns autoprobe off, anything else on.
        this.writeFile(file, data.startsWith('0') ? '0\n' : '1\n');
        return;
      default:
        this.storeAttribute(file, data);
    }
  }

  // ---------------------------------------------------------------- /sys/bus/pci/drivers/D

  private writeDriver(driver: string, attr: string, data: string, ctx: WriteContext): void {
    switch (attr) {
      case 'bind': {
        // bus.c bind_store: ENODEV unless the device exists and pci_bus_match says yes; then
        // EBUSY when it has a driver; since 5.13 the probe's own error reaches userspace.
        const name = sysfsName(data);
        const device = this.device(name);
        if (!device) throw errnoError('ENODEV', `bind: no device ${name}`);
        if (!this.matches(driver, device)) throw errnoError('ENODEV', `bind: ${driver} does not match ${name}${device.override ? ` (driver_override is ${device.override})` : ''}`);
        if (device.driver) throw errnoError('EBUSY', `bind: ${name} is already bound to ${device.driver}`);
        const error = this.probe(driver, device, ctx);
        if (error && error !== 'quiet') throw errnoError(error, `bind: ${driver} probe of ${name} failed`);
        return;
      }
      case 'unbind': {
        const name = sysfsName(data);
        const device = this.device(name);
        if (!device || device.driver !== driver) throw errnoError('ENODEV', `unbind: ${name} is not bound to ${driver}`);
        this.release(device);
        return;
      }
      case 'new_id':
        return this.newId(driver, data, ctx);
      case 'remove_id':
        return this.removeId(driver, data);
      case 'uevent':
        return checkUevent(data);
      default:
        throw errnoError('EACCES', `${driver}/${attr}: not writable`);
    }
  }

  /** pci-driver.c new_id_store + pci_add_dynid: EEXIST when the driver already matches, then driver_attach. */
  private newId(driver: string, data: string, ctx: WriteContext): void {
    const fields = scanHex(data, 7);
    if (fields.length < 2) throw errnoError('EINVAL', `new_id: expected "vendor device [subvendor subdevice class class_mask driver_data]", got ${JSON.stringify(data)}`);
    const [vendor, device, subvendor = ANY, subdevice = ANY, cls = 0, classMask = 0, driverData = 0] = fields as [number, number, ...number[]];
    const id: DynamicId = { vendor, device, subvendor, subdevice, class: cls, classMask, driverData };
    if (fields.length !== 7) {
      const probe: TreeDevice = { address: '', folder: '', driver: undefined, override: undefined, vendor, device, subvendor, subdevice, class: cls };
      if (this.matches(driver, probe)) throw errnoError('EEXIST', `new_id: ${hex4(vendor)}:${hex4(device)} already matches ${driver}`);
    }
    const dynamicIds = { ...this.state.dynamicIds, [driver]: [...(this.state.dynamicIds[driver] ?? []), id] };
    this.state = { ...this.state, dynamicIds };
    this.saveState();
    // driver_attach: every unbound device the driver now matches is probed; failures are ignored.
    for (const address of this.deviceAddresses()) {
      const candidate = this.device(address);
      if (candidate && !candidate.driver && this.matches(driver, candidate)) this.probe(driver, candidate, ctx);
    }
  }

  /** pci-driver.c remove_id_store: removes the first matching dynamic id; ENODEV when none; bound devices stay. */
  private removeId(driver: string, data: string): void {
    const fields = scanHex(data, 6);
    if (fields.length < 2) throw errnoError('EINVAL', `remove_id: expected "vendor device [subvendor subdevice class class_mask]", got ${JSON.stringify(data)}`);
    const [vendor, device, subvendor = ANY, subdevice = ANY, cls = 0, classMask = 0] = fields as [number, number, ...number[]];
    const ids = this.state.dynamicIds[driver] ?? [];
    const index = ids.findIndex(
      (id) =>
        id.vendor === vendor &&
        id.device === device &&
        (subvendor === ANY || id.subvendor === subvendor) &&
        (subdevice === ANY || id.subdevice === subdevice) &&
        ((id.class ^ cls) & classMask) === 0,
    );
    if (index < 0) throw errnoError('ENODEV', `remove_id: ${driver} has no dynamic id ${hex4(vendor)}:${hex4(device)}`);
    this.state = { ...this.state, dynamicIds: { ...this.state.dynamicIds, [driver]: ids.filter((_, i) => i !== index) } };
    this.saveState();
  }

  // ---------------------------------------------------------------- /sys/bus/pci/devices/X

  private writeDevice(address: string, folder: string, attr: string, data: string, file: string, ctx: WriteContext): void {
    switch (attr) {
      case 'driver_override': {
        // driver_set_override: count >= PAGE_SIZE - 1 is EINVAL; the value ends at the first
        // newline (or NUL); an empty value clears the override, shown as "(null)".
        if (Buffer.byteLength(data) >= PAGE_SIZE - 1) throw errnoError('EINVAL', `driver_override: at most ${PAGE_SIZE - 2} bytes`);
        const value = data.split('\0')[0]!.split('\n')[0]!;
        this.writeFile(file, `${value === '' ? '(null)' : value}\n`);
        return;
      }
      case 'sriov_numvfs':
        return this.setNumVfs(address, folder, data, ctx);
      case 'sriov_drivers_autoprobe':
        this.writeFile(file, kstrtobool(data, attr) ? '1\n' : '0\n');
        return;
      case 'remove':
        if (kstrtoul(data, attr) !== 0) this.removeRemembered(address);
        return;
      case 'rescan':
        // dev_rescan_store: rescans the device's bus, so what was removed below this device returns.
        if (kstrtoul(data, attr) !== 0) this.rescan(folder, ctx);
        return;
      case 'reset': {
        // reset_store: only "1"; pci_reset_function gives ENOTTY when no reset method works.
        if (kstrtoul(data, attr) !== 1) throw errnoError('EINVAL', `reset: only 1 is accepted`);
        const methods = this.readFile(`${folder}/reset_method`)?.trim();
        if (!methods) throw errnoError('ENOTTY', `reset: ${address} has no reset method`);
        return;
      }
      case 'uevent':
        return checkUevent(data);
      case 'config': {
        // A write at offset 0 of the config space: the bytes land over the old ones.
        const current = fs.readFileSync(path.join(this.root, file));
        Buffer.from(data, 'latin1').copy(current, 0, 0, current.length);
        fs.writeFileSync(path.join(this.root, file), current);
        return;
      }
      default:
        this.storeAttribute(file, data);
    }
  }

  /**
   * sriov_numvfs_store: kstrtou16 (EINVAL, ERANGE), ERANGE above sriov_totalvfs, no change when
   * equal, ENOENT without a PF driver, EBUSY from non-zero to another non-zero (pass through 0).
   */
  private setNumVfs(address: string, folder: string, data: string, ctx: WriteContext): void {
    const count = kstrtoul(data, 'sriov_numvfs', 0xffff);
    const total = Number(this.readFile(`${folder}/sriov_totalvfs`)?.trim() ?? '0');
    if (count > total) throw errnoError('ERANGE', `sriov_numvfs: ${count} exceeds sriov_totalvfs ${total}`);
    const current = Number(this.readFile(`${folder}/sriov_numvfs`)?.trim() ?? '0');
    if (count === current) return;
    if (!this.driverOf(folder)) throw errnoError('ENOENT', `sriov_numvfs: no driver bound to ${address}; cannot configure SR-IOV`);
    if (count === 0) {
      for (const link of this.virtfnLinks(folder)) {
        const vf = this.linkName(`${folder}/${link}`);
        if (vf) this.removeDevice(vf);
        fs.rmSync(path.join(this.root, folder, link), { force: true });
      }
      this.writeFile(`${folder}/sriov_numvfs`, '0\n');
      this.setSriovControl(folder, 0);
      return;
    }
    if (current !== 0) throw errnoError('EBUSY', `sriov_numvfs: ${current} VFs already enabled; disable before enabling ${count}`);
    this.enableVfs(address, folder, count, ctx);
  }

  private enableVfs(address: string, folder: string, count: number, ctx: WriteContext): void {
    const { spec, pf } = this.sriovTemplate(address, folder);
    const vfs = virtualFunctionSpecs({ ...pf, sriov: pf.sriov ? { ...pf.sriov, vfDriver: undefined } : undefined }, count);
    const parent = path.posix.dirname(folder);
    const existing = this.deviceAddresses();
    const slots = new Map<string, number>();
    for (const a of [...existing, ...vfs.map((v) => v.address)]) slots.set(a.slice(0, -2), (slots.get(a.slice(0, -2)) ?? 0) + 1);
    const taken = vfs.find((vf) => existing.includes(vf.address));
    if (taken) throw errnoError('EBUSY', `sriov_numvfs: VF address ${taken.address} is taken by another device`);
    vfs.forEach((vf, i) => {
      const vfFolder = `${parent}/${vf.address}`;
      materializeDevice(this.root, spec, vf, vfFolder, (slots.get(vf.address.slice(0, -2)) ?? 0) > 1);
      linkTree(this.root, `${folder}/virtfn${i}`, vfFolder);
      // VFs sit behind the PF's IOMMU unit.
      const unit = this.linkName(`${folder}/iommu`);
      if (unit && fs.existsSync(path.join(this.root, '/sys/devices/virtual/iommu', unit))) {
        linkTree(this.root, `/sys/devices/virtual/iommu/${unit}/devices/${vf.address}`, vfFolder);
        linkTree(this.root, `${vfFolder}/iommu`, `/sys/devices/virtual/iommu/${unit}`);
      }
    });
    this.writeFile(`${folder}/sriov_numvfs`, `${count}\n`);
    this.setSriovControl(folder, count);
    // pci_bus_add_device -> device_attach, unless bus autoprobe is off; pci_device_can_probe
    // keeps VFs unbound when the PF's sriov_drivers_autoprobe is 0.
    if (this.readFile('/sys/bus/pci/drivers_autoprobe')?.trim() === '0') return;
    for (const vf of vfs) {
      const device = this.device(vf.address);
      if (device) this.attach(device, ctx);
    }
  }

  /** The PF's SR-IOV capability follows: VF Enable + VF MSE in SR-IOV Control (cap + 0x08), NumVFs (cap + 0x10). */
  private setSriovControl(folder: string, count: number): void {
    const config = this.readConfig(folder);
    if (!config || config.length <= EXT_CAP_OFFSET) return;
    for (let offset = EXT_CAP_OFFSET, hops = 0; offset >= EXT_CAP_OFFSET && offset + 0x14 <= config.length && hops < 64; hops++) {
      const header = config.readUInt32LE(offset);
      if ((header & 0xffff) === EXT_CAP_SRIOV) {
        config.writeUInt16LE(count > 0 ? 0x0009 : 0x0000, offset + 0x08);
        config.writeUInt16LE(count, offset + 0x10);
        fs.writeFileSync(path.join(this.root, folder, 'config'), config);
        return;
      }
      offset = header >>> 20;
    }
  }

  /** The PF's spec (from host.json) or, for a captured tree, one read back from its attributes. */
  private sriovTemplate(address: string, folder: string): { spec: HostSpec; pf: DeviceSpec } {
    const listed = this.spec?.devices.find((d) => d.address === address && d.sriov);
    if (this.spec && listed) return { spec: this.spec, pf: listed };
    const attr = (name: string) => this.readFile(`${folder}/${name}`)?.trim();
    const hex = (name: string, digits: number, fallback: string) => (attr(name) ?? fallback).replace(/^0x/, '').padStart(digits, '0').slice(-digits);
    const groups = this.list('/sys/kernel/iommu_groups').map(Number).filter(Number.isInteger);
    const group = this.linkName(`${folder}/iommu_group`);
    const groupType = group ? this.readFile(`/sys/kernel/iommu_groups/${group}/type`)?.trim() : undefined;
    const cpus = /^(\d+)-(\d+)$/.exec(attr('local_cpulist') ?? '');
    const spec =
      this.spec ??
      parseHostSpec({
        name: 'captured',
        cpu: { vendor: 'other', count: cpus ? Number(cpus[2]) - Number(cpus[1]) + 1 : 1 },
        iommu: { enabled: groups.length > 0, groupType: groupType === 'identity' || groupType === 'DMA-FQ' ? groupType : 'DMA' },
        devices: [],
      });
    const pf: DeviceSpec = {
      address,
      vendor: hex('vendor', 4, 'ffff'),
      device: hex('device', 4, 'ffff'),
      class: hex('class', 6, 'ff0000'),
      revision: hex('revision', 2, '00'),
      subsystem: attr('subsystem_vendor') ? { vendor: hex('subsystem_vendor', 4, '0000'), device: hex('subsystem_device', 4, '0000') } : undefined,
      numaNode: Number(attr('numa_node') ?? '-1'),
      sriov: {
        totalVfs: Number(attr('sriov_totalvfs') ?? '0'),
        numVfs: 0,
        vfDevice: hex('sriov_vf_device', 4, 'ffff'),
        offset: Number(attr('sriov_offset') ?? '1'),
        stride: Number(attr('sriov_stride') ?? '1'),
        vfGroupBase: groups.length > 0 ? Math.max(...groups) + 1 : undefined,
      },
      net: [],
      drm: [],
      omit: [],
    };
    return { spec, pf };
  }

  // ---------------------------------------------------------------- matching, probing, binding

  /** pci_bus_match (pci_match_device): driver_override decides alone; else dynamic ids, then the static table. */
  private matches(driver: string, device: TreeDevice): boolean {
    if (device.override !== undefined) return device.override === driver;
    if ((this.state.dynamicIds[driver] ?? []).some((id) => matchOne(id, device))) return true;
    return (this.state.idTables[driver] ?? []).some((entry) => matchOne(parseTableEntry(entry), device));
  }

  /**
   * pci_device_probe + the driver's probe(): binds and returns undefined, or returns the errno
   * the probe failed with ('quiet' for a `noBind` fault). The driver must be loaded.
   */
  private probe(driver: string, device: TreeDevice, ctx: WriteContext): string | undefined {
    if (!fs.existsSync(path.join(this.root, '/sys/bus/pci/drivers', driver))) return 'ENODEV';
    // pci_device_can_probe: a VF is probed only when its PF allows it or an override is set.
    const physfn = this.linkName(`${device.folder}/physfn`);
    if (physfn && device.override === undefined) {
      const pfFolder = this.deviceFolder(physfn);
      if (pfFolder && this.readFile(`${pfFolder}/sriov_drivers_autoprobe`)?.trim() === '0') return 'ENODEV';
    }
    if (driver === 'vfio-pci') {
      // vfio_pci_probe: only normal headers (no bridges); vfio_iommu_group_get: a group is required.
      if (this.headerType(device) !== 0) return 'EINVAL';
      if (!this.linkName(`${device.folder}/iommu_group`)) return 'EINVAL';
    }
    if (ctx.noBind) return 'quiet';
    bindInTree(this.root, device.address, device.folder, driver);
    this.setUeventDriver(device.folder, driver);
    if (driver === 'vfio-pci') {
      const group = this.linkName(`${device.folder}/iommu_group`)!;
      if (!fs.existsSync(path.join(this.root, '/dev/vfio', group))) writeTreeFile(this.root, `/dev/vfio/${group}`, '', 0o600);
    }
    return undefined;
  }

  /** device_attach: the first driver that matches and probes successfully wins; failures are ignored. */
  private attach(device: TreeDevice, ctx: WriteContext): boolean {
    for (const driver of this.list('/sys/bus/pci/drivers')) {
      if (!this.matches(driver, device)) continue;
      if (this.probe(driver, device, ctx) === undefined) return true;
    }
    return false;
  }

  /** device_release_driver: both links go, uevent loses DRIVER=, /dev/vfio/N goes with the group's last vfio-pci member. */
  private release(device: TreeDevice): void {
    const driver = device.driver;
    if (!driver) return;
    fs.rmSync(path.join(this.root, device.folder, 'driver'), { force: true });
    const back = `/sys/bus/pci/drivers/${driver}/${device.address}`;
    if (lstatOrUndefined(path.join(this.root, back))?.isSymbolicLink()) fs.rmSync(path.join(this.root, back), { force: true });
    this.setUeventDriver(device.folder, undefined);
    if (driver === 'vfio-pci') {
      const group = this.linkName(`${device.folder}/iommu_group`);
      if (group && !this.groupHasVfioMember(group)) fs.rmSync(path.join(this.root, '/dev/vfio', group), { force: true });
    }
  }

  private groupHasVfioMember(group: string): boolean {
    return this.list(`/sys/kernel/iommu_groups/${group}/devices`).some((address) => {
      const folder = this.deviceFolder(address);
      return folder !== undefined && this.driverOf(folder) === 'vfio-pci';
    });
  }

  /**
   * pci_stop_and_remove_bus_device: devices behind a bridge and the VFs of a PF go first; then
   * the driver is released and every link to the device (bus, group, class, PF) goes with its
   * folder. An IOMMU group left without devices disappears. During a `remove` write the
   * entries that go (after the driver release: a device returns unbound) are kept for rescan;
   * a VF is not, since a bus scan never finds VFs (they return through sriov_numvfs).
   */
  removeDevice(address: string): void {
    const folder = this.deviceFolder(address);
    if (!folder) return;
    const below = this.deviceAddresses()
      .map((a) => ({ a, f: this.deviceFolder(a) }))
      .filter((d) => d.f?.startsWith(`${folder}/`))
      .sort((x, y) => y.f!.length - x.f!.length);
    for (const d of below) this.removeDevice(d.a);
    for (const link of this.virtfnLinks(folder)) {
      const vf = this.linkName(`${folder}/${link}`);
      if (vf) this.removeDevice(vf);
    }
    const device = this.device(address);
    if (device) this.release(device);
    const physfn = this.linkName(`${folder}/physfn`);
    const kept: RemovedDevice | undefined = this.removing && !physfn ? { address, folder, entries: [] } : undefined;
    const drop = (hostPath: string) => {
      if (kept) kept.entries.push(...this.entriesOf(hostPath));
      fs.rmSync(path.join(this.root, hostPath), { recursive: true, force: true });
    };
    const group = this.linkName(`${folder}/iommu_group`);
    if (group) {
      const groupFolder = `/sys/kernel/iommu_groups/${group}`;
      drop(`${groupFolder}/devices/${address}`);
      if (this.list(`${groupFolder}/devices`).length === 0) drop(groupFolder);
    }
    for (const node of this.list(`${folder}/drm`)) drop(`/dev/dri/${node}`);
    for (const cls of ['net', 'drm']) {
      for (const name of this.list(`/sys/class/${cls}`)) {
        const target = this.resolveLink(`/sys/class/${cls}/${name}`);
        if (target?.startsWith(`${folder}/`)) drop(`/sys/class/${cls}/${name}`);
      }
    }
    for (const unit of this.list('/sys/devices/virtual/iommu')) {
      const link = `/sys/devices/virtual/iommu/${unit}/devices/${address}`;
      if (lstatOrUndefined(path.join(this.root, link))) drop(link);
    }
    const pfFolder = physfn ? this.deviceFolder(physfn) : undefined;
    if (pfFolder) for (const link of this.virtfnLinks(pfFolder)) if (this.resolveLink(`${pfFolder}/${link}`) === folder) drop(`${pfFolder}/${link}`);
    drop(`/sys/bus/pci/devices/${address}`);
    drop(folder);
    if (kept) this.removing!.push(kept);
  }

  /** A `remove` write: removeDevice, and what it took kept in removed.json for rescan. */
  private removeRemembered(address: string): void {
    this.removing = [];
    try {
      this.removeDevice(address);
    } finally {
      const removed = this.removing;
      this.removing = undefined;
      if (removed.length) this.saveRemoved([...this.loadRemoved(), ...removed]);
    }
  }

  /**
   * pci_rescan_bus: devices taken out by `remove` (all, or those below `under`) are found again
   * as new pci_devs: parents first, no driver_override, SR-IOV disabled, then probed unless
   * bus autoprobe is off. Hot-unplugged (`vanish`) devices and VFs do not return.
   */
  private rescan(under: string | undefined, ctx: WriteContext): void {
    const removed = this.loadRemoved();
    const back = removed.filter((r) => under === undefined || r.folder.startsWith(`${under}/`));
    if (back.length === 0) return;
    // Removal order is children first: bring parents back first.
    const order = [...back].reverse();
    for (const r of order) for (const entry of r.entries) this.restoreEntry(entry);
    this.saveRemoved(removed.filter((r) => !back.includes(r)));
    for (const r of order) {
      if (this.readFile(`${r.folder}/driver_override`) !== undefined) this.writeFile(`${r.folder}/driver_override`, '(null)\n');
      if (this.readFile(`${r.folder}/sriov_numvfs`) !== undefined) {
        this.writeFile(`${r.folder}/sriov_numvfs`, '0\n');
        this.setSriovControl(r.folder, 0);
      }
    }
    if (this.readFile('/sys/bus/pci/drivers_autoprobe')?.trim() === '0') return;
    for (const r of order) {
      const device = this.device(r.address);
      if (device && !device.driver) this.attach(device, ctx);
    }
  }

  /** Every entry at and below hostPath (parents first), as it is now; none when it is absent. */
  private entriesOf(hostPath: string): RemovedEntry[] {
    const real = path.join(this.root, hostPath);
    const stat = lstatOrUndefined(real);
    if (!stat) return [];
    if (stat.isSymbolicLink()) return [{ kind: 'link', path: hostPath, target: fs.readlinkSync(real) }];
    if (stat.isDirectory()) return [{ kind: 'dir', path: hostPath, mode: stat.mode & 0o7777 }, ...fs.readdirSync(real).sort().flatMap((name) => this.entriesOf(`${hostPath}/${name}`))];
    return [{ kind: 'file', path: hostPath, mode: stat.mode & 0o7777, data: fs.readFileSync(real).toString('base64') }];
  }

  /** Puts one kept entry back; what exists already is left as it is. */
  private restoreEntry(entry: RemovedEntry): void {
    const real = path.join(this.root, entry.path);
    fs.mkdirSync(path.dirname(real), { recursive: true });
    const exists = lstatOrUndefined(real) !== undefined;
    if (entry.kind === 'dir') {
      if (!exists) fs.mkdirSync(real);
      fs.chmodSync(real, entry.mode);
    } else if (!exists && entry.kind === 'file') fs.writeFileSync(real, Buffer.from(entry.data, 'base64'), { mode: entry.mode });
    else if (!exists && entry.kind === 'link') fs.symlinkSync(entry.target, real);
  }

  // ---------------------------------------------------------------- reading the tree

  private device(address: string): TreeDevice | undefined {
    if (!PCI_ADDRESS_RE.test(address)) return undefined;
    const folder = this.deviceFolder(address);
    if (!folder) return undefined;
    const config = this.readConfig(folder);
    const num = (name: string, offset: number, bytes: 2 | 3) => {
      const text = this.readFile(`${folder}/${name}`)?.trim();
      if (text !== undefined && /^(0x)?[0-9a-f]+$/i.test(text)) return parseInt(text, 16);
      if (config && config.length >= offset + bytes) return bytes === 2 ? config.readUInt16LE(offset) : config.readUIntLE(offset, 3);
      return NaN;
    };
    const override = this.readFile(`${folder}/driver_override`)?.replace(/\n$/, '');
    return {
      address,
      folder,
      driver: this.driverOf(folder),
      override: override === undefined || override === '(null)' || override === '' ? undefined : override,
      vendor: num('vendor', 0x00, 2),
      device: num('device', 0x02, 2),
      subvendor: num('subsystem_vendor', 0x2c, 2),
      subdevice: num('subsystem_device', 0x2e, 2),
      class: num('class', 0x09, 3),
    };
  }

  /** PCI header type (0 normal, 1 bridge, 2 CardBus) from config byte 0x0e, else from the class. */
  private headerType(device: TreeDevice): number {
    const config = this.readConfig(device.folder);
    if (config && config.length > 0x0e) return config.readUInt8(0x0e) & 0x7f;
    return isBridgeClass(device.class.toString(16).padStart(6, '0')) ? 1 : 0;
  }

  private readConfig(folder: string): Buffer | undefined {
    try {
      return fs.readFileSync(path.join(this.root, folder, 'config'));
    } catch {
      return undefined;
    }
  }

  /** Host path of a device's folder, via /sys/bus/pci/devices/X; undefined when it is gone. */
  private deviceFolder(address: string): string | undefined {
    const target = this.resolveLink(`/sys/bus/pci/devices/${address}`);
    if (!target || !fs.existsSync(path.join(this.root, target))) return undefined;
    return target;
  }

  private deviceAddresses(): string[] {
    return this.list('/sys/bus/pci/devices').filter((a) => PCI_ADDRESS_RE.test(a) && this.deviceFolder(a) !== undefined);
  }

  private virtfnLinks(folder: string): string[] {
    return this.list(folder)
      .filter((n) => /^virtfn\d+$/.test(n))
      .sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
  }

  private driverOf(folder: string): string | undefined {
    return this.linkName(`${folder}/driver`);
  }

  /** Host path a (relative) link points at, lexically; undefined when not a link. */
  private resolveLink(hostPath: string): string | undefined {
    try {
      const target = fs.readlinkSync(path.join(this.root, hostPath));
      return path.posix.isAbsolute(target) ? path.posix.normalize(target) : path.posix.join(path.posix.dirname(hostPath), target);
    } catch {
      return undefined;
    }
  }

  private linkName(hostPath: string): string | undefined {
    const target = this.resolveLink(hostPath);
    return target === undefined ? undefined : path.posix.basename(target);
  }

  private readFile(hostPath: string): string | undefined {
    try {
      return fs.readFileSync(path.join(this.root, hostPath), 'utf8');
    } catch {
      return undefined;
    }
  }

  private list(hostPath: string): string[] {
    try {
      return fs.readdirSync(path.join(this.root, hostPath)).sort();
    } catch {
      return [];
    }
  }

  /** Rewrites an attribute's content, keeping its mode. */
  private writeFile(hostPath: string, content: string): void {
    fs.writeFileSync(path.join(this.root, hostPath), content);
  }

  /** A writable attribute with no special meaning: a readable one shows the value back, a write-only one swallows it. */
  private storeAttribute(hostPath: string, data: string): void {
    const mode = fs.statSync(path.join(this.root, hostPath)).mode;
    if ((mode & 0o444) !== 0) this.writeFile(hostPath, `${data.replace(/\n+$/, '')}\n`);
  }

  /** The uevent attribute shows DRIVER= first while a driver is bound. */
  private setUeventDriver(folder: string, driver: string | undefined): void {
    const text = this.readFile(`${folder}/uevent`);
    if (text === undefined) return;
    const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('DRIVER='));
    this.writeFile(`${folder}/uevent`, `${[...(driver ? [`DRIVER=${driver}`] : []), ...lines].join('\n')}\n`);
  }

  // ---------------------------------------------------------------- sidecar files

  /** state.json; until the first write the static id tables are derived afresh (spec tables, then what is bound). */
  private loadState(): KernelState {
    const file = path.join(this.root, SIM_KERNEL_STATE_FILE);
    const text = (() => {
      try {
        return fs.readFileSync(file, 'utf8');
      } catch {
        return undefined;
      }
    })();
    if (text !== undefined) {
      const parsed = KernelStateSchema.safeParse(safeJson(text));
      if (!parsed.success) throw new SysfsSimError('reading kernel state', file, undefined, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      return parsed.data;
    }
    // Not saved here: reading a tree must not change it. The first write saves it (see write).
    return { version: 1, idTables: this.initialIdTables(), dynamicIds: {} };
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
    for (const address of this.deviceAddresses()) {
      const device = this.device(address);
      if (device?.driver) add(device.driver, hex4(device.vendor), hex4(device.device));
    }
    return Object.fromEntries([...tables].map(([name, ids]) => [name, [...ids]]));
  }

  private saveState(): void {
    atomicWrite(path.join(this.root, SIM_KERNEL_STATE_FILE), `${JSON.stringify(this.state, null, 1)}\n`);
  }

  private loadRemoved(): RemovedDevice[] {
    const file = path.join(this.root, SIM_REMOVED_FILE);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return [];
    }
    const parsed = RemovedFileSchema.safeParse(safeJson(text));
    if (!parsed.success) throw new SysfsSimError('reading removed devices', file, undefined, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    return parsed.data.devices;
  }

  private saveRemoved(devices: RemovedDevice[]): void {
    const file = path.join(this.root, SIM_REMOVED_FILE);
    if (devices.length === 0) fs.rmSync(file, { force: true });
    else atomicWrite(file, `${JSON.stringify({ version: 1, devices })}\n`);
  }

  private loadFaults(): FaultFile {
    const file = path.join(this.root, SIM_FAULTS_FILE);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return { version: 1, nextId: 1, faults: [] };
    }
    const parsed = FaultFileSchema.safeParse(safeJson(text));
    if (!parsed.success) throw new SysfsSimError('reading faults', file, undefined, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    return parsed.data;
  }

  private saveFaults(file: FaultFile): void {
    atomicWrite(path.join(this.root, SIM_FAULTS_FILE), `${JSON.stringify(file, null, 1)}\n`);
  }
}

// ------------------------------------------------------------------ pure helpers

function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}

function lstatOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch {
    return undefined;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function atomicWrite(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, content);
  fs.renameSync(temp, file);
}

const hex4 = (n: number) => (Number.isNaN(n) ? 'ffff' : n.toString(16).padStart(4, '0'));

/** sysfs_streq: a device name as written to bind/unbind/drivers_probe, one trailing newline ignored. */
function sysfsName(data: string): string {
  return data.endsWith('\n') ? data.slice(0, -1) : data;
}

/** sscanf("%x %x ..."): hex fields (optional 0x) separated by white space, up to the first that does not parse. */
function scanHex(data: string, max: number): number[] {
  const values: number[] = [];
  for (const token of data.trim().split(/\s+/)) {
    if (values.length === max) break;
    const m = /^(?:0x)?([0-9a-f]+)/i.exec(token);
    if (!m) break;
    values.push(Number(BigInt(`0x${m[1]}`) & 0xffffffffn));
    if (m[0].length !== token.length) break;
  }
  return values;
}

/** kstrtoul(buf, 0): decimal, 0x hex or 0 octal, an optional '+', one trailing newline; EINVAL or ERANGE. */
function kstrtoul(data: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  let text = data.endsWith('\n') ? data.slice(0, -1) : data;
  if (text.startsWith('+')) text = text.slice(1);
  let radix = 10;
  let digits = text;
  if (/^0x/i.test(text)) [radix, digits] = [16, text.slice(2)];
  else if (text.length > 1 && text.startsWith('0')) [radix, digits] = [8, text.slice(1)];
  const valid = radix === 16 ? /^[0-9a-f]+$/i : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!valid.test(digits)) throw errnoError('EINVAL', `${what}: ${JSON.stringify(data)} is not a number`);
  const value = [...digits].reduce((acc, c) => acc * BigInt(radix) + BigInt(parseInt(c, radix)), 0n);
  if (value > BigInt(max)) throw errnoError('ERANGE', `${what}: ${text} is out of range`);
  return Number(value);
}

/** kstrtobool: y/Y/1/on and n/N/0/off; anything else is EINVAL. */
function kstrtobool(data: string, what: string): boolean {
  const text = data.replace(/\n$/, '');
  if (/^([yY1]|[oO][nN])/.test(text)) return true;
  if (/^([nN0]|[oO][fF])/.test(text)) return false;
  throw errnoError('EINVAL', `${what}: ${JSON.stringify(data)} is not a boolean`);
}

/** kobject_synth_uevent: a uevent write names an action; nothing in the tree changes. */
function checkUevent(data: string): void {
  const action = data.replace(/\n$/, '').split(' ')[0];
  if (!['add', 'remove', 'change', 'move', 'online', 'offline', 'bind', 'unbind'].includes(action ?? '')) throw errnoError('EINVAL', `uevent: unknown action ${JSON.stringify(action)}`);
}

/** A static id table entry `vvvv:dddd` or `vvvv:*` as a pci_device_id. */
function parseTableEntry(entry: string): DynamicId {
  const [vendor, device] = entry.split(':') as [string, string];
  return { vendor: parseInt(vendor, 16), device: device === '*' ? ANY : parseInt(device, 16), subvendor: ANY, subdevice: ANY, class: 0, classMask: 0, driverData: 0 };
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

/** `*` within a path component, `**` across components, `?` one character; the whole path must match. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
