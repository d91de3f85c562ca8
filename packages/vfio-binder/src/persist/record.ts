/**
 * The persist record (/var/lib/passthru/persist.json): the identity of each device `persist`
 * wrote into the boot configuration, so that a later bind or persist refuses an address that
 * now names another device (renumbering after a hardware change).
 */
import type { HostFs } from '@passthru/hostfs';
import { DeviceIdentitySchema, identityMismatch, type PciDevice } from '@passthru/pci-discovery';
import * as z from 'zod';
import { VfioBinderError } from '../VfioBinderError';

export const PERSIST_RECORD = '/var/lib/passthru/persist.json';

export const PersistRecordSchema = z.object({
  schemaVersion: z.literal(1),
  devices: z.array(z.object({ address: z.string(), identity: DeviceIdentitySchema })),
});

/** The recorded identity of persisted devices: a later run refuses an address that now names another device. */
export function readPersistRecord(host: HostFs): z.infer<typeof PersistRecordSchema> {
  const text = host.readTextIfExists(PERSIST_RECORD);
  if (text === undefined) return { schemaVersion: 1, devices: [] };
  // A corrupt record is bad input (exit 2): nothing is planned or written on top of it.
  const corrupt = (detail: string, cause?: unknown) =>
    new VfioBinderError('bad-input', `Failed reading the persist record via ${PERSIST_RECORD}: ${detail}; move it aside (the next persist writes a new one)`, {
      cause,
    });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw corrupt((error as Error).message, error);
  }
  const parsed = PersistRecordSchema.safeParse(json);
  if (!parsed.success)
    throw corrupt(`unexpected content (${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')})`, parsed.error);
  return parsed.data;
}

/** Addresses recorded by `persist` whose device changed since (renumbering after hardware changes). */
export function renumberedDevices(host: HostFs, devices: PciDevice[]): Array<{ address: string; changes: string[] }> {
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  return readPersistRecord(host).devices.flatMap((r) => {
    const now = byAddress.get(r.address);
    const changes = now ? identityMismatch(r.identity, now) : [];
    return changes.length ? [{ address: r.address, changes }] : [];
  });
}

/**
 * Refuses (kind `refused`, nothing written) a bind or persist touching an address that persist
 * recorded for another device: after a hardware change the boot configuration would claim the
 * wrong one.
 */
export function refuseRenumbered(host: HostFs, devices: PciDevice[], addresses: ReadonlySet<string>, doing: 'bind' | 'persist'): void {
  const renumbered = renumberedDevices(host, devices)
    .filter((r) => addresses.has(r.address))
    .map((r) => `${r.address}: ${r.changes.join('; ')}`);
  if (renumbered.length === 0) return;
  const detail = doing === 'bind' ? 'than persist recorded' : '';
  const fix = doing === 'persist' ? `; check the hardware, then remove ${PERSIST_RECORD}` : '';
  throw new VfioBinderError(
    'refused',
    `Failed planning ${doing}: the address now names another device${detail ? ` ${detail}` : ''} (${renumbered.join(', ')})${fix}`,
  );
}
