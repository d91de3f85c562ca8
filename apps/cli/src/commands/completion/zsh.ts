import type { Command } from 'commander';
import { shapeOf, sq, type Shape } from './shape';

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
