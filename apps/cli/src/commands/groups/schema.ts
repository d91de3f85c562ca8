import { IommuGroupSchema, PlatformFunctionSchema, ScanProblemSchema } from '@passthru/pci-discovery';
import { AddressSchema as Address, DeviceOwnerSchema } from '@passthru/vfio-binder';
import * as z from 'zod';
import { SchemaVersion } from '../../render/schema';

export const GroupsOutputSchema = z.object({
  schemaVersion: SchemaVersion,
  root: z.string(),
  /** `platformFunctions` non-empty: the group is not passable (bind refuses it, --force too). */
  groups: z.array(
    IommuGroupSchema.extend({
      owners: z.record(Address, DeviceOwnerSchema).describe('The members someone holds, by address (absent: nobody but their driver)'),
      platformFunctions: z.array(PlatformFunctionSchema),
    }),
  ),
  ungrouped: z.array(Address),
  problems: z.array(ScanProblemSchema),
});
