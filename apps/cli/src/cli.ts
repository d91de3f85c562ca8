import { Command, CommanderError, Option } from 'commander';
import { EXIT, toCliError } from './CliError';
import type { CommandAction } from './command';
import { loadCommands, writesSysfs } from './commands/index';
import type { CommandSpec } from './command';
import { createContext, type CliIo, type GlobalOptions, type KernelFactory, type OutputFormat } from './context';
import { printable } from './render/output';
import { version } from './version';

const HELP_EXAMPLES = `
Examples:
  passthru doctor                                   is this host ready for passthrough?
  passthru groups --tree                            the PCI tree with IOMMU groups marked
  passthru bind 01:00.0 --dry-run                   what binding the GPU's group would write
  passthru report --html host.html                  the host as one HTML page
  passthru --root fixtures/hosts/sriov-server list  any command against a fixture tree
  source <(passthru completion bash)                shell completion (bash or zsh)

Exit codes: 0 success / ready, 1 a check or operation failed (rolled back), 2 usage or bad
input (nothing written), 3 an operation failed and was not fully rolled back.
Colour: only on a terminal; never with NO_COLOR set or --no-color. Reference: docs/reference.md
`;

/** The program with the given commands (`loadCommands(argv)`: only those a run needs). */
export function buildProgram(io: CliIo, setExit: (code: number) => void, commands: readonly CommandSpec[], makeKernel?: KernelFactory): Command {
  const program = new Command('passthru')
    .description('Prepare Linux hosts for PCI passthrough to LXD containers and VMs, and prove the host is ready.')
    .version(version, '-V, --version')
    .addOption(new Option('--root <dir>', 'host root to read and change (a fixture tree, or / for this host)').default('/'))
    .addOption(new Option('--pci-ids <file>', 'pci.ids database for device names'))
    .addOption(new Option('--format <format>', 'output format: table or json'))
    .option('--no-color', 'no colour (also when NO_COLOR is set or stdout is not a terminal)')
    .option('--verbose', 'explain what is read and written, on stderr')
    .addOption(new Option('--server <server>', 'lxd or incus: the daemon to talk to when both run here (also PASSTHRU_SERVER)'))
    .addHelpText('after', HELP_EXAMPLES)
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.stdout.write(printable(s)), writeErr: (s) => io.stderr.write(printable(s)) })
    .exitOverride();

  const run =
    <O>(action: CommandAction<O>) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args[args.length - 1] as Command;
      const options = command.opts() as O;
      const positional = args.slice(0, -2).flatMap((a) => (Array.isArray(a) ? a : [a])) as string[];
      const globals = command.optsWithGlobals() as GlobalOptions;
      try {
        // A command's own --format choices (audit adds sarif) widen the formats it accepts.
        const local = command.options.find((o) => o.long === '--format')?.argChoices as OutputFormat[] | undefined;
        const ctx = createContext(globals, io, local, makeKernel);
        setExit(await action(ctx, options, positional));
      } catch (error) {
        // The one place errors become exit codes (toCliError); commands do not convert.
        throw toCliError(error);
      }
    };
  for (const spec of commands) spec.register(program, run);
  for (const sub of program.commands)
    sub.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(printable(s)), writeErr: (s) => io.stderr.write(printable(s)) });
  return program;
}

/** Every error of the chain with its stack, for PASSTHRU_DEBUG. */
function causeChain(error: unknown): string {
  const lines: string[] = [];
  for (let e = error, depth = 0; e !== undefined && depth < 16; e = (e as { cause?: unknown }).cause, depth++) {
    lines.push(depth === 0 ? '' : 'caused by:', e instanceof Error ? (e.stack ?? e.message) : String(e));
  }
  return lines.filter(Boolean).join('\n');
}

/** sysfs-sim's kernel, loaded only by commands that write (it brings zod and the host specs). */
async function simulatedKernel(): Promise<KernelFactory> {
  const { SimulatedKernel } = await import('@passthru/sysfs-sim');
  return (root) => new SimulatedKernel(root);
}

/** Parses argv, runs the command, and returns the exit code of the CLI contract. */
export async function runCli(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(
    io,
    (code) => {
      exitCode = code;
    },
    await loadCommands(argv),
    writesSysfs(argv) ? await simulatedKernel() : undefined,
  );
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code) ? EXIT.ok : EXIT.usage;
    }
    const failure = toCliError(error);
    io.stderr.write(`passthru: ${printable(failure.message)}\n`);
    if (io.env.PASSTHRU_DEBUG) io.stderr.write(`${printable(causeChain(failure))}\n`);
    return failure.exitCode;
  }
}
