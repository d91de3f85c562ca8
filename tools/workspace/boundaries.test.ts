// The dependency direction of docs/architecture.md, enforced: hostfs <- pci-discovery <- iommu-check <-
// vfio-binder; hostfs <- boot-config <- iommu-check, vfio-binder, lxd-device-attach, exporters; pci-discovery <- lxd-device-attach; iommu-check + vfio-binder <- exporters; sysfs-sim depends on hostfs only and is a
// devDependency of the libraries; everything <- cli. The imports in src/, the package.json
// dependencies, the tsconfig references and the nx tags must all say the same.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(__dirname, '../..');
const ALLOWED: Record<string, string[]> = {
  hostfs: [],
  'sysfs-sim': ['hostfs'],
  'pci-discovery': ['hostfs'],
  'boot-config': ['hostfs'],
  'iommu-check': ['hostfs', 'pci-discovery', 'boot-config'],
  'vfio-binder': ['hostfs', 'pci-discovery', 'boot-config', 'iommu-check'],
  'lxd-device-attach': ['hostfs', 'pci-discovery', 'boot-config'],
  exporters: ['hostfs', 'pci-discovery', 'boot-config', 'iommu-check', 'vfio-binder'],
  fleet: ['hostfs', 'pci-discovery', 'boot-config', 'iommu-check', 'vfio-binder', 'lxd-device-attach'],
  baseline: ['hostfs', 'pci-discovery', 'iommu-check', 'vfio-binder'],
  cli: ['hostfs', 'sysfs-sim', 'pci-discovery', 'iommu-check', 'vfio-binder', 'lxd-device-attach', 'exporters', 'fleet', 'baseline'],
};
const folder = (name: string) => path.join(repo, name === 'cli' ? 'apps/cli' : `packages/${name}`);

function sourceImports(dir: string): string[] {
  const found = new Set<string>();
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        for (const m of fs.readFileSync(p, 'utf8').matchAll(/(?:from|import\()\s*'@passthru\/([a-z-]+)'/g)) found.add(m[1]!);
      }
    }
  };
  walk(path.join(dir, 'src'));
  return [...found].sort();
}

describe('package boundaries', () => {
  for (const [name, allowed] of Object.entries(ALLOWED)) {
    it(`${name} imports only ${allowed.join(', ') || 'no workspace package'}`, () => {
      const dir = folder(name);
      const imports = sourceImports(dir);
      expect(imports.filter((i) => !allowed.includes(i))).toEqual([]);
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      const deps = Object.keys(pkg.dependencies ?? {})
        .filter((d) => d.startsWith('@passthru/'))
        .map((d) => d.slice(10))
        .sort();
      expect(deps).toEqual(imports);
      const devDeps = Object.keys(pkg.devDependencies ?? {})
        .filter((d) => d.startsWith('@passthru/'))
        .map((d) => d.slice(10));
      for (const d of devDeps) expect(name === 'cli' || d === 'sysfs-sim', `${name} devDependency ${d}`).toBe(true);
      const tsconfig = JSON.parse(fs.readFileSync(path.join(dir, 'tsconfig.json'), 'utf8'));
      const refs = (tsconfig.references ?? []).map((r: { path: string }) => path.basename(r.path)).sort();
      expect(refs.filter((r: string) => !allowed.includes(r))).toEqual([]);
      for (const i of imports) expect(refs).toContain(i);
      expect(pkg.nx?.tags?.length).toBe(1);
    });
  }
});
