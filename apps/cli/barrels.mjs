// esbuild plugin: an import from a workspace package's face (`import { x } from '@passthru/pkg'`)
// is bundled as an import of the file that defines `x`. The source keeps one face per package;
// the bundle gains what code splitting cannot do through a face: esbuild gives every file a
// face re-exports to every command that imports the face, so `passthru list`, which needs the
// ownership rules of vfio-binder, would load the binder's persist code, iommu-check, jsdiff and
// zod with them. An import this plugin cannot map whole (a name the face does not re-export
// from a file of its own, `export *`) is left as it is.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const PACKAGES = new URL('../../packages/', import.meta.url).pathname;
const IMPORT = /\bimport\s+(type\s+)?\{([^}]*)\}\s*from\s*'(@passthru\/[a-z-]+)'\s*;/g;
const RE_EXPORT = /\bexport\s+(type\s+)?\{([^}]*)\}\s*from\s*'(\.\/[^']+)'\s*;/g;

/** "type A", "B as C", "D" -> { exported, local, typeOnly } */
function specifiers(list, allTypes) {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const typeOnly = allTypes || s.startsWith('type ');
      const [name, alias] = s.replace(/^type\s+/, '').split(/\s+as\s+/);
      return { name, alias: alias ?? name, typeOnly };
    });
}

const faces = new Map();
/** Name exported by a package's face -> the file (absolute, without extension) that defines it. */
function faceOf(pkg) {
  if (!faces.has(pkg)) {
    const dir = path.join(PACKAGES, pkg.replace('@passthru/', ''), 'src');
    const map = new Map();
    const text = readFileSync(path.join(dir, 'index.ts'), 'utf8');
    for (const m of text.matchAll(RE_EXPORT)) {
      for (const s of specifiers(m[2], Boolean(m[1]))) map.set(s.alias, { name: s.name, file: path.join(dir, m[3]) });
    }
    faces.set(pkg, map);
  }
  return faces.get(pkg);
}

function rewrite(source) {
  return source.replace(IMPORT, (whole, allTypes, list, pkg) => {
    if (allTypes) return whole;
    const face = faceOf(pkg);
    const wanted = specifiers(list, false).filter((s) => !s.typeOnly);
    if (wanted.length === 0 || wanted.some((s) => !face.has(s.name))) return whole;
    const byFile = new Map();
    for (const s of wanted) {
      const { name, file } = face.get(s.name);
      byFile.set(file, [...(byFile.get(file) ?? []), name === s.alias ? name : `${name} as ${s.alias}`]);
    }
    return [...byFile].map(([file, names]) => `import { ${names.join(', ')} } from ${JSON.stringify(file)};`).join(' ');
  });
}

export const directImports = {
  name: 'passthru-direct-imports',
  setup(build) {
    build.onLoad({ filter: /\/(apps\/cli|packages\/[a-z-]+)\/src\/.*\.ts$/ }, (args) => ({
      contents: rewrite(readFileSync(args.path, 'utf8')),
      loader: 'ts',
    }));
  },
};
