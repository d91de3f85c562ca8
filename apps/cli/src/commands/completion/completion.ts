import { Argument } from 'commander';
import type { CommandSpec } from '../../command';
import { EXIT } from '../../CliError';
import { bashCompletion } from './bash';
import { zshCompletion } from './zsh';

export const completionCommand: CommandSpec = {
  register(program, run) {
    program
      .command('completion')
      .description('Print the shell completion script for bash or zsh')
      .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
      .addHelpText(
        'after',
        '\nExamples:\n  source <(passthru completion bash)          # this shell\n  passthru completion bash > /etc/bash_completion.d/passthru\n  passthru completion zsh > "${fpath[1]}/_passthru"',
      )
      .action(
        run((ctx, _options, [shell]) => {
          ctx.out.stdout.write(shell === 'zsh' ? zshCompletion(program) : bashCompletion(program));
          return EXIT.ok;
        }),
      );
  },
};
