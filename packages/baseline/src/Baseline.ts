import * as z from 'zod';

/** One PCI function as passthrough depends on it (kernel nouns verbatim). */
export const BaselineDeviceSchema = z.object({
  address: z.string(),
  vendorId: z.string(),
  deviceId: z.string(),
  subsystemVendorId: z.string().nullable(),
  subsystemDeviceId: z.string().nullable(),
  class: z.string(),
  isBridge: z.boolean(),
  driver: z.string().nullable(),
  iommuGroup: z.number().int().nullable(),
  /** reset_method as read (null: the file is absent). */
  resetMethods: z.array(z.string()).nullable(),
  /** The PF of a VF. */
  physfn: z.string().nullable(),
  link: z.object({ speed: z.string().nullable(), width: z.number().int().nullable() }).nullable(),
});
export type BaselineDevice = z.infer<typeof BaselineDeviceSchema>;

/** A record of everything passthrough depends on, taken by `passthru baseline save`. */
export const BaselineSchema = z.object({
  schemaVersion: z.literal(1),
  kernel: z.object({ release: z.string().nullable(), cmdline: z.string().nullable() }),
  firmware: z.object({ board: z.string().nullable(), bios: z.string().nullable() }),
  devices: z.array(BaselineDeviceSchema),
  groups: z.array(z.object({ id: z.number().int(), devices: z.array(z.string()) })),
});
export type Baseline = z.infer<typeof BaselineSchema>;

export const BaselineChangeSchema = z.object({
  kind: z.enum([
    'device-gone',
    'device-renumbered',
    'identity-changed',
    'device-new',
    'group-members-changed',
    'group-renumbered',
    'driver-changed',
    'reset-changed',
    'link-changed',
    'kernel-changed',
    'cmdline-changed',
    'firmware-changed',
  ]),
  /** The address in the baseline (null: a host-wide change). */
  address: z.string().nullable(),
  /** True when the change breaks a binding or a VM's device. */
  breaking: z.boolean(),
  summary: z.string(),
});
export type BaselineChange = z.infer<typeof BaselineChangeSchema>;

export const BaselineDiffSchema = z.object({ breaking: z.boolean(), changes: z.array(BaselineChangeSchema) });
export type BaselineDiff = z.infer<typeof BaselineDiffSchema>;
