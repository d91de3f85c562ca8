// The shell-assignment lexer reads runs of plain characters at once (issue 22, item 13: one
// segment per character made a 1 MB GRUB command line cost seconds of garbage collection).
// What the runs must keep: escapes, references, quotes and line numbers, exactly.
import { describe, expect, it } from 'vitest';
import { lexShellAssignments } from '../src/ShellAssignments';

describe('lexShellAssignments', () => {
  it('keeps escapes, references and quoting between runs of plain characters', () => {
    const text = 'A="one \\"two\\" $B \\$C \\\\ x"\nD=plain\\ word${E}tail\'single $F\'\n';
    const [a, d] = lexShellAssignments(text, '/etc/default/grub');
    expect(a!.value).toEqual([
      { kind: 'literal', text: 'one "two" ', quote: 'double' },
      { kind: 'var', name: 'B', quote: 'double' },
      { kind: 'literal', text: ' $C \\ x', quote: 'double' },
    ]);
    expect(d!.value).toEqual([
      { kind: 'literal', text: 'plain word', quote: 'none' },
      { kind: 'var', name: 'E', quote: 'none' },
      { kind: 'literal', text: 'tail', quote: 'none' },
      { kind: 'literal', text: 'single $F', quote: 'single' },
    ]);
  });

  it('counts the lines a double-quoted run spans', () => {
    const [a, b] = lexShellAssignments('A="x\ny\nz"\nB=1\n', '/etc/default/grub');
    expect([a!.line, a!.endLine, b!.line]).toEqual([1, 3, 4]);
  });

  it('a 1 MB value (80,000 parameters) is one literal segment', () => {
    const params = Array.from({ length: 80_000 }, (_, i) => `opt${i}=v${i}`).join(' ');
    const [a] = lexShellAssignments(`GRUB_CMDLINE_LINUX_DEFAULT="quiet ${params}"\n`, '/etc/default/grub');
    expect(a!.value).toEqual([{ kind: 'literal', text: `quiet ${params}`, quote: 'double' }]);
  });
});

describe('multisetMinus', () => {
  it('takes out each item of b as often as it occurs, keeping the order of a', async () => {
    const { multisetMinus } = await import('../src/KernelCmdline');
    expect(multisetMinus(['a', 'b', 'a', 'c', 'a'], ['a', 'c', 'a', 'd'])).toEqual(['b', 'a']);
    const many = Array.from({ length: 80_000 }, (_, i) => `p${i}`);
    expect(multisetMinus([...many, 'intel_iommu=on'], many)).toEqual(['intel_iommu=on']);
  });
});
