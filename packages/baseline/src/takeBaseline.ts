import { readInputFile, writeOutputFile, type HostFs } from '@passthru/hostfs';
import { runChecks } from '@passthru/iommu-check';
import { compareAddresses, readIommuGroups, type PciScan } from '@passthru/pci-discovery';
import { BaselineSchema, type Baseline } from './Baseline';
import { BaselineError } from './BaselineError';

/** The baseline of a host: devices with identities, groups, drivers, reset methods, kernel and firmware. */
export function takeBaseline(host: HostFs, scan: PciScan): Baseline {
  const report = runChecks(host, { scan });
  let cmdline: string | null = null;
  try {
    cmdline = host.readTextIfExists('/proc/cmdline')?.trim() ?? null;
  } catch {
    cmdline = null;
  }
  const devices = [...scan.devices].sort((a, b) => compareAddresses(a.address, b.address));
  return BaselineSchema.parse({
    schemaVersion: 1,
    kernel: { release: report.host.kernelRelease ?? null, cmdline },
    firmware: { board: report.host.board ?? null, bios: report.host.bios ?? null },
    devices: devices.map((d) => ({
      address: d.address,
      vendorId: d.vendorId,
      deviceId: d.deviceId,
      subsystemVendorId: d.subsystemVendorId,
      subsystemDeviceId: d.subsystemDeviceId,
      class: d.class,
      isBridge: d.isBridge,
      driver: d.driver,
      iommuGroup: d.iommuGroup,
      resetMethods: d.resetMethods,
      physfn: d.sriov?.role === 'vf' ? d.sriov.physfn : null,
      link: d.link ? { speed: d.link.speed, width: d.link.width } : null,
    })),
    groups: readIommuGroups(host, scan.devices).map((g) => ({ id: g.id, devices: [...g.devices].sort(compareAddresses) })),
  });
}

/** Reads and validates a baseline file (BaselineError `usage` when it cannot be read or is not one). */
export function readBaselineFile(file: string): Baseline {
  let text: string;
  try {
    // A regular file of at most 64 MiB, read without blocking: a FIFO or /dev/zero is refused at once.
    text = readInputFile(file, 64 * 1024 * 1024).toString('utf8');
  } catch (error) {
    throw new BaselineError('bad-input', `Failed reading the baseline via ${file}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new BaselineError('bad-input', `Failed reading the baseline via ${file}: not JSON (${(error as Error).message})`, { cause: error });
  }
  const parsed = BaselineSchema.safeParse(json);
  if (!parsed.success)
    throw new BaselineError(
      'bad-input',
      `Failed reading the baseline via ${file}: not a passthru baseline (${parsed.error.issues
        .map((i) => `${i.path.join('.') || '(value)'} ${i.message}`)
        .slice(0, 3)
        .join('; ')})`,
    );
  return parsed.data;
}

/** Writes a baseline file with hostfs's one output writer; a target that is not a regular file is bad input (`usage`), nothing written. */
export function writeBaselineFile(file: string, baseline: Baseline): void {
  try {
    writeOutputFile(file, `${JSON.stringify(baseline, null, 2)}\n`);
  } catch (error) {
    const refused = (error as { refused?: boolean }).refused === true;
    throw new BaselineError(refused ? 'bad-input' : 'failed', `Failed writing the baseline via ${file}: ${(error as Error).message}`, { cause: error });
  }
}
