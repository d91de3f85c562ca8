// NVIDIA Multi-Instance GPU, as LXD's `gputype=mig` needs it. The driver's procfs names each GPU
// by its device minor (/proc/driver/nvidia/gpus/<address>/information: `Device Minor`, `GPU
// UUID`) and shows each compute instance as /proc/driver/nvidia/capabilities/gpu<minor>/mig/
// gi<GI>/ci<CI>/access (what LXD checks for `mig.gi`/`mig.ci` at start). nvidia-smi adds the
// mode, the profiles and the MIG device UUIDs (`mig.uuid`, drivers 470+); its GPU index is
// matched to the PCI address through the GPU UUID both show.
import { HostFsError, type HostFs } from '@passthru/hostfs';
import type * as z from 'zod';
import type { NvidiaSmiOutput, SmiMigDevice } from './nvidiaSmi';
import type { MigSchema } from './schemas';

/** The MIG state of an NVIDIA GPU: its mode, GPU and compute instances, MIG devices (readNvidiaMig). */
export type Mig = z.infer<typeof MigSchema>;

export const NVIDIA_PROC = '/proc/driver/nvidia';

const read = (host: HostFs, file: string) => {
  try {
    return host.readTextIfExists(file);
  } catch (error) {
    if (error instanceof HostFsError) return undefined;
    throw error;
  }
};
const list = (host: HostFs, dir: string) => {
  try {
    return host.list(dir);
  } catch (error) {
    if (error instanceof HostFsError) return [];
    throw error;
  }
};
const numbered = (names: string[], prefix: string) =>
  names
    .map((n) => new RegExp(`^${prefix}(\\d+)$`).exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);

/** `Device Minor: 0` and `GPU UUID: GPU-...` of /proc/driver/nvidia/gpus/<address>/information. */
export function parseGpuInformation(text: string): { minor: number | null; uuid: string | null } {
  const minor = /^Device Minor:\s*(\d+)\s*$/m.exec(text)?.[1];
  return { minor: minor === undefined ? null : Number(minor), uuid: /^GPU UUID:\s*(GPU-[0-9a-fA-F-]+)\s*$/m.exec(text)?.[1] ?? null };
}

/** The MIG state of the NVIDIA GPU at `address`, or null when nothing says it has MIG. */
export function readNvidiaMig(host: HostFs, address: string, smi: NvidiaSmiOutput | null): Mig | null {
  const info = read(host, `${NVIDIA_PROC}/gpus/${address}/information`);
  const { minor, uuid } = info === undefined ? { minor: null, uuid: null } : parseGpuInformation(info);
  const sources: string[] = [];
  const cis = new Map<string, Mig['computeInstances'][number]>();
  const gis = new Map<number, Mig['gpuInstances'][number]>();
  if (minor !== null) {
    const migDir = `${NVIDIA_PROC}/capabilities/gpu${minor}/mig`;
    for (const gi of numbered(list(host, migDir), 'gi')) {
      gis.set(gi, { gi, profile: null, profileId: null, placement: null });
      for (const ci of numbered(list(host, `${migDir}/gi${gi}`), 'ci'))
        if (read(host, `${migDir}/gi${gi}/ci${ci}/access`) !== undefined) cis.set(`${gi}/${ci}`, { gi, ci, profile: null, uuid: null });
    }
    if (info !== undefined) sources.push('procfs');
  }
  const gpu = uuid && smi ? smi.gpus.find((g) => g.uuid.toLowerCase() === uuid.toLowerCase()) : undefined;
  let devices: SmiMigDevice[] = [];
  if (smi && gpu) {
    sources.push(smi.source);
    for (const r of smi.gpuInstances.filter((r) => r.gpu === gpu.index))
      gis.set(r.gi, { gi: r.gi, profile: r.profile, profileId: r.profileId, placement: r.placement });
    for (const r of smi.computeInstances.filter((r) => r.gpu === gpu.index)) cis.set(`${r.gi}/${r.ci}`, { gi: r.gi, ci: r.ci, profile: r.profile, uuid: null });
    devices = gpu.migDevices;
  }
  const computeInstances = [...cis.values()].sort((a, b) => a.gi - b.gi || a.ci - b.ci);
  linkUuids(computeInstances, devices);
  const smiMode = smi?.migMode.get(address);
  const mode = smiMode ?? (gis.size > 0 ? 'enabled' : null);
  if (mode === null && computeInstances.length === 0 && devices.length === 0) return null;
  return {
    mode,
    minor,
    gpuUuid: uuid ?? gpu?.uuid ?? null,
    gpuInstances: [...gis.values()].sort((a, b) => a.gi - b.gi),
    computeInstances,
    devices: devices.map((d) => ({ index: d.index, profile: d.profile, uuid: d.uuid })),
    sources,
  };
}

/**
 * Gives each compute instance its MIG device's UUID where that is certain: a pre-470 UUID names
 * its GI and CI; otherwise a profile that exactly one CI and exactly one MIG device of the GPU
 * have. (`nvidia-smi -L` numbers MIG devices without saying which GI and CI each one is.)
 */
function linkUuids(cis: Mig['computeInstances'], devices: SmiMigDevice[]): void {
  for (const d of devices) {
    const ci = d.gi !== null ? cis.find((c) => c.gi === d.gi && c.ci === d.ci) : undefined;
    if (ci) ci.uuid = d.uuid;
  }
  for (const d of devices.filter((x) => x.gi === null)) {
    const same = cis.filter((c) => c.profile === d.profile);
    if (same.length === 1 && devices.filter((x) => x.profile === d.profile).length === 1) same[0]!.uuid = d.uuid;
  }
}
