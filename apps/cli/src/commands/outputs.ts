/**
 * The JSON contract of the CLI: one zod schema per JSON output, each in its command's folder.
 * tools/gen-schemas.ts writes docs/schemas/*.json from OUTPUT_SCHEMAS; a test keeps the committed
 * files equal to these and validates real CLI output against them.
 */
import { FleetStatusSchema } from '@passthru/fleet';
import { AuditReportSchema } from '@passthru/lxd-device-attach';
import * as z from 'zod';
import { SchemaVersion } from '../render/schema';
import { LxcEditOutputSchema } from './attach/schema';
import { LxcAuditOutputSchema } from './audit/schema';
import { BaselineDiffOutputSchema, BaselineSaveOutputSchema } from './baseline/schema';
import { BindOutputSchema } from './bind/schema';
import { DoctorOutputSchema } from './doctor/schema';
import { GroupsOutputSchema } from './groups/schema';
import { ListOutputSchema } from './list/schema';
import { PersistOutputSchema } from './persist/schema';
import { ReportSchema } from './report/schema';
import { RestoreOutputSchema } from './restore/schema';
import { RomOutputSchema } from './rom/schema';
import { SnapshotOutputSchema } from './snapshot/schema';
import { SriovOutputSchema } from './sriov/schema';
import { TuneOutputSchema } from './tune/schema';

/** Every JSON output, by the file name under docs/schemas (`<name>.schema.json`). */
export const OUTPUT_SCHEMAS = {
  list: { schema: ListOutputSchema, title: 'passthru list --format json' },
  groups: { schema: GroupsOutputSchema, title: 'passthru groups --format json' },
  doctor: { schema: DoctorOutputSchema, title: 'passthru doctor --format json' },
  bind: { schema: BindOutputSchema, title: 'passthru bind --format json (with --dry-run: the plan; else: the result)' },
  restore: { schema: RestoreOutputSchema, title: 'passthru restore --format json (with --dry-run: the plan; else: the result)' },
  persist: { schema: PersistOutputSchema, title: 'passthru persist --dry-run --format json' },
  sriov: { schema: SriovOutputSchema, title: 'passthru sriov --format json (with --dry-run or when refused: the plan; else: the result)' },
  'baseline-save': { schema: BaselineSaveOutputSchema, title: 'passthru baseline save --format json' },
  'baseline-diff': { schema: BaselineDiffOutputSchema, title: 'passthru baseline diff --format json (every change, and whether one breaks passthrough)' },
  report: { schema: ReportSchema, title: 'passthru report --format json (also embedded in the HTML report)' },
  snapshot: { schema: SnapshotOutputSchema, title: 'passthru snapshot --format json' },
  rom: { schema: RomOutputSchema, title: 'passthru rom show|dump --format json' },
  audit: { schema: z.object({ schemaVersion: SchemaVersion }).extend(AuditReportSchema.shape), title: 'passthru audit --format json' },
  'audit-lxc': { schema: LxcAuditOutputSchema, title: 'passthru audit --lxc --format json' },
  'lxc-edit': { schema: LxcEditOutputSchema, title: 'passthru attach --lxc | detach --lxc --format json (with --dry-run: the plan only)' },
  'fleet-status': { schema: FleetStatusSchema, title: 'passthru fleet status --format json' },
  tune: { schema: TuneOutputSchema, title: 'passthru tune --format json' },
} as const;

/** The JSON Schema (draft 2020-12) of one output, with an $id under docs/schemas. */
export function jsonSchemaOf(name: keyof typeof OUTPUT_SCHEMAS): Record<string, unknown> {
  const { schema, title } = OUTPUT_SCHEMAS[name];
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'throw' }) as Record<string, unknown>;
  const { $schema, ...rest } = json;
  return { $schema, $id: `https://passthru.invalid/docs/schemas/${name}.schema.json`, title, ...rest };
}

export { BaselineDiffOutputSchema, BaselineSaveOutputSchema, BindOutputSchema, DoctorOutputSchema, GroupsOutputSchema, ListOutputSchema };
export { PersistOutputSchema, ReportSchema, RestoreOutputSchema, RomOutputSchema, SnapshotOutputSchema, SriovOutputSchema, TuneOutputSchema };
