import { DoctorReportSchema } from '@passthru/iommu-check';
import { AddressSchema as Address } from '@passthru/vfio-binder';
import * as z from 'zod';
import { SchemaVersion } from '../../render/schema';
import { READINESS } from '../report/schema';

export const DoctorOutputSchema = DoctorReportSchema.omit({ examined: true }).extend({
  schemaVersion: SchemaVersion,
  devices: z
    .array(z.object({ address: Address, status: z.enum(READINESS), summary: z.string() }))
    .optional()
    .describe("With --device: each asked device's readiness, the same report, export and fleet give"),
});
