// "A reader polling the output files during 100 exports never sees a partial file": the exports
// run in a child process while this process reads both files as fast as it can and watches the
// folder with inotify (fs.watch): an in-place write shows as a `change` of the file's own name,
// an atomic one only as a `rename` onto it (the writing happens to a dot-file).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { afterEach, describe, expect, it } from 'vitest';
import { readHostReport, renderNfdFeatures, renderPrometheus, writeFileAtomic } from '../src/index';

const repo = path.resolve(__dirname, '../../..');
const SCAN_TIMES = ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z'];
const HOSTS = ['intel-workstation', 'sriov-server'].map((h) => path.join(repo, 'fixtures/hosts', h));
const made: string[] = [];
afterEach(() =>
  made.splice(0).forEach((d) => {
    fs.rmSync(d, { recursive: true, force: true });
  }),
);
const tmpDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'exporters-atomic-'));
  made.push(d);
  return d;
};

type Event = { type: string; name: string | null };
function watch(dir: string): { events: Event[]; close: () => void } {
  const events: Event[] = [];
  const w = fs.watch(dir, (type, name) => events.push({ type, name: name === null ? null : String(name) }));
  return { events, close: () => w.close() };
}
const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
};

describe('writeFileAtomic', () => {
  it('the watch sees an in-place write as a change of the name itself (the check below can fail)', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'passthru'), 'old\n');
    const w = watch(dir);
    fs.writeFileSync(path.join(dir, 'passthru'), 'new\n');
    await until(() => w.events.some((e) => e.name === 'passthru'));
    w.close();
    expect(w.events).toContainEqual({ type: 'change', name: 'passthru' });
  });

  it('during 100 exports in another process, a reader only ever sees a whole old or whole new file', async () => {
    const dir = tmpDir();
    const expected = {
      passthru: new Set(HOSTS.map((h, i) => renderNfdFeatures(readHostReport(new HostFs(h), {}, () => new Date(SCAN_TIMES[i]!))))),
      'passthru.prom': new Set(HOSTS.map((h, i) => renderPrometheus(readHostReport(new HostFs(h), {}, () => new Date(SCAN_TIMES[i]!))))),
    };
    const w = watch(dir);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'exportLoop.ts'), dir, '100', HOSTS[0]!, SCAN_TIMES[0]!, HOSTS[1]!, SCAN_TIMES[1]!],
      { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    let exited: number | null | undefined;
    child.on('exit', (code) => (exited = code));
    let reads = 0;
    const bad: string[] = [];
    while (exited === undefined) {
      for (const name of ['passthru', 'passthru.prom'] as const) {
        let text: string;
        try {
          text = fs.readFileSync(path.join(dir, name), 'utf8');
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // before the first export
          throw error;
        }
        reads++;
        if (!expected[name].has(text)) bad.push(`${name}: ${text.length} bytes`);
      }
      await new Promise((r) => setImmediate(r));
    }
    expect(exited, err).toBe(0);
    expect(out).toBe('exported 100\n');
    await until(() => ['passthru', 'passthru.prom'].every((n) => w.events.some((e) => e.name === n)));
    w.close();
    expect(bad).toEqual([]);
    expect(reads).toBeGreaterThan(0);
    // The files themselves were only ever renamed onto, never written in place.
    expect(w.events.filter((e) => (e.name === 'passthru' || e.name === 'passthru.prom') && e.type !== 'rename')).toEqual([]);
    expect(w.events.filter((e) => e.name !== null && !e.name.startsWith('.') && e.name !== 'passthru' && e.name !== 'passthru.prom')).toEqual([]);
    expect(fs.readdirSync(dir).sort()).toEqual(['passthru', 'passthru.prom']);
  });

  it('a failed write leaves neither the target nor a temporary file, and says what failed', () => {
    const dir = tmpDir();
    fs.mkdirSync(path.join(dir, 'passthru'));
    // A folder is not a file passthru replaces: refused before anything is written (issue 22).
    expect(() => writeFileAtomic(path.join(dir, 'passthru'), 'x\n')).toThrow(
      /^Failed writing .*passthru: EISDIR it is a folder, and passthru replaces only regular files; nothing was written/,
    );
    expect(fs.readdirSync(dir)).toEqual(['passthru']);
    expect(fs.statSync(path.join(dir, 'passthru')).isDirectory()).toBe(true);
  });
});
