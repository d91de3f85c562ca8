/**
 * What every JSON output shares (docs/architecture.md: JSON output is the domain object with
 * `schemaVersion`; its JSON Schema is generated from the zod schemas and committed). Each
 * command's own schema is in its folder (`commands/<name>/schema.ts`); `commands/outputs.ts`
 * lists them all. Only tests and tools/gen-schemas.ts load schemas: no command does at run time.
 */
import { DeviceOwnerSchema } from '@passthru/vfio-binder';
import * as z from 'zod';

export const SchemaVersion = z.literal(1).describe('Version of this document; bumped on a breaking change.');

/** Who holds each device (null: nobody but its driver); read from the journal, libvirt, driverctl, driver_override. */
export const OwnerField = DeviceOwnerSchema.nullable();
