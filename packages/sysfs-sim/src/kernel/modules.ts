// `modprobe MODULE` on a simulated tree: what kmod and the driver core do when a PCI driver's
// module loads. Only the modules passthru loads have a meaning here (vfio-pci and what it pulls
// in); the tree says whether the module exists (modules.builtin or modules.dep under
// /lib/modules/<release>, as `passthru snapshot` captures them).
import { errnoError } from '@passthru/hostfs';
import { ensureDriverFolder, moduleName, writeTreeFile } from '../materialize';
import { probe } from './probe';
import type { WriteContext } from './WriteContext';

interface LoadableModule {
  /** The PCI driver the module registers. */
  driver: string;
  /** Modules loaded with it (its dependencies and softdeps), as /proc/modules names them. */
  alongWith: string[];
  /** Device nodes it creates. */
  nodes: string[];
}

const LOADABLE: Readonly<Record<string, LoadableModule>> = {
  vfio_pci: { driver: 'vfio-pci', alongWith: ['irqbypass', 'vfio', 'vfio_iommu_type1', 'vfio_virqfd', 'vfio_pci_core'], nodes: ['/dev/vfio/vfio'] },
};

/** Is `module` (underscores) in modules.builtin or modules.dep of the tree's kernel? */
function availableIn(ctx: WriteContext, release: string | undefined, module: string): boolean {
  if (release === undefined) return false;
  const named = (line: string) => {
    const file = line.split(':')[0]!.trim().split('/').pop() ?? '';
    return moduleName(file.replace(/\.ko(\.(xz|zst|gz))?$/, '')) === module;
  };
  return ['modules.builtin', 'modules.dep'].some((file) =>
    (ctx.tree.readFile(`/lib/modules/${release}/${file}`) ?? '').split('\n').some((line) => line.trim() !== '' && named(line)),
  );
}

/**
 * Loads `module`: a no-op when its driver is registered already; ENOENT (modprobe's "not
 * found") when the tree's kernel does not have it. Otherwise the driver's folder and device
 * nodes appear, /proc/modules and /sys/module list it, and the driver probes every unbound
 * device that matches it (driver_attach: a device whose driver_override names it is bound now).
 */
export function loadModule(ctx: WriteContext, module: string): void {
  const name = moduleName(module);
  const known = LOADABLE[name];
  if (!known) throw errnoError('ENOTSUP', `the simulated kernel gives loading ${module} no meaning (it knows ${Object.keys(LOADABLE).join(', ')})`);
  const { tree } = ctx;
  if (tree.lstat(`/sys/bus/pci/drivers/${known.driver}`)?.isDirectory()) return;
  const release = tree.readFile('/proc/sys/kernel/osrelease')?.trim();
  if (!availableIn(ctx, release, name))
    throw errnoError('ENOENT', `modprobe: FATAL: Module ${name} not found in directory /lib/modules/${release ?? '<unknown release>'}`);
  ensureDriverFolder(tree.root, known.driver);
  for (const node of known.nodes) if (!tree.lstat(node)) writeTreeFile(tree.root, node, '', 0o666);
  const loaded = [...known.alongWith, name];
  for (const m of loaded) if (!tree.lstat(`/sys/module/${m}`)) writeTreeFile(tree.root, `/sys/module/${m}/initstate`, 'live\n', 0o444);
  const procModules = tree.readFile('/proc/modules');
  if (procModules !== undefined) {
    const present = new Set(procModules.split('\n').map((l) => l.split(' ')[0]));
    const lines = loaded.filter((m) => !present.has(m)).map((m) => `${m} 16384 0 - Live 0x0000000000000000\n`);
    tree.writeFile('/proc/modules', `${lines.reverse().join('')}${procModules}`);
  }
  for (const address of tree.deviceAddresses()) {
    const device = tree.device(address);
    if (device && device.driver === undefined && ctx.ids.matches(known.driver, device)) probe(ctx, known.driver, device);
  }
}
