import type { Command } from 'commander';
import type { CliContext } from './context';

/** A command's action: gets the context, its own options and positionals; returns the exit code. */
export type CommandAction<O> = (ctx: CliContext, options: O, args: string[]) => Promise<number> | number;

/** Wraps an action into a commander handler that builds the context and records the exit code. */
export type ActionRunner = <O>(action: CommandAction<O>) => (...args: unknown[]) => Promise<void>;

/** One command of the CLI: adds itself (options, help with examples) to the program. */
export interface CommandSpec {
  register(program: Command, run: ActionRunner): void;
}
