/**
 * A GPU shared rather than given whole: LXD's and Incus's `gputype=mdev|sriov|mig` (their
 * lxd/device/gpu_{mdev,sriov,mig}.go and doc/reference/devices_gpu.md). The keys each accepts:
 * - `mdev` (VMs): `mdev=<type>` (required) and one selector, here `pci=` (the card; LXD finds the
 *   type on the card or, failing that, on its VFs, and creates the vGPU at start);
 * - `sriov` (VMs): `pci=` of the PF; at start LXD takes the first VF with no driver bound;
 * - `mig` (containers): `pci=` and either `mig.uuid` (drivers 470+, `MIG-` optional) or both
 *   `mig.gi` and `mig.ci` (0-255; at start LXD checks /proc/driver/nvidia/capabilities/gpuN/mig/
 *   giX/ciY/access), and the instance needs `nvidia.runtime=true`.
 * None of the three can be hot-plugged (CanHotPlug is false for a VM's devices and for MIG): LXD
 * adds them at start, so the instance must be stopped. Adding one to a stopped instance
 * validates only its keys, so this preflight is what checks the host before the write.
 */
import { GPU_TYPES, deviceClassOf, mdevTypesOfCard, type GpuModes, type GpuType, type PciDevice } from '@passthru/pci-discovery';
import type { DeviceInventory } from './deviceInventory';
import { LxdError } from './LxdError';
import type { AttachType, DeviceChoice, HostTarget } from './resolveTarget';
import type { DeviceConfig, Instance } from './schemas';

export { GPU_TYPES, type GpuType };

/** What `attach --gputype` asks for beyond the GPU itself. */
export interface GpuRequest {
  gputype?: GpuType;
  /** The mdev type (the folder name under mdev_supported_types: i915-GVTg_V5_4, nvidia-746). */
  mdev?: string;
  migUuid?: string;
  migGi?: number;
  migCi?: number;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const slug = (s: string) => s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '');

function bad(detail: string, reason: 'bad-input' | 'preflight' = 'bad-input'): LxdError {
  return new LxdError('checking', 'the GPU request', '', detail, { reason });
}

/** The combinations refused before anything is read or asked (exit 2, nothing written). */
export function checkGpuRequest(gpu: GpuRequest | undefined, type: AttachType): void {
  if (!gpu) return;
  const gputype = gpu.gputype ?? 'physical';
  if (!(GPU_TYPES as readonly string[]).includes(gputype)) throw bad(`--gputype must be one of ${GPU_TYPES.join(', ')} (got ${JSON.stringify(gputype)})`);
  if (gputype !== 'physical' && type !== 'auto' && type !== 'gpu')
    throw bad(`--gputype ${gputype} is a gpu device: it goes with --type gpu, not --type ${type}`);
  if (gpu.mdev !== undefined && gputype !== 'mdev')
    throw bad(`--mdev names an mdev type: it goes with --gputype mdev${gputype === 'physical' ? '' : `, not ${gputype}`}`);
  const mig = gpu.migUuid !== undefined || gpu.migGi !== undefined || gpu.migCi !== undefined;
  if (mig && gputype !== 'mig') throw bad('--mig-uuid, --mig-gi and --mig-ci name a MIG instance: they go with --gputype mig');
  if (gputype === 'mdev' && !gpu.mdev) throw bad('--gputype mdev needs --mdev TYPE (passthru list --class gpu shows the types of each GPU)');
  if (gputype === 'mig') {
    if (gpu.migUuid !== undefined && (gpu.migGi !== undefined || gpu.migCi !== undefined))
      throw bad('give either --mig-uuid or --mig-gi with --mig-ci, not both (LXD and Incus refuse mig.gi and mig.ci beside mig.uuid)');
    if (gpu.migUuid === undefined && (gpu.migGi === undefined || gpu.migCi === undefined))
      throw bad('--gputype mig needs --mig-uuid UUID, or both --mig-gi N and --mig-ci N (nvidia-smi -L and nvidia-smi mig -lci list them)');
    if (gpu.migUuid !== undefined && !UUID_RE.test(gpu.migUuid.replace(/^MIG-/, '')))
      throw bad(
        `--mig-uuid ${JSON.stringify(gpu.migUuid)} is not a MIG device UUID (MIG-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, as nvidia-smi -L prints it); with a driver older than 470 use --mig-gi and --mig-ci`,
      );
    for (const [flag, n] of [
      ['--mig-gi', gpu.migGi],
      ['--mig-ci', gpu.migCi],
    ] as const)
      if (n !== undefined && !(Number.isInteger(n) && n >= 0 && n <= 255)) throw bad(`${flag} must be an integer from 0 to 255 (got ${n})`);
  }
}

export interface SharedGpuChoice {
  choice: DeviceChoice;
  notes: string[];
  warnings: string[];
  /** The function whose IOMMU group a VM takes (a free VF for sriov); null: none moves (mdev). */
  iommuDevice: PciDevice | null;
}

const sameUuid = (a: string, b: string) => a.replace(/^MIG-/i, '').toLowerCase() === b.replace(/^MIG-/i, '').toLowerCase();

/**
 * The gpu device for `gputype` mdev, sriov or mig, checked against the GPU's modes where the
 * instance lives (`inventory`; null: not checked, LXD alone checks at start). Refuses with
 * `bad-input` what cannot work on this instance or GPU and `preflight` what is taken or not ready.
 */
export async function sharedGpuChoice(
  base: DeviceChoice,
  gpu: GpuRequest,
  target: HostTarget,
  instance: Instance,
  inventory: DeviceInventory | null,
): Promise<SharedGpuChoice> {
  const gputype = gpu.gputype as Exclude<GpuType, 'physical'>;
  const what = target.kind === 'usb' ? 'the target' : target.kind === 'pci' ? target.address : target.iface;
  if (base.type !== 'gpu' || !base.pciAddress) {
    const d = target.kind === 'usb' ? null : target.device;
    throw bad(
      `--gputype ${gputype} shares a GPU; ${what} is ${d ? `a ${deviceClassOf(d.class)} device (class ${d.class})` : `a ${base.type} device here`}, not a GPU`,
    );
  }
  const vm = instance.type === 'virtual-machine';
  if (gputype === 'mig' && vm)
    throw bad(`gputype=mig is for containers (LXD gives a MIG compute instance to a container only); ${instance.name} is a virtual machine`);
  if (gputype !== 'mig' && !vm)
    throw bad(
      `gputype=${gputype} is for virtual machines (LXD ${gputype === 'mdev' ? 'creates a vGPU' : 'passes a VF'} for a VM only); ${instance.name} is a container: give it the GPU's device nodes with --gputype physical${gputype === 'sriov' ? ', or a VF by its address' : ''}`,
    );
  if (instance.status === 'Running' || instance.status === 'Frozen')
    throw bad(
      `LXD adds a gputype=${gputype} device only when the instance starts (it cannot be hot-plugged into a running ${vm ? 'VM' : 'container'}): stop ${instance.name} first (lxc stop ${instance.name})`,
      'preflight',
    );
  const address = base.pciAddress;
  const device: DeviceConfig = { type: 'gpu', gputype, pci: address };
  const notes: string[] = [];
  const warnings: string[] = [];
  const d = target.kind === 'usb' ? null : target.device;
  const modes = d && inventory?.gpuModes ? await inventory.gpuModes(d) : null;
  const unchecked = () => notes.push(`${gputype} not checked on ${inventory?.where ?? 'the server'}: LXD checks it when ${instance.name} starts`);
  let iommuDevice: PciDevice | null = null;
  let name = `${base.name}-${gputype}`;

  if (gputype === 'mdev') {
    device.mdev = gpu.mdev!;
    if (!modes) unchecked();
    else {
      const types = mdevTypesOfCard(address, modes);
      const list = [...types.values()].map((t) => `${t.type.type}${t.type.name ? ` "${t.type.name}"` : ''} (${t.free} free)`).join(', ');
      const wanted = types.get(gpu.mdev!);
      if (!wanted) {
        const why = list
          ? `its mdev types: ${list}`
          : `it offers no mdev type${modes.notes.length ? ` (${modes.notes.join('; ').replace(/\bLXD and Incus\b/g, 'LXD')})` : ' (GVT-g needs i915.enable_gvt=1 and kvmgt; NVIDIA vGPU its vGPU manager driver)'}`;
        throw bad(`${address} has no mdev type ${gpu.mdev}; ${why}`);
      }
      if (wanted.free === 0) throw bad(`mdev type ${gpu.mdev} of ${address} has no free instance (available_instances 0); ${list}`, 'preflight');
      const where = wanted.on.filter((a) => a !== address);
      notes.push(
        `mdev ${gpu.mdev}${wanted.type.name ? ` "${wanted.type.name}"` : ''}: ${wanted.free} free${where.length ? ` on VFs ${where.join(', ')} (LXD makes it on the first)` : ''}; LXD creates the vGPU when ${instance.name} starts and removes it when it stops`,
      );
    }
  } else if (gputype === 'sriov') {
    if (d?.sriov?.role === 'vf')
      throw bad(`${address} is a VF of ${d.sriov.physfn}: name the PF (LXD takes a free VF of it), or give this VF whole with --gputype physical`);
    if (!modes) unchecked();
    else if (!modes.sriov) throw bad(`${address} is not an SR-IOV GPU (no sriov_totalvfs): gputype=sriov needs a PF`);
    else {
      const s = modes.sriov;
      if (s.numVfs === 0)
        throw bad(`${address} has no VFs enabled (0 of ${s.totalVfs}): make them free with passthru sriov ${address} --numvfs N --no-autoprobe`, 'preflight');
      if (s.freeVfs.length === 0) {
        const drivers = [...new Set(s.vfs.map((v) => v.driver))].join(', ');
        throw bad(
          `every VF of ${address} has a driver (${drivers}); LXD takes only a VF with none: remake them with passthru sriov ${address} --numvfs 0, then --numvfs N --no-autoprobe`,
          'preflight',
        );
      }
      iommuDevice = inventory?.pciAt(s.freeVfs[0]!) ?? null;
      notes.push(
        `LXD takes a free VF (no driver) when ${instance.name} starts: ${s.freeVfs.length} of ${s.numVfs} free (${s.freeVfs.join(', ')}); the first now is ${s.freeVfs[0]}`,
      );
    }
  } else {
    if (gpu.migUuid !== undefined) {
      device['mig.uuid'] = gpu.migUuid;
      name = `${base.name}-mig-${slug(gpu.migUuid.replace(/^MIG-/i, '')).slice(0, 8)}`;
    } else {
      device['mig.gi'] = String(gpu.migGi);
      device['mig.ci'] = String(gpu.migCi);
      name = `${base.name}-mig-${gpu.migGi}-${gpu.migCi}`;
    }
    const mig = modes?.mig ?? null;
    if (!modes) unchecked();
    else if (!mig || mig.mode === 'disabled')
      throw bad(
        `${address} ${mig ? 'has MIG disabled' : 'shows no MIG (no MIG mode in nvidia-smi, no compute instance in /proc/driver/nvidia/capabilities)'}: enable it and create instances first (nvidia-smi -i N -mig 1; nvidia-smi mig -cgi PROFILE -C)`,
        'preflight',
      );
    else checkMigInstance(gpu, address, mig, notes);
    if (instance.expanded_config['nvidia.runtime'] !== 'true')
      warnings.push(
        `LXD starts a MIG device only with nvidia.runtime=true on the container (it is not set on ${instance.name}): lxc config set ${instance.name} nvidia.runtime=true`,
      );
  }
  const reason = {
    mdev: 'a GPU to a VM: gpu gputype=mdev, a vGPU of it',
    sriov: 'a GPU to a VM: gpu gputype=sriov, a free VF of it',
    mig: 'a GPU to a container: gpu gputype=mig, a MIG compute instance of it',
  }[gputype];
  return { choice: { ...base, device, name, reason }, notes, warnings, iommuDevice };
}

/**
 * `gputype` mdev, sriov or mig: the shared GPU's device (sharedGpuChoice), its refusals worded as
 * `refuse` words attach's (the same reason); null for the whole GPU (physical, or no --gputype).
 */
export async function sharedGpuPlan(
  base: DeviceChoice,
  gpu: GpuRequest | undefined,
  target: HostTarget,
  instance: Instance,
  inventory: DeviceInventory | null,
  refuse: (detail: string, reason: 'preflight' | 'bad-input') => LxdError,
): Promise<SharedGpuChoice | null> {
  if (!gpu?.gputype || gpu.gputype === 'physical') return null;
  try {
    return await sharedGpuChoice(base, gpu, target, instance, inventory);
  } catch (error) {
    if (error instanceof LxdError && error.doing === 'checking') throw refuse(error.detail, error.reason === 'bad-input' ? 'bad-input' : 'preflight');
    throw error;
  }
}

/** A MIG compute instance the GPU has (by UUID when nvidia-smi listed the UUIDs, else by GI and CI). */
function checkMigInstance(gpu: GpuRequest, address: string, mig: NonNullable<GpuModes['mig']>, notes: string[]): void {
  const have = mig.computeInstances.map((c) => `gi ${c.gi} ci ${c.ci}${c.profile ? ` (${c.profile})` : ''}${c.uuid ? ` ${c.uuid}` : ''}`).join(', ') || 'none';
  if (gpu.migUuid !== undefined) {
    if (mig.devices.length === 0) {
      notes.push(`mig.uuid not checked: no nvidia-smi -L output for ${address} (LXD checks it when the container starts)`);
      return;
    }
    const found = mig.devices.find((m) => sameUuid(m.uuid, gpu.migUuid!));
    if (!found) throw bad(`${address} has no MIG device ${gpu.migUuid}; its MIG devices: ${mig.devices.map((m) => `${m.uuid} (${m.profile})`).join(', ')}`);
    notes.push(`MIG device ${found.uuid} (${found.profile}) of ${address}`);
    return;
  }
  const ci = mig.computeInstances.find((c) => c.gi === gpu.migGi && c.ci === gpu.migCi);
  if (!ci) throw bad(`${address} has no MIG compute instance gi ${gpu.migGi} ci ${gpu.migCi}; its compute instances: ${have}`);
  notes.push(
    `MIG compute instance gi ${ci.gi} ci ${ci.ci}${ci.profile ? ` (${ci.profile})` : ''} of ${address}${mig.minor === null ? '' : ` (/proc/driver/nvidia/capabilities/gpu${mig.minor}/mig/gi${ci.gi}/ci${ci.ci})`}`,
  );
}

/**
 * Whether an existing device `config` holds what a shared-mode `choice` would take (undefined:
 * the choice is not a shared mode, the usual rule applies). A MIG compute instance is one
 * container's; vGPUs and VFs of one card are many instances' at once, but not while the card
 * itself is given whole (a gpu physical or a pci device of the same address).
 */
export function sharedModeHolds(config: DeviceConfig, choice: Pick<DeviceChoice, 'pciAddress' | 'device'>): boolean | undefined {
  const gputype = choice.device.gputype;
  if (choice.device.type !== 'gpu' || gputype === undefined || gputype === 'physical') return undefined;
  const same = (a: string | undefined) => a !== undefined && choice.pciAddress !== null && a.toLowerCase() === choice.pciAddress.toLowerCase();
  if (config.type === 'pci') return same(config.address);
  if (config.type !== 'gpu' || !same(config.pci)) return false;
  const other = config.gputype ?? 'physical';
  if (other === 'physical') return true;
  if (gputype !== 'mig' || other !== 'mig') return false;
  const mine = choice.device;
  if (mine['mig.uuid'] && config['mig.uuid']) return sameUuid(mine['mig.uuid'], config['mig.uuid']);
  return mine['mig.gi'] !== undefined && mine['mig.gi'] === config['mig.gi'] && mine['mig.ci'] === config['mig.ci'];
}
