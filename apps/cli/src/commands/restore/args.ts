import { CliError } from '../../CliError';

export interface RestoreOptions {
  all?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  unrecorded?: boolean;
  repairJournal?: boolean;
  splitGroup?: boolean;
}

/** TARGETs and --all, --unrecorded, --split-group that do not go together: bad input (exit 2), nothing read or written. */
export function checkRestoreArgs(options: RestoreOptions, args: string[]): void {
  if (!options.all && args.length === 0) throw new CliError('restore needs a TARGET or --all');
  if (options.all && args.length > 0) throw new CliError('restore takes TARGETs or --all, not both');
  if (options.unrecorded && !options.all) throw new CliError('restore --unrecorded needs --all');
  if (options.all && options.splitGroup) throw new CliError('--split-group applies to TARGETs, not to --all');
}
