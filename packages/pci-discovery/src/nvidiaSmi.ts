// nvidia-smi, the one interface to what NVIDIA's driver does not put in sysfs: the MIG mode,
// the GPU instances (GIs) and compute instances (CIs), and the MIG devices' UUIDs (what LXD's
// `mig.uuid` names). Parsers are pure functions of the text; the process is injected (a live
// host runs the binary, when there is one); a fixture tree holds each command's captured output.
import { HostFsError, type HostFs } from '@passthru/hostfs';
import { normalizePciAddress } from './pciAddress';
import type { PciDevice } from './PciDevice';

/** The commands read, and the file of a fixture tree that holds each one's captured output. */
export const NVIDIA_SMI_COMMANDS = {
  list: { args: ['-L'], capture: 'L.txt' },
  gpuInstances: { args: ['mig', '-lgi'], capture: 'mig-lgi.txt' },
  computeInstances: { args: ['mig', '-lci'], capture: 'mig-lci.txt' },
  migMode: { args: ['--query-gpu=pci.bus_id,mig.mode.current', '--format=csv,noheader'], capture: 'query-gpu.csv' },
} as const;
/** Where a fixture tree (`--root`) keeps nvidia-smi's captured output: passthru never runs a binary for a tree. */
export const NVIDIA_SMI_CAPTURES = '/var/lib/passthru/captured/nvidia-smi';

/** Runs `nvidia-smi ARGS`: its stdout, or null when it cannot run or fails (no GPU, no permission, a timeout). */
export type NvidiaSmiRunner = (args: readonly string[]) => Promise<string | null>;

export interface SmiMigDevice {
  /** `Device N` of `nvidia-smi -L`: the MIG device's index on its GPU. */
  index: number;
  profile: string;
  uuid: string;
  /** Drivers before R470 name a MIG device `MIG-GPU-<uuid>/<gi>/<ci>`: its GI and CI are in its name. */
  gi: number | null;
  ci: number | null;
}
export interface SmiGpu {
  index: number;
  name: string;
  uuid: string;
  migDevices: SmiMigDevice[];
}
export interface SmiGpuInstance {
  gpu: number;
  profile: string;
  profileId: number;
  gi: number;
  placement: string | null;
}
export interface SmiComputeInstance {
  gpu: number;
  gi: number;
  profile: string;
  profileId: number;
  ci: number;
  placement: string | null;
}

/** What nvidia-smi said (each part empty when its command could not run). */
export interface NvidiaSmiOutput {
  gpus: SmiGpu[];
  gpuInstances: SmiGpuInstance[];
  computeInstances: SmiComputeInstance[];
  /** mig.mode.current by PCI address: null for a GPU without MIG (`[N/A]`). */
  migMode: Map<string, 'enabled' | 'disabled' | null>;
  /** Where it came from: `nvidia-smi` on this host, or the captured files of a tree. */
  source: string;
}

/**
 * `nvidia-smi -L`: `GPU 0: NAME (UUID: GPU-...)`, each followed by its `  MIG 3g.20gb Device 0: (UUID: MIG-...)`
 * lines. Other lines (`No devices were found`, a driver's warning) carry nothing and are skipped, as in every parser here.
 */
export function parseNvidiaSmiList(text: string): SmiGpu[] {
  const gpus: SmiGpu[] = [];
  for (const line of text.split('\n')) {
    const gpu = /^GPU (\d+): (.*?) \(UUID: (GPU-[0-9a-fA-F-]+)\)\s*$/.exec(line);
    if (gpu) {
      gpus.push({ index: Number(gpu[1]), name: gpu[2]!, uuid: gpu[3]!, migDevices: [] });
      continue;
    }
    const mig = /^\s+MIG (\S+)\s+Device\s+(\d+): \(UUID: (MIG-[^)\s]+)\)\s*$/.exec(line);
    if (mig && gpus.length > 0) {
      const old = /^MIG-GPU-[0-9a-fA-F-]+\/(\d+)\/(\d+)$/.exec(mig[3]!);
      gpus.at(-1)!.migDevices.push({
        index: Number(mig[2]),
        profile: mig[1]!,
        uuid: mig[3]!,
        gi: old ? Number(old[1]) : null,
        ci: old ? Number(old[2]) : null,
      });
    }
  }
  return gpus;
}

/** The data rows of an nvidia-smi box table (`|   0  MIG 1g.5gb  19  7  4:1  |`), split on runs of blanks. */
function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .map((l) => /^\|\s*(\d+\s+.*?)\s*\|\s*$/.exec(l)?.[1])
    .filter((row): row is string => row !== undefined)
    .map((row) => row.split(/\s+/));
}

/** `nvidia-smi mig -lgi`: GPU, `MIG <profile>`, profile ID, instance ID, placement (absent on old drivers). */
export function parseMigGpuInstances(text: string): SmiGpuInstance[] {
  return tableRows(text).flatMap((c) => {
    if (c[1] !== 'MIG' || c.length < 5) return [];
    return [{ gpu: Number(c[0]), profile: c[2]!, profileId: Number(c[3]), gi: Number(c[4]), placement: c[5] ?? null }];
  });
}

/** `nvidia-smi mig -lci`: GPU, GPU instance ID, `MIG <profile>`, profile ID, instance ID, placement. */
export function parseMigComputeInstances(text: string): SmiComputeInstance[] {
  return tableRows(text).flatMap((c) => {
    if (c[2] !== 'MIG' || c.length < 6) return [];
    return [{ gpu: Number(c[0]), gi: Number(c[1]), profile: c[3]!, profileId: Number(c[4]), ci: Number(c[5]), placement: c[6] ?? null }];
  });
}

/** `--query-gpu=pci.bus_id,mig.mode.current --format=csv,noheader`: `00000000:41:00.0, Enabled` (an 8-digit domain). */
export function parseMigModes(text: string): Map<string, 'enabled' | 'disabled' | null> {
  const modes = new Map<string, 'enabled' | 'disabled' | null>();
  for (const line of text.split('\n').filter((l) => l.trim())) {
    const [bus, mode] = line.split(',').map((s) => s.trim());
    const address = normalizePciAddress((bus ?? '').toLowerCase().replace(/^0{4}([0-9a-f]{4}:)/, '$1'));
    if (address) modes.set(address, mode === 'Enabled' ? 'enabled' : mode === 'Disabled' ? 'disabled' : null);
  }
  return modes;
}

const PARSERS = {
  list: parseNvidiaSmiList,
  gpuInstances: parseMigGpuInstances,
  computeInstances: parseMigComputeInstances,
  migMode: parseMigModes,
} as const;

/**
 * nvidia-smi's view of this host, or null when there is none to ask: on a fixture tree the
 * captured files under NVIDIA_SMI_CAPTURES (no binary is ever run for a tree); on a live host
 * `runner`, only when a GPU is on the `nvidia` driver (a host without one never spawns it).
 * A command that cannot run leaves its part empty.
 */
export async function readNvidiaSmi(host: HostFs, devices: readonly PciDevice[], runner?: NvidiaSmiRunner): Promise<NvidiaSmiOutput | null> {
  const texts = new Map<keyof typeof NVIDIA_SMI_COMMANDS, string>();
  let source: string;
  if (!host.isLive) {
    source = `${NVIDIA_SMI_CAPTURES} (captured)`;
    for (const [key, command] of Object.entries(NVIDIA_SMI_COMMANDS) as [
      keyof typeof NVIDIA_SMI_COMMANDS,
      (typeof NVIDIA_SMI_COMMANDS)[keyof typeof NVIDIA_SMI_COMMANDS],
    ][]) {
      try {
        const text = host.readTextIfExists(`${NVIDIA_SMI_CAPTURES}/${command.capture}`);
        if (text !== undefined) texts.set(key, text);
      } catch (error) {
        if (!(error instanceof HostFsError)) throw error;
      }
    }
  } else {
    if (!runner || !devices.some((d) => d.driver === 'nvidia' && d.class.startsWith('03'))) return null;
    source = 'nvidia-smi';
    const keys = Object.keys(NVIDIA_SMI_COMMANDS) as (keyof typeof NVIDIA_SMI_COMMANDS)[];
    const outputs = await Promise.all(keys.map((key) => runner(NVIDIA_SMI_COMMANDS[key].args)));
    keys.forEach((key, i) => {
      if (outputs[i] !== null && outputs[i] !== undefined) texts.set(key, outputs[i]!);
    });
  }
  if (texts.size === 0) return null;
  return {
    gpus: texts.has('list') ? PARSERS.list(texts.get('list')!) : [],
    gpuInstances: texts.has('gpuInstances') ? PARSERS.gpuInstances(texts.get('gpuInstances')!) : [],
    computeInstances: texts.has('computeInstances') ? PARSERS.computeInstances(texts.get('computeInstances')!) : [],
    migMode: texts.has('migMode') ? PARSERS.migMode(texts.get('migMode')!) : new Map(),
    source,
  };
}
