import type { CommandSpec } from '../command';
import { bindCommand } from './bind';
import { groupsCommand } from './groups';
import { attachCommand } from './attach';
import { detachCommand } from './detach';
import { doctorCommand } from './doctor';
import { auditCommand } from './audit';
import { listCommand } from './list';
import { persistCommand } from './persist';
import { restoreCommand } from './restore';
import { snapshotCommand } from './snapshot';
import { reportCommand } from './report';
import { completionCommand } from './completion';
import { exportCommand } from './export';
import { fleetCommand } from './fleet';
import { sriovCommand } from './sriov';
import { baselineCommand } from './baseline';

/** Every command of the CLI, in the order `passthru --help` lists them. */
export const commands: CommandSpec[] = [listCommand, groupsCommand, doctorCommand, bindCommand, restoreCommand, persistCommand, sriovCommand, attachCommand, detachCommand, auditCommand, fleetCommand, baselineCommand, snapshotCommand, reportCommand, exportCommand, completionCommand];
