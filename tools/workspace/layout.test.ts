// The layout docs/architecture.md draws, kept true: source files stay short, the CLI keeps a
// folder per command, and the docs name every package and command and only paths that exist.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../apps/cli/src/commands/index';

const repo = path.resolve(__dirname, '../..');
const read = (p: string) => fs.readFileSync(path.join(repo, p), 'utf8');
const PACKAGES = fs.readdirSync(path.join(repo, 'packages')).filter((p) => fs.existsSync(path.join(repo, 'packages', p, 'package.json')));

/** Source files (not tests) under a folder, as repo paths. */
function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(path.join(repo, d), { withFileTypes: true })) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory()) {
        if (!['node_modules', 'dist', 'test'].includes(e.name)) walk(p);
      } else if (/\.(ts|mjs)$/.test(e.name) && !/\.test\.ts$/.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

describe('layout', () => {
  it('no source file is over 400 lines', () => {
    const files = [...PACKAGES.flatMap((p) => sources(`packages/${p}/src`)), ...sources('apps/cli/src'), ...sources('tools')];
    expect(files.length).toBeGreaterThan(100);
    const long = files.map((f) => [f, read(f).split('\n').length - 1] as const).filter(([, n]) => n > 400);
    expect(long).toEqual([]);
  });

  // sysfs-sim lays the tree out for fixtures (the kernel's side, hostfs alone beneath it).
  it('PCI sysfs paths are spelled in one module (pci-discovery/src/sysfsPaths.ts)', () => {
    const files = [...PACKAGES.filter((p) => p !== 'sysfs-sim').flatMap((p) => sources(`packages/${p}/src`)), ...sources('apps/cli/src')];
    const spelled = files.filter(
      (f) => !f.endsWith('sysfsPaths.ts') && /\/sys\/bus\/pci\/(devices|drivers)\/\$\{|\/sys\/kernel\/iommu_groups\/\$\{/.test(read(f)),
    );
    expect(spelled).toEqual([]);
  });

  it('every package has one face, src/index.ts', () => {
    for (const p of PACKAGES) expect(fs.existsSync(path.join(repo, 'packages', p, 'src/index.ts')), p).toBe(true);
  });

  it('the CLI: the entry, the error mapping, the run frame and render/ at the top; a folder per command', () => {
    const top = fs.readdirSync(path.join(repo, 'apps/cli/src')).sort();
    expect(top).toEqual([
      'CliError.ts',
      'cli.ts',
      'command.ts',
      'commands',
      'context.ts',
      'host.ts',
      'lxd.ts',
      'main.ts',
      'render',
      'scanWorker.ts',
      'version.ts',
    ]);
    const entries = fs.readdirSync(path.join(repo, 'apps/cli/src/commands'), { withFileTypes: true });
    expect(
      entries
        .filter((e) => e.isFile())
        .map((e) => e.name)
        .sort(),
    ).toEqual(['index.ts', 'outputs.ts']);
    expect(
      entries
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort(),
    ).toEqual(COMMANDS.map((c) => c.name).sort());
    for (const c of COMMANDS) expect(fs.existsSync(path.join(repo, 'apps/cli/src/commands', c.name, `${c.name}.ts`)), c.name).toBe(true);
  });

  it("docs/architecture.md's CLI contract names every command; it and the README name every package", () => {
    const arch = read('docs/architecture.md');
    const contract = /```\npassthru ([^\n]+)\n/.exec(arch)?.[1] ?? '';
    expect(contract.split(' | ').sort()).toEqual(COMMANDS.map((c) => c.name).sort());
    const readme = read('README.md');
    for (const p of PACKAGES) {
      expect(arch, `architecture.md names packages/${p}`).toContain(`\`packages/${p}\``);
      expect(readme, `README names packages/${p}`).toContain(`\`packages/${p}\``);
    }
  });

  it('every repository path the README and docs/architecture.md name exists', () => {
    const named = new Set<string>();
    for (const doc of ['README.md', 'docs/architecture.md']) {
      for (const m of read(doc).matchAll(/`((?:packages|apps|tools|docs|fixtures)\/[^`\s]+)`/g)) {
        const p = m[1]!.replace(/[.,:;)]+$/, '');
        // `dir/{a,b}.ts` names each of a.ts and b.ts.
        const brace = /^(.*)\{([^}]+)\}(.*)$/.exec(p);
        for (const one of brace ? brace[2]!.split(',').map((x) => `${brace[1]}${x}${brace[3]}`) : [p]) if (!/[*<]/.test(one)) named.add(one);
      }
    }
    expect(named.size).toBeGreaterThan(20);
    expect([...named].filter((p) => !fs.existsSync(path.join(repo, p)) && !p.includes('/dist/'))).toEqual([]);
  });
});
