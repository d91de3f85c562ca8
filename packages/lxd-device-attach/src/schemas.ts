import * as z from 'zod';

/** LXD answers every request with one of three envelopes (doc/rest-api.md "Return values"). */
export const SyncEnvelopeSchema = z.looseObject({
  type: z.literal('sync'),
  status: z.string(),
  status_code: z.number().int(),
  metadata: z.unknown(),
});

export const AsyncEnvelopeSchema = z.looseObject({
  type: z.literal('async'),
  status: z.string(),
  status_code: z.number().int(),
  /** "/1.0/operations/<uuid>" */
  operation: z.string().min(1),
  metadata: z.unknown(),
});

export const ErrorEnvelopeSchema = z.looseObject({
  type: z.literal('error'),
  error: z.string(),
  error_code: z.number().int(),
  metadata: z.unknown().optional(),
});

export const EnvelopeSchema = z.discriminatedUnion('type', [SyncEnvelopeSchema, AsyncEnvelopeSchema, ErrorEnvelopeSchema]);
export type Envelope = z.infer<typeof EnvelopeSchema>;

/** An operation (background task); `status_code` 200 = Success, 400 = Failure, 401 = Cancelled. */
export const OperationSchema = z.looseObject({
  id: z.string(),
  class: z.string().optional(),
  description: z.string().optional(),
  status: z.string(),
  status_code: z.number().int(),
  err: z.string().optional().default(''),
  metadata: z.unknown().optional(),
});
export type Operation = z.infer<typeof OperationSchema>;

/** Device config: LXD keeps every value as a string. */
export const DeviceConfigSchema = z.record(z.string(), z.string());
export type DeviceConfig = z.infer<typeof DeviceConfigSchema>;
export const DevicesSchema = z.record(z.string(), DeviceConfigSchema);
export type Devices = z.infer<typeof DevicesSchema>;

export const InstanceTypeSchema = z.enum(['container', 'virtual-machine']);
export type InstanceType = z.infer<typeof InstanceTypeSchema>;

export const InstanceSchema = z.looseObject({
  name: z.string(),
  type: InstanceTypeSchema,
  status: z.string(),
  status_code: z.number().int().optional(),
  project: z.string().optional(),
  /** The cluster member it lives on (`none` on a server that is no cluster). */
  location: z.string().optional(),
  architecture: z.string(),
  config: z.record(z.string(), z.string()),
  devices: DevicesSchema,
  profiles: z.array(z.string()),
  ephemeral: z.boolean(),
  stateful: z.boolean().optional(),
  description: z.string().optional().default(''),
  expanded_config: z.record(z.string(), z.string()).optional().default({}),
  expanded_devices: DevicesSchema.optional().default({}),
});
export type Instance = z.infer<typeof InstanceSchema>;

/** The writable part of an instance (PUT /1.0/instances/<name>); `restore` is never sent. */
export interface InstancePut {
  architecture: string;
  config: Record<string, string>;
  devices: Devices;
  profiles: string[];
  ephemeral: boolean;
  stateful?: boolean;
  description: string;
}

export function instancePut(instance: Instance): InstancePut {
  return {
    architecture: instance.architecture,
    config: { ...instance.config },
    devices: structuredClone(instance.devices),
    profiles: [...instance.profiles],
    ephemeral: instance.ephemeral,
    ...(instance.stateful === undefined ? {} : { stateful: instance.stateful }),
    description: instance.description,
  };
}

export const ProjectSchema = z.looseObject({
  name: z.string(),
  description: z.string().optional().default(''),
  config: z.record(z.string(), z.string()).optional().default({}),
  used_by: z.array(z.string()).nullable().optional(),
});
export type Project = z.infer<typeof ProjectSchema>;

export const CertificateSchema = z.looseObject({
  name: z.string().optional().default(''),
  type: z.string().optional().default('client'),
  fingerprint: z.string().optional().default(''),
  restricted: z.boolean().optional().default(false),
  projects: z.array(z.string()).nullable().optional(),
});
export type Certificate = z.infer<typeof CertificateSchema>;

/**
 * GET /1.0. `config` is the daemon's own configuration (only for trusted clients); LXD shows a set
 * core.trust_password as the boolean true (never the password), so values are kept as strings.
 */
export const ServerSchema = z.looseObject({
  config: z
    .record(z.string(), z.union([z.string(), z.boolean(), z.number()]))
    .optional()
    .default({})
    .transform((c) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, String(v)]))),
  api_version: z.string().optional(),
  api_extensions: z.array(z.string()).optional().default([]),
  auth: z.string().optional(),
  environment: z.looseObject({ server_version: z.string().optional(), server_name: z.string().optional() }).optional(),
});
export type Server = z.infer<typeof ServerSchema>;

/** GET /1.0/networks?recursion=1 (only what the audit reads). */
export const NetworkSchema = z.looseObject({
  name: z.string(),
  type: z.string().optional().default(''),
  managed: z.boolean().optional().default(false),
});
export type Network = z.infer<typeof NetworkSchema>;
