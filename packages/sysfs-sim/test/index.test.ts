// The package's face: src/index.ts exports what other packages, the CLI, tools/ and users call,
// and nothing else (tree building blocks, the kernel's modules and sidecar names stay inside).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as face from '../src/index';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');

describe('@passthru/sysfs-sim index', () => {
  it('exports only the public values', () => {
    expect(Object.keys(face).sort()).toEqual([
      'SimulatedKernel',
      'SysfsSimError',
      'allDevices',
      'capture',
      'generateLargeHost',
      'loadHostSpec',
      'materialize',
      'parseHostSpec',
    ]);
  });

  it('keeps every source file readable in one sitting (at most 400 lines)', () => {
    const long = fs
      .readdirSync(src, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => ({ f, lines: fs.readFileSync(path.join(src, f), 'utf8').split('\n').length }))
      .filter((x) => x.lines > 400);
    expect(long).toEqual([]);
  });
});
