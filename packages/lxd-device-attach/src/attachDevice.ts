import type { HostFs } from '@passthru/hostfs';
import { normalizePciAddress, type NvidiaSmiRunner } from '@passthru/pci-discovery';
import { hostInventory, THIS_HOST, type DeviceInventory } from './deviceInventory';
import { checkGpuRequest, sharedGpuPlan, sharedModeHolds, type GpuRequest } from './gpuAttach';
import type { IommuVerdict } from './iommuVerdict';
import type { LxdClient } from './LxdClient';
import { LxdError } from './LxdError';
import { checkDeviceName, checkInstanceName, checkProjectName } from './names';
import { chooseDevice, lookUpTarget, parseAttachTarget, type AttachType, type DeviceChoice, type HostTarget } from './resolveTarget';
import { instancePut, type DeviceConfig, type Instance } from './schemas';
import { inVocabularyOf, SERVERS, type ServerName } from './servers';

export interface AttachRequest {
  instance: string;
  target: string;
  type?: AttachType;
  /** Device name in the instance; defaults to the choice's name (gpu-0000-01-00-0, nic-eth1...). */
  name?: string;
  project?: string;
  /** Check TARGET against this host's sysfs (off only for a remote LXD). Default true. */
  hostCheck?: boolean;
  /** A GPU shared rather than given whole: gputype mdev, sriov or mig and its keys. */
  gpu?: GpuRequest;
}

/** Who already holds a host device. */
export interface DeviceHolder {
  project: string;
  instance: string;
  device: string;
}

/** A checked, not yet applied attach (what `--dry-run` prints). */
export interface AttachPlan {
  /** The server the plan was made against (its GET /1.0): fix lines name its client. */
  server: ServerName;
  instance: string;
  project: string;
  instanceType: Instance['type'];
  instanceStatus: string;
  deviceName: string;
  device: DeviceConfig;
  choice: Omit<DeviceChoice, 'device' | 'name'>;
  target: HostTarget;
  iommu: IommuVerdict | null;
  /** Whose inventory the device was checked against: `this host`, `cluster member m2`; null: not checked (remote LXD). */
  checkedOn: string | null;
  notes: string[];
  /** What works but costs: the device on another NUMA node than the instance's pinned CPUs (with the fix). */
  warnings: string[];
}

export interface AttachResult {
  plan: AttachPlan;
  /** The device as LXD holds it after the write (re-read). */
  applied: DeviceConfig;
  verified: string[];
}

export interface AttachHooks {
  /** Called after the instance (and its ETag) is read and before the write (tests race here). */
  afterRead?: (instance: Instance) => Promise<void> | void;
}

export interface PlanOptions {
  /**
   * The inventory of the machine the instance lives on when that is not this host (in a
   * cluster: the member of `instance.location`); null: this host. Given, TARGET is looked up
   * after the instance is read; without it, before (this host's sysfs, as always).
   */
  inventoryFor?: (instance: Instance) => Promise<DeviceInventory | null>;
  /** nvidia-smi on this host (a live host only), for the MIG instances `gputype=mig` names. */
  nvidiaSmi?: NvidiaSmiRunner;
}

const projectOf = (p?: string) => p ?? 'default';

/** Fails with `not-found` "unknown project" instead of LXD's "Instance not found" for a bad --project. */
async function checkProject(client: LxdClient, project: string | undefined): Promise<void> {
  if (project === undefined) return;
  checkProjectName(project);
  try {
    await client.getProject(project);
  } catch (error) {
    if (error instanceof LxdError && error.status === 404) {
      throw new LxdError('reading', `project ${project}`, client.via, `unknown project (${client.knownKind?.product ?? 'the server'}: ${error.detail})`, {
        reason: 'not-found',
        status: 404,
        errorCode: error.errorCode,
        cause: error,
      });
    }
    throw error;
  }
}

/** Does a device config hand over `choice`'s host device (same PCI address or parent interface)? */
export function holdsSameDevice(config: DeviceConfig, choice: Pick<DeviceChoice, 'pciAddress' | 'iface' | 'device'>): boolean {
  const shared = sharedModeHolds(config, choice);
  if (shared !== undefined) return shared;
  const norm = (a: string | undefined) => (a === undefined ? undefined : (normalizePciAddress(a) ?? a.toLowerCase()));
  const addr = norm(config.pci ?? config.address);
  if (choice.pciAddress && addr === norm(choice.pciAddress)) return true;
  if (
    choice.iface &&
    config.type === 'nic' &&
    config.parent === choice.iface &&
    (config.nictype === 'physical' || config.nictype === 'macvlan' || config.nictype === 'sriov')
  )
    return true;
  if (choice.device.type === 'usb' && config.type === 'usb' && config.vendorid === choice.device.vendorid && config.productid === choice.device.productid)
    return true;
  // A gpu device with no selector hands over every GPU of the host.
  if (
    choice.device.type === 'gpu' &&
    config.type === 'gpu' &&
    !config.pci &&
    !config.id &&
    !config.vendorid &&
    !config.productid &&
    (config.gputype ?? 'physical') === 'physical'
  )
    return true;
  return false;
}

/**
 * Every instance (all projects when LXD allows) whose expanded devices hold the same host device.
 * In a cluster an address names a device of one member: with `location`, only instances on
 * that member count (an instance without a location, on a server that is no cluster, always does).
 */
export async function findHolders(
  client: LxdClient,
  choice: Pick<DeviceChoice, 'pciAddress' | 'iface' | 'device'>,
  project?: string,
  location?: string,
): Promise<DeviceHolder[]> {
  let instances: Instance[];
  try {
    instances = await client.listInstances({ allProjects: true });
  } catch (error) {
    if (!(error instanceof LxdError) || error.reason === 'unreachable') throw error;
    instances = await client.listInstances({ project });
  }
  const holders: DeviceHolder[] = [];
  for (const inst of instances) {
    if (location && inst.location && inst.location !== location) continue;
    for (const [name, config] of Object.entries(inst.expanded_devices)) {
      if (holdsSameDevice(config, choice)) holders.push({ project: inst.project ?? projectOf(project), instance: inst.name, device: name });
    }
  }
  return holders;
}

/**
 * Checks everything before a write: names, project, instance, device type for the instance type,
 * the device (exists, right driver) on the machine the instance lives on (this host, or the
 * cluster member `options.inventoryFor` names), no other instance there holding it, and IOMMU
 * viability for a VM. Reads only; throws an LxdError (`bad-input`, `not-found`, `preflight`, `conflict`).
 */
export async function planAttach(client: LxdClient, host: HostFs, request: AttachRequest, options: PlanOptions = {}): Promise<AttachPlan> {
  const instanceName = checkInstanceName(request.instance);
  if (request.name !== undefined) checkDeviceName(request.name);
  const project = request.project;
  const type = request.type ?? 'auto';
  const query = parseAttachTarget(request.target, type);
  checkGpuRequest(request.gpu, type);
  const hostCheck = request.hostCheck ?? true;
  const kind = await client.serverKind();
  const say = (text: string) => inVocabularyOf(kind, text);
  const here = hostInventory(host, options.nvidiaSmi ? { nvidiaSmi: options.nvidiaSmi } : {});
  // This host's sysfs is read before LXD is asked (a missing device is said without a request).
  let target = options.inventoryFor ? null : lookUpTarget(here, request.target, query, { hostCheck });
  await checkProject(client, project);
  const { instance } = await client.getInstance(instanceName, project);
  const elsewhere = (await options.inventoryFor?.(instance)) ?? null;
  const inventory = elsewhere ?? (hostCheck ? here : null);
  target ??= lookUpTarget(elsewhere ?? here, request.target, query, { hostCheck: elsewhere !== null || hostCheck });
  const where = `instance ${instanceName}${project ? ` in project ${project}` : ''}`;
  const refuse = (detail: string, reason: 'preflight' | 'conflict' | 'bad-input' = 'preflight') =>
    new LxdError('attaching', `${request.target} to ${where}`, client.via, say(detail), { reason });
  const base = chooseDevice(target, instance.type, type);
  const shared = await sharedGpuPlan(base, request.gpu, target, instance, inventory, refuse);
  const choice = shared?.choice ?? base;
  const deviceName = request.name ?? choice.name;
  checkDeviceName(deviceName);

  if (instance.expanded_devices[deviceName]) {
    throw refuse(
      `the instance already has a device named ${deviceName}${instance.devices[deviceName] ? '' : ' (from a profile)'}; choose another --name`,
      'conflict',
    );
  }
  const notes: string[] = [choice.reason, ...(shared?.notes ?? [])];
  if (inventory?.note) notes.push(inventory.note);
  const d = target.kind === 'usb' ? null : target.device;
  const vm = instance.type === 'virtual-machine';
  const on = inventory && inventory !== here ? ` on ${inventory.where}` : '';
  if (d && !vm && choice.type === 'gpu' && (d.driver === null || d.driver === 'vfio-pci')) {
    throw refuse(
      `${d.address}${on} is ${d.driver ? 'bound to vfio-pci' : 'without a driver'}; a container uses the host GPU driver's device nodes: give it back to its driver first (passthru restore ${d.address}${on ? ' on that member' : ''})`,
    );
  }
  let iommu: IommuVerdict | null = null;
  // A shared GPU moves no group (mdev) or a VF's (sriov): its own function's group is not the one checked.
  const moved = shared ? shared.iommuDevice : d;
  if (vm && moved && inventory && (choice.type === 'pci' || choice.type === 'gpu' || choice.device.nictype === 'physical')) {
    iommu = inventory.iommu(moved);
    iommu = { ...iommu, plan: iommu.plan.map(say) };
    if (!iommu.viable) throw refuse(iommu.plan.join('\n'));
    notes.push(...iommu.plan);
  }
  if (!inventory) notes.push(say('host check off: LXD alone checks that the device exists (at hot-plug, or at start for a stopped instance)'));

  const holders = (await findHolders(client, choice, project, instance.location)).filter(
    (h) => !(h.instance === instanceName && h.project === projectOf(project) && h.device === deviceName),
  );
  if (holders.length > 0) {
    throw refuse(
      `the device is already given to ${holders.map((h) => `${h.project}/${h.instance} (device ${h.device})`).join(', ')}; detach it there first`,
      'conflict',
    );
  }
  // NUMA: the audit's rule on the instance as it will be (pinned CPUs off the device's node).
  const warnings = [
    ...(inventory ? inventory.numaWarnings({ ...instance, expanded_devices: { ...instance.expanded_devices, [deviceName]: choice.device } }) : []),
    ...(shared?.warnings ?? []),
  ];
  const { device: _device, name: _name, ...rest } = choice;
  return {
    server: kind.name,
    instance: instanceName,
    project: projectOf(project),
    instanceType: instance.type,
    instanceStatus: instance.status,
    deviceName,
    device: choice.device,
    choice: { ...rest, reason: say(rest.reason) },
    target,
    iommu,
    checkedOn: inventory?.where ?? null,
    notes: notes.map(say),
    warnings: warnings.map(say),
  };
}

const sameConfig = (a: DeviceConfig | undefined, b: DeviceConfig) => a !== undefined && Object.keys(b).every((k) => a[k] === b[k]);

/**
 * Removes `deviceName` again after a failed attach (Incus `revert`): re-reads for a fresh ETag
 * and removes the device under that name (it did not exist when the ETag-guarded write began,
 * so whatever LXD holds under it came from that write).
 */
async function revertAdd(client: LxdClient, plan: AttachPlan, project: string | undefined, cause: LxdError): Promise<never> {
  try {
    const { instance, etag } = await client.getInstance(plan.instance, project);
    if (instance.devices[plan.deviceName]) {
      const put = instancePut(instance);
      delete put.devices[plan.deviceName];
      await client.updateInstance(plan.instance, put, etag, project, 'rolling back');
    }
  } catch (error) {
    throw new LxdError(cause.doing, cause.what, cause.via, `${cause.detail}; rolling back failed too: ${(error as Error).message}`, {
      reason: 'rollback',
      status: cause.status,
      errorCode: cause.errorCode,
      leftover: [
        `device ${plan.deviceName} of instance ${plan.instance} (remove it: ${SERVERS[plan.server].cli} config device remove ${plan.instance} ${plan.deviceName}${project ? ` --project ${project}` : ''})`,
      ],
      cause,
    });
  }
  throw cause;
}

/**
 * Applies a plan: GET (ETag) -> PUT with the device added and If-Match -> re-read and verify.
 * A 412 is a `conflict` (nothing written). Any failure after the write removes what was added.
 */
export async function applyAttach(client: LxdClient, host: HostFs | undefined, plan: AttachPlan, hooks: AttachHooks = {}): Promise<AttachResult> {
  const project = plan.project === 'default' ? undefined : plan.project;
  const what = `device ${plan.deviceName} to instance ${plan.instance}${project ? ` in project ${project}` : ''}`;
  const { instance, etag } = await client.getInstance(plan.instance, project);
  if (instance.expanded_devices[plan.deviceName])
    throw new LxdError('attaching', what, client.via, `the instance already has a device named ${plan.deviceName}`, { reason: 'conflict' });
  await hooks.afterRead?.(instance);
  const put = instancePut(instance);
  put.devices[plan.deviceName] = { ...plan.device };
  try {
    await client.updateInstance(plan.instance, put, etag, project, 'attaching');
  } catch (error) {
    if (!(error instanceof LxdError)) throw error;
    const wrapped =
      error.what === what
        ? error
        : new LxdError('attaching', what, client.via, error.detail, { reason: error.reason, status: error.status, errorCode: error.errorCode, cause: error });
    if (error.reason === 'conflict' || error.reason === 'unreachable') throw wrapped; // nothing was written (or we cannot know: reported)
    // LXD reverts a failed hot-plug itself; make sure nothing of ours is left.
    return revertAdd(client, plan, project, wrapped);
  }
  const verified: string[] = [];
  try {
    const after = (await client.getInstance(plan.instance, project)).instance;
    const applied = after.devices[plan.deviceName];
    if (!sameConfig(applied, plan.device)) {
      throw new LxdError(
        'verifying',
        what,
        client.via,
        `re-reading the instance shows ${applied ? JSON.stringify(applied) : 'no such device'} instead of ${JSON.stringify(plan.device)}`,
        { reason: 'verify' },
      );
    }
    verified.push(`instance ${plan.instance} holds device ${plan.deviceName} ${JSON.stringify(applied)}`);
    if (host?.isLive && plan.checkedOn === THIS_HOST && plan.choice.iface && plan.device.nictype === 'physical' && after.status === 'Running') {
      if (host.exists(`/sys/class/net/${plan.choice.iface}`)) {
        throw new LxdError('verifying', what, client.via, `interface ${plan.choice.iface} is still on the host after the attach`, { reason: 'verify' });
      }
      verified.push(`interface ${plan.choice.iface} left the host`);
    }
    return { plan, applied: applied!, verified };
  } catch (error) {
    if (!(error instanceof LxdError)) throw error;
    return revertAdd(client, plan, project, error);
  }
}

export interface DetachRequest {
  instance: string;
  device: string;
  project?: string;
}

export interface DetachPlan {
  server: ServerName;
  instance: string;
  project: string;
  deviceName: string;
  device: DeviceConfig;
  instanceStatus: string;
}

/** Checks a detach: names, project, instance, and that the device is the instance's own (not a profile's). */
export async function planDetach(client: LxdClient, request: DetachRequest): Promise<DetachPlan> {
  const instanceName = checkInstanceName(request.instance);
  const deviceName = checkDeviceName(request.device);
  const kind = await client.serverKind();
  await checkProject(client, request.project);
  const { instance } = await client.getInstance(instanceName, request.project);
  const what = `device ${deviceName} from instance ${instanceName}${request.project ? ` in project ${request.project}` : ''}`;
  const device = instance.devices[deviceName];
  if (!device) {
    const fromProfile = instance.expanded_devices[deviceName];
    throw new LxdError(
      'detaching',
      what,
      client.via,
      fromProfile
        ? `the device comes from a profile (${instance.profiles.join(', ')}); remove it from the profile or override it`
        : `the instance has no device named ${deviceName}`,
      { reason: fromProfile ? 'preflight' : 'not-found' },
    );
  }
  return { server: kind.name, instance: instanceName, project: projectOf(request.project), deviceName, device, instanceStatus: instance.status };
}

/** GET (ETag) -> PUT without the device, If-Match -> re-read: the device must be gone. */
export async function applyDetach(client: LxdClient, plan: DetachPlan, hooks: AttachHooks = {}): Promise<{ plan: DetachPlan; verified: string[] }> {
  const project = plan.project === 'default' ? undefined : plan.project;
  const what = `device ${plan.deviceName} from instance ${plan.instance}${project ? ` in project ${project}` : ''}`;
  const { instance, etag } = await client.getInstance(plan.instance, project);
  if (!instance.devices[plan.deviceName])
    throw new LxdError('detaching', what, client.via, `the instance has no device named ${plan.deviceName} any more`, { reason: 'conflict' });
  await hooks.afterRead?.(instance);
  const put = instancePut(instance);
  delete put.devices[plan.deviceName];
  try {
    await client.updateInstance(plan.instance, put, etag, project, 'detaching');
  } catch (error) {
    if (error instanceof LxdError && error.what !== what) {
      throw new LxdError('detaching', what, client.via, error.detail, { reason: error.reason, status: error.status, errorCode: error.errorCode, cause: error });
    }
    throw error;
  }
  const after = (await client.getInstance(plan.instance, project)).instance;
  if (after.devices[plan.deviceName]) throw new LxdError('verifying', what, client.via, 'the device is still there after the write', { reason: 'verify' });
  return { plan, verified: [`instance ${plan.instance} no longer holds device ${plan.deviceName}`] };
}
