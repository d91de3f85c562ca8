import { describe, expect, it } from 'vitest';
import { parseCmdline, tokenizeCmdline } from '../src/KernelCmdline';

describe('parseCmdline', () => {
  it('splits a real /proc/cmdline, init args after --', () => {
    const text = 'BOOT_IMAGE=/vmlinuz-6.8.0-45-generic root=UUID=1b2c ro quiet splash intel_iommu=on iommu=pt vt.handoff=7 -- single --verbose\n';
    const { params, initArgs } = parseCmdline(text);
    expect(params.map((p) => p.raw)).toEqual([
      'BOOT_IMAGE=/vmlinuz-6.8.0-45-generic',
      'root=UUID=1b2c',
      'ro',
      'quiet',
      'splash',
      'intel_iommu=on',
      'iommu=pt',
      'vt.handoff=7',
    ]);
    expect(params[2]).toEqual({ key: 'ro', raw: 'ro' });
    expect(params[5]).toEqual({ key: 'intel_iommu', value: 'on', raw: 'intel_iommu=on' });
    expect(initArgs).toEqual(['single', '--verbose']);
  });

  it('follows next_arg() quoting quirks', () => {
    const { params } = parseCmdline('foo="bar baz" "quoted=a b" x=a"b c"d empty= =lead');
    expect(params).toEqual([
      { key: 'foo', value: 'bar baz', raw: 'foo="bar baz"' },
      { key: 'quoted', value: 'a b', raw: '"quoted=a b"' },
      { key: 'x', value: 'a"b c"d', raw: 'x=a"b c"d' },
      { key: 'empty', value: '', raw: 'empty=' },
      { key: '=lead', raw: '=lead' },
    ]);
  });

  it('keeps offsets for editors, and a quoted "--" value is not the separator', () => {
    const t = tokenizeCmdline('  a=1\tb  -- c=2');
    expect(t.params.map((p) => [p.start, p.end])).toEqual([
      [2, 5],
      [6, 7],
    ]);
    expect(t.dashDashAt).toBe(9);
    expect(t.initArgs.map((p) => p.raw)).toEqual(['c=2']);
    expect(parseCmdline('x=-- y').initArgs).toEqual([]);
  });
});
