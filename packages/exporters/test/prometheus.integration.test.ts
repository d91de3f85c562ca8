/**
 * The Prometheus textfile against the real components (Debian's prometheus-node-exporter and
 * prometheus, provisioned by tools/provision/prometheus.sh; a missing package FAILS with the
 * install command, it does not skip). This suite starts its OWN node-exporter and server on free
 * loopback ports (127.0.0.1 only) with their own folders, and stops them by pid: any system
 * service the packages installed is neither used nor touched.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHostReport, renderPrometheus, writeFileAtomic, type HostReport } from '../src/index';
import { parseExposition } from './formats';

const repo = path.resolve(__dirname, '../../..');
const FIXTURES = fs
  .readdirSync(path.join(repo, 'fixtures/hosts'))
  .filter((h) => fs.statSync(path.join(repo, 'fixtures/hosts', h)).isDirectory())
  .sort();
const T0 = Date.parse('2026-03-01T00:00:00Z');

let bin: Record<string, string> = {};
let work = '';
let textDir = '';
const started: ChildProcess[] = [];
let exporterUrl = '';
let prometheusUrl = '';
const timings: Record<string, number> = {};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until it returns a value (not undefined); fails with the last thing seen. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, child?: ChildProcess, limitMs = 60_000): Promise<T> {
  const start = Date.now();
  let last = '';
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`${what}: the process exited (${child.exitCode}) before answering`);
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() - start > limitMs) throw new Error(`${what}: no answer in ${limitMs / 1000} s (${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function start(cmd: string, args: string[], log: string): ChildProcess {
  const out = fs.openSync(path.join(work, log), 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', out, out], cwd: work });
  fs.closeSync(out);
  started.push(child);
  return child;
}

async function query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const r = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await r.json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  if (body.status !== 'success') throw new Error(`query ${promql}: ${JSON.stringify(body)}`);
  return body.data.result;
}

const reports = new Map<string, HostReport>(
  FIXTURES.map((h, i) => [h, readHostReport(new HostFs(path.join(repo, 'fixtures/hosts', h)), {}, () => new Date(T0 + i * 1000))]),
);

beforeAll(async () => {
  let out: string;
  try {
    out = execFileSync('bash', [path.join(repo, 'tools/provision/prometheus.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(
      `Prometheus could not be provisioned (this suite does not skip).\nAs root on Debian run: apt-get install -y --no-install-recommends prometheus-node-exporter prometheus\n--- prometheus.sh said:\n${e.stderr ?? e.message}`,
    );
  }
  bin = Object.fromEntries([...out.matchAll(/^export (PASSTHRU_\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'exporters-prometheus-'));
  textDir = path.join(work, 'textfile');
  fs.mkdirSync(textDir);
  fs.mkdirSync(path.join(work, 'data'));

  const [pe, pp] = [await freePort(), await freePort()];
  exporterUrl = `http://127.0.0.1:${pe}`;
  prometheusUrl = `http://127.0.0.1:${pp}`;
  let t = Date.now();
  const exporter = start(
    bin.PASSTHRU_NODE_EXPORTER!,
    [`--web.listen-address=127.0.0.1:${pe}`, '--collector.disable-defaults', '--collector.textfile', `--collector.textfile.directory=${textDir}`],
    'node-exporter.log',
  );
  await waitFor('node-exporter', async () => ((await fetch(`${exporterUrl}/metrics`)).ok ? true : undefined), exporter);
  timings.nodeExporterStartSeconds = (Date.now() - t) / 1000;

  fs.writeFileSync(
    path.join(work, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: passthru\n    static_configs:\n      - targets: ["127.0.0.1:${pe}"]\n`,
  );
  t = Date.now();
  const server = start(
    bin.PASSTHRU_PROMETHEUS!,
    [`--config.file=${path.join(work, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(work, 'data')}`, `--web.listen-address=127.0.0.1:${pp}`],
    'prometheus.log',
  );
  await waitFor('prometheus', async () => ((await fetch(`${prometheusUrl}/-/ready`)).ok ? true : undefined), server);
  timings.prometheusStartSeconds = (Date.now() - t) / 1000;
  // Measured, not asserted: the lead's report quotes it.
  fs.mkdirSync(path.join(repo, 'tmp'), { recursive: true });
  fs.writeFileSync(path.join(repo, 'tmp/prometheus-start.timing.json'), `${JSON.stringify(timings, null, 2)}\n`);
});

afterAll(async () => {
  // Only the processes this suite started, by pid; wait for each to exit before removing its folder.
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid!, 'SIGTERM');
      await exited;
    }
  }
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('node-exporter textfile collector and promtool', () => {
  it.each(FIXTURES)('%s: promtool accepts the file; node-exporter serves every passthru series', async (name) => {
    const report = reports.get(name)!;
    const text = renderPrometheus(report);
    execFileSync(bin.PASSTHRU_PROMTOOL!, ['check', 'metrics'], { input: text, stdio: ['pipe', 'pipe', 'pipe'] });
    writeFileAtomic(path.join(textDir, 'passthru.prom'), text);
    const scraped = await (await fetch(`${exporterUrl}/metrics`)).text();
    const { samples } = parseExposition(scraped);
    expect(samples.find((s) => s.name === 'node_textfile_scrape_error')?.value).toBe(0);
    const ours = parseExposition(text).samples;
    const served = samples.filter((s) => s.name.startsWith('passthru_'));
    expect(served.length).toBe(ours.length);
    const key = (s: { name: string; labels: Record<string, string> }) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;
    expect(new Map(served.map((s) => [key(s), s.value]))).toEqual(new Map(ours.map((s) => [key(s), s.value])));
  });

  it('promtool rejects a family without HELP and an unescaped quote in a label value (the check can fail)', () => {
    for (const bad of ['passthru_ready 1\n', '# HELP passthru_device_info x\n# TYPE passthru_device_info gauge\npassthru_device_info{driver="a"b"} 1\n']) {
      expect(() => execFileSync(bin.PASSTHRU_PROMTOOL!, ['check', 'metrics'], { input: bad, stdio: ['pipe', 'pipe', 'pipe'] }), bad).toThrow();
    }
  });
});

describe('Prometheus server scraping node-exporter', () => {
  it("a PromQL query returns each fixture host's verdict, exported in turn", async () => {
    for (const name of FIXTURES) {
      const report = reports.get(name)!;
      writeFileAtomic(path.join(textDir, 'passthru.prom'), renderPrometheus(report));
      const scanned = Date.parse(report.scannedAt) / 1000;
      // Wait until the server has scraped this host's export (its scan time tells exports apart).
      await waitFor(`${name} scraped`, async () => {
        const r = await query('passthru_scan_timestamp_seconds');
        return r.length === 1 && Number(r[0]!.value[1]) === scanned ? true : undefined;
      });
      const verdict = await query('passthru_verdict == 1');
      expect(
        verdict.map((v) => v.metric.verdict),
        name,
      ).toEqual([report.verdict]);
      const ready = await query('passthru_ready');
      expect(Number(ready[0]!.value[1]), name).toBe(report.verdict === 'ready' || report.verdict === 'ready-with-warnings' ? 1 : 0);
      const failing = await query('passthru_check_status{status="FAIL"} == 1');
      expect(failing.map((f) => f.metric.check).sort(), name).toEqual(
        report.checks
          .filter((c) => c.status === 'FAIL')
          .map((c) => c.id)
          .sort(),
      );
    }
  });
});
