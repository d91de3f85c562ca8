// vitest.workspace.ts is the list vitest runs: every test file of the repository lies in one
// listed project and matches that project's `include`, so no suite is left out in silence.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import projects from '../../vitest.workspace';

const repo = path.resolve(__dirname, '../..');
const SKIP = new Set(['node_modules', 'dist', '.nx', '.git', 'tmp', 'fixtures']);

function testFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(p);
    return entry.name.endsWith('.test.ts') ? [path.relative(repo, p)] : [];
  });
}

/** `src/**\/*.test.ts` -> a RegExp over project-relative paths (the globs our configs use). */
function globToRegExp(glob: string): RegExp {
  const parts = glob.split('/').map((part) => (part === '**' ? '(?:[^/]+/)*' : `${part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}/`));
  return new RegExp(`^${parts.join('').slice(0, -1)}$`);
}

describe('vitest.workspace.ts', () => {
  it('is the list vitest.config.ts runs', () => {
    expect(fs.readFileSync(path.join(repo, 'vitest.config.ts'), 'utf8')).toMatch(/import projects from '\.\/vitest\.workspace(\.ts)?'/);
  });

  it('holds every test file of the repository in exactly one project', async () => {
    const includes = new Map<string, RegExp[]>();
    for (const project of projects) {
      const config = (await import(path.join(repo, project, 'vitest.config.ts'))).default as { test: { include: string[] } };
      includes.set(project, config.test.include.map(globToRegExp));
    }
    const orphans = testFiles(repo).filter((file) => {
      const owners = projects.filter((p) => file.startsWith(`${p}/`) && includes.get(p)!.some((re) => re.test(file.slice(p.length + 1))));
      return owners.length !== 1;
    });
    expect(orphans).toEqual([]);
  });

  it('names only folders that have a vitest project config', () => {
    for (const project of projects) expect(fs.existsSync(path.join(repo, project, 'vitest.config.ts')), project).toBe(true);
  });
});
