import { Argument, type Command, type Option } from 'commander';
import type { CommandSpec } from '../command';
import { EXIT } from '../CliError';

/**
 * Shell completion scripts, generated from the program itself (its commands, options and their
 * choices), so a new option completes without touching this file. PCI targets complete from
 * the host's /sys/bus/pci/devices (or --root's) and group:N from /sys/kernel/iommu_groups.
 */
interface Shape {
  name: string;
  description: string;
  options: Array<{ flags: string[]; description: string; value: 'none' | 'file' | 'dir' | 'words' | 'any'; choices: string[] }>;
  /** The command takes PCI targets (bind, restore, persist, attach, doctor --device). */
  targets: boolean;
  /** Choices of its positional arguments (completion: bash, zsh). */
  words: string[];
}

const FILE_OPTIONS = new Set(['--pci-ids', '--html', '--cert', '--key']);
const DIR_OPTIONS = new Set(['--root']);

function optionShape(o: Option): Shape['options'][number] {
  const flags = [o.short, o.long].filter((f): f is string => Boolean(f));
  const takesValue = o.required || o.optional;
  const choices = o.argChoices ?? [];
  const value = !takesValue ? 'none' : choices.length ? 'words' : FILE_OPTIONS.has(o.long ?? '') ? 'file' : DIR_OPTIONS.has(o.long ?? '') ? 'dir' : 'any';
  return { flags, description: o.description, value, choices };
}

function shapeOf(cmd: Command): Shape {
  const args = (cmd as Command & { registeredArguments: readonly Argument[] }).registeredArguments ?? [];
  return {
    name: cmd.name(),
    description: cmd.description(),
    options: [...cmd.options.map(optionShape), { flags: ['-h', '--help'], description: 'show help', value: 'none', choices: [] }],
    targets: args.some((a) => /target|device|bdf/i.test(a.name())) || cmd.options.some((o) => o.long === '--device'),
    words: args.flatMap((a) => a.argChoices ?? []),
  };
}

const sq = (s: string) => s.replace(/'/g, `'\\''`);

export function bashCompletion(program: Command): string {
  const globals = shapeOf(program).options;
  const commands = program.commands.map(shapeOf);
  const all = [...globals, ...commands.flatMap((c) => c.options)];
  const valued = [...new Set(all.filter((o) => o.value !== 'none').flatMap((o) => o.flags))];
  const cases: string[] = [];
  const byValue = (kind: Shape['options'][number]['value']) => [...new Set(all.filter((o) => o.value === kind).flatMap((o) => o.flags))];
  if (byValue('dir').length) cases.push(`    ${byValue('dir').join('|')}) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;`);
  if (byValue('file').length) cases.push(`    ${byValue('file').join('|')}) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;`);
  const words = new Map<string, Set<string>>();
  for (const o of all.filter((x) => x.value === 'words')) for (const f of o.flags) words.set(f, new Set([...(words.get(f) ?? []), ...o.choices]));
  for (const [flag, choices] of words) cases.push(`    ${flag}) COMPREPLY=( $(compgen -W '${sq([...choices].join(' '))}' -- "$cur") ); return ;;`);
  if (byValue('any').length) cases.push(`    ${byValue('any').join('|')}) return ;;`);
  const globalWords = globals.flatMap((o) => o.flags).join(' ');
  // An option word after '-', else the command's positional choices or PCI targets.
  const perCommand = commands.map((c) => {
    const opts = c.options.flatMap((o) => o.flags).join(' ');
    const positional = c.targets ? '_passthru_targets' : c.words.length ? `COMPREPLY=( $(compgen -W '${sq(c.words.join(' '))}' -- "$cur") )` : 'true';
    return `    ${c.name}) if [[ $cur == -* ]]; then COMPREPLY=( $(compgen -W '${sq(`${opts} ${globalWords}`)}' -- "$cur") ); else ${positional}; fi ;;`;
  });
  return `# bash completion for passthru. Load it with:  source <(passthru completion bash)
# or install it:  passthru completion bash > /etc/bash_completion.d/passthru
_passthru_targets() {
  local root=/ i
  for ((i=1; i<COMP_CWORD; i++)); do [[ \${COMP_WORDS[i]} == --root ]] && root=\${COMP_WORDS[i+1]}; done
  local addrs groups
  addrs=$(command ls "$root/sys/bus/pci/devices" 2>/dev/null)
  groups=$(command ls "$root/sys/kernel/iommu_groups" 2>/dev/null | sed 's/^/group:/')
  COMPREPLY+=( $(compgen -W "$addrs $groups" -- "$cur") )
}
_passthru() {
  local cur prev cmd i
  COMPREPLY=()
  cur=\${COMP_WORDS[COMP_CWORD]}
  prev=\${COMP_WORDS[COMP_CWORD-1]}
  # Addresses hold ':' which bash splits words on: rejoin when bash-completion is there.
  if declare -F _get_comp_words_by_ref >/dev/null; then _get_comp_words_by_ref -n : cur prev; fi
  case "$prev" in
${cases.join('\n')}
  esac
  cmd=
  for ((i=1; i<COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      ${valued.join('|')}) ((i++)) ;;
      -*) ;;
      *) cmd=\${COMP_WORDS[i]}; break ;;
    esac
  done
  case "$cmd" in
    '') COMPREPLY=( $(compgen -W '${sq(`${commands.map((c) => c.name).join(' ')} ${globalWords}`)}' -- "$cur") ) ;;
${perCommand.join('\n')}
  esac
  if declare -F __ltrim_colon_completions >/dev/null; then __ltrim_colon_completions "$cur"; fi
  return 0
}
complete -F _passthru passthru
`;
}

/** zsh `_arguments` spec of one option: `'--format[table or json]:format:(table json)'`. */
function zshSpec(o: Shape['options'][number]): string[] {
  const desc = o.description.replace(/[[\]:\\]/g, (c) => `\\${c}`).replace(/'/g, `'\\''`);
  const action = { none: '', file: ':file:_files', dir: ':directory:_directories', words: `:value:(${o.choices.join(' ')})`, any: ':value: ' }[o.value];
  if (o.flags.length === 1) return [`'${o.flags[0]}[${desc}]${action}'`];
  const exclusive = `(${o.flags.join(' ')})`;
  return [`'${exclusive}'{${o.flags.join(',')}}'[${desc}]${action}'`];
}

export function zshCompletion(program: Command): string {
  const globals = shapeOf(program).options;
  const commands = program.commands.map(shapeOf);
  const describe = commands.map((c) => `    '${c.name}:${sq(c.description.replace(/:/g, '\\:'))}'`).join('\n');
  const perCommand = commands
    .map((c) => {
      const specs = c.options.flatMap(zshSpec);
      if (c.targets) specs.push(`'*:target:_passthru_targets'`);
      else if (c.words.length) specs.push(`'1:${c.name}:(${c.words.join(' ')})'`);
      return `    (${c.name}) _arguments -s ${specs.join(' \\\n        ')} ;;`;
    })
    .join('\n');
  return `#compdef passthru
# zsh completion for passthru. Load it with:  source <(passthru completion zsh)
# or install it as _passthru in a folder of $fpath:  passthru completion zsh > ~/.zfunc/_passthru
_passthru_targets() {
  local root=/ i
  for ((i=1; i<\${#words}; i++)); do [[ \${words[i]} == --root ]] && root=\${words[i+1]}; done
  local -a targets
  targets=(\${(f)"$(command ls "$root/sys/bus/pci/devices" 2>/dev/null)"} \${(f)"$(command ls "$root/sys/kernel/iommu_groups" 2>/dev/null | sed 's/^/group:/')"})
  compadd -a targets
}
_passthru() {
  local curcontext="$curcontext" state line
  local -a commands
  commands=(
${describe}
  )
  _arguments -C \\
    ${globals.flatMap(zshSpec).join(' \\\n    ')} \\
    '1: :->command' \\
    '*:: :->args'
  case $state in
    (command) _describe -t commands 'passthru command' commands ;;
    (args)
      case $line[1] in
${perCommand}
      esac ;;
  esac
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _passthru "$@"
else
  compdef _passthru passthru
fi
`;
}

export const completionCommand: CommandSpec = {
  register(program, run) {
    program
      .command('completion')
      .description('Print the shell completion script for bash or zsh')
      .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
      .addHelpText('after', '\nExamples:\n  source <(passthru completion bash)          # this shell\n  passthru completion bash > /etc/bash_completion.d/passthru\n  passthru completion zsh > "${fpath[1]}/_passthru"')
      .action(
        run((ctx, _options, [shell]) => {
          ctx.out.stdout.write(shell === 'zsh' ? zshCompletion(program) : bashCompletion(program));
          return EXIT.ok;
        }),
      );
  },
};
