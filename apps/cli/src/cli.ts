import { Command } from 'commander';

declare const PASSTHRU_VERSION: string;
const version = typeof PASSTHRU_VERSION === 'string' ? PASSTHRU_VERSION : '0.0.0-dev';

/** Builds the commander program; `runCli` parses argv and returns the exit code. */
export function buildProgram(): Command {
  const program = new Command('passthru')
    .description('Prepare Linux hosts for PCI passthrough to LXD containers and VMs, and prove the host is ready.')
    .version(version, '-V, --version');
  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    return typeof code === 'number' ? (code === 1 ? 2 : code) : 2;
  }
}
