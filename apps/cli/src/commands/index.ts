import type { CommandSpec } from '../command';

/**
 * Every command of the CLI, in the order `passthru --help` lists them, each loaded on demand:
 * a run loads only the command it runs (and what that imports), so `passthru list` does not
 * pay for LXD, the report page or the exporters at start-up.
 */
export const COMMANDS: ReadonlyArray<{ name: string; load: () => Promise<CommandSpec>; writesSysfs?: true | ((argv: readonly string[]) => boolean) }> = [
  { name: 'list', load: async () => (await import('./list/list')).listCommand },
  { name: 'groups', load: async () => (await import('./groups/groups')).groupsCommand },
  // doctor --device reads each asked device's option ROM, which takes the kernel's enable write.
  {
    name: 'doctor',
    writesSysfs: (argv) => argv.some((a) => a === '--device' || a.startsWith('--device=')),
    load: async () => (await import('./doctor/doctor')).doctorCommand,
  },
  { name: 'bind', writesSysfs: true, load: async () => (await import('./bind/bind')).bindCommand },
  { name: 'restore', writesSysfs: true, load: async () => (await import('./restore/restore')).restoreCommand },
  { name: 'persist', writesSysfs: true, load: async () => (await import('./persist/persist')).persistCommand },
  { name: 'sriov', writesSysfs: true, load: async () => (await import('./sriov/sriov')).sriovCommand },
  { name: 'attach', load: async () => (await import('./attach/attach')).attachCommand },
  { name: 'detach', load: async () => (await import('./detach/detach')).detachCommand },
  { name: 'audit', load: async () => (await import('./audit/audit')).auditCommand },
  { name: 'tune', load: async () => (await import('./tune/tune')).tuneCommand },
  { name: 'fleet', load: async () => (await import('./fleet/fleet')).fleetCommand },
  { name: 'baseline', load: async () => (await import('./baseline/baseline')).baselineCommand },
  { name: 'snapshot', load: async () => (await import('./snapshot/snapshot')).snapshotCommand },
  { name: 'rom', writesSysfs: true, load: async () => (await import('./rom/rom')).romCommand },
  { name: 'report', load: async () => (await import('./report/report')).reportCommand },
  { name: 'export', load: async () => (await import('./export/export')).exportCommand },
  { name: 'completion', load: async () => (await import('./completion/completion')).completionCommand },
];

/** Options of the program itself that take a value (`--root DIR`): skipped to find the command. */
const GLOBAL_VALUE_OPTIONS = new Set(['--root', '--pci-ids', '--format']);

/**
 * The command argv names, or undefined for anything else (no command, --help, a typo):
 * then every command is loaded and commander answers as it always has.
 */
export function commandNameOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return undefined;
    if (GLOBAL_VALUE_OPTIONS.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    return COMMANDS.some((c) => c.name === arg) && arg !== 'completion' ? arg : undefined;
  }
  return undefined;
}

/** Whether the command argv names writes kernel attributes (on a fixture: the simulated kernel's). */
export function writesSysfs(argv: readonly string[]): boolean {
  const name = commandNameOf(argv);
  return COMMANDS.some((c) => c.name === name && (c.writesSysfs === true || c.writesSysfs?.(argv) === true));
}

/** The commands a run of `argv` needs: the one it names, or all of them (help, completion, typos). */
export async function loadCommands(argv: readonly string[] = []): Promise<CommandSpec[]> {
  const name = commandNameOf(argv);
  // `passthru --version` needs no command at all.
  if (name === undefined && argv.length === 1 && (argv[0] === '-V' || argv[0] === '--version')) return [];
  const wanted = name === undefined ? COMMANDS : COMMANDS.filter((c) => c.name === name);
  return Promise.all(wanted.map((c) => c.load()));
}
