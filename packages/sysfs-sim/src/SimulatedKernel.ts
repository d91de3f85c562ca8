import * as fs from 'node:fs';
import * as path from 'node:path';
import { errnoOf, sleepSync, type SimulatedKernelWriter } from '@passthru/hostfs';
import { parseHostSpec, type HostSpec } from './HostSpec';
import { SIM_SPEC_FILE, SIM_STATE_DIR } from './materialize';
import { SysfsSimError } from './SysfsSimError';
import { applyWrite } from './kernel/applyWrite';
import { loadModule } from './kernel/modules';
import { removeDevice } from './kernel/deviceLifecycle';
import { addFault, clearFaults, listFaults, removeFault, runFaults, type FaultSpec, type InjectedFault } from './kernel/faults';
import { IdTables, type DynamicId } from './kernel/IdTables';
import { SIM_WRITE_LOG_FILE } from './kernel/sidecar';
import { finishInterruptedSriov } from './kernel/sriov';
import { SysfsTree } from './kernel/SysfsTree';

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
 *
 * This class holds the scenario API and the record of writes; the rules live in ./kernel/, one
 * module per concern: faults, IdTables (match rules), sysfsParse (what an attribute accepts),
 * target (which attribute a path names), applyWrite (routing) with bindAttributes,
 * newIdAttributes, sriov, removeRescan and vfioNodes per attribute family, probe (driver
 * core), deviceLifecycle (devices and their links) and SysfsTree (reading the tree).
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
  private readonly tree: SysfsTree;
  private readonly ids: IdTables;

  constructor(root: string, options: SimulatedKernelOptions = {}) {
    let real: string;
    try {
      real = fs.realpathSync.native(path.resolve(root));
    } catch (error) {
      throw new SysfsSimError('opening tree', root, undefined, (error as Error).message, { cause: error, code: errnoOf(error) });
    }
    if (!fs.statSync(real).isDirectory()) throw new SysfsSimError('opening tree', root, undefined, 'not a folder', { code: 'ENOTDIR' });
    this.root = real;
    this.tree = new SysfsTree(real);
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
    this.ids = new IdTables(this.tree, this.spec);
    finishInterruptedSriov(this.tree);
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
    return addFault(this.root, fault);
  }

  /** The faults in force on this tree, with their counters. */
  get faults(): InjectedFault[] {
    return listFaults(this.root);
  }

  removeFault(id: number): void {
    removeFault(this.root, id);
  }

  clearFaults(): void {
    clearFaults(this.root);
  }

  /** The static id table of a driver (`vvvv:dddd`, `vvvv:*`). */
  idTable(driver: string): string[] {
    return this.ids.idTable(driver);
  }

  /** The ids added to a driver through new_id (by this or any other process). */
  dynamicIds(driver: string): DynamicId[] {
    this.ids.reload();
    return this.ids.dynamicIds(driver);
  }

  /** Hot-unplugs a device: it, what is behind it and its VFs leave the tree with every link to them; a rescan does not bring them back. */
  removeDevice(address: string): void {
    removeDevice(this.tree, address);
  }

  // ---------------------------------------------------------------- the write

  /** Applies one write(2) of `data` to `hostPath`; throws an error with an errno `code` as the kernel would. */
  write(hostPath: string, data: string): void {
    this.change(hostPath, data, (noBind) => applyWrite({ tree: this.tree, spec: this.spec, ids: this.ids, noBind }, hostPath, data));
  }

  /** `modprobe MODULE` (logged as a write of MODULE to `modprobe`); throws ENOENT when the tree's kernel lacks it. */
  loadModule(module: string): void {
    this.change('modprobe', module, (noBind) => loadModule({ tree: this.tree, spec: this.spec, ids: this.ids, noBind }, module));
  }

  /** One change of the kernel's state: faults first, then `apply`, recorded and logged whatever the outcome. */
  private change(hostPath: string, data: string, apply: (noBind: boolean) => void): void {
    const record: KernelWrite = { path: hostPath, data, result: 'ok', at: this.now() };
    try {
      this.ids.reload();
      this.ids.fixBeforeFirstWrite();
      const { noBind } = runFaults(this.tree, hostPath, data, {
        sleep: this.sleep,
        maxHangMs: this.maxHangMs,
        vanish: (address) => removeDevice(this.tree, address),
      });
      apply(noBind);
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
}
