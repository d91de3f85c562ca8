import { LxcAuditReportSchema } from '@passthru/lxd-device-attach';
import * as z from 'zod';
import { SchemaVersion } from '../../render/schema';

/** `passthru audit --lxc --format json`: each plain LXC container or Proxmox VE config with its findings (file and line). */
export const LxcAuditOutputSchema = z.object({ schemaVersion: SchemaVersion }).extend(LxcAuditReportSchema.shape);
