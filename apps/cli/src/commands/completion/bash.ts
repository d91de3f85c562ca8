import type { Command } from 'commander';
import { shapeOf, sq, type Shape } from './shape';

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
