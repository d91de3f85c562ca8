/**
 * Child process of atomicWrite.test.ts: `count` exports in a row into OUTDIR, alternating two
 * fixture hosts, each with its own fixed scan time (so each file has exactly two possible
 * contents). Run with `node --import tsx exportLoop.ts OUTDIR COUNT ROOT_A TIME_A ROOT_B TIME_B`.
 */
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { readHostReport, renderNfdFeatures, renderPrometheus, writeFileAtomic } from '../src/index';

const [outDir, count, rootA, timeA, rootB, timeB] = process.argv.slice(2);
const hosts = [new HostFs(rootA!), new HostFs(rootB!)];
const times = [timeA!, timeB!];
for (let i = 0; i < Number(count); i++) {
  const report = readHostReport(hosts[i % 2]!, {}, () => new Date(times[i % 2]!));
  writeFileAtomic(path.join(outDir!, 'passthru'), renderNfdFeatures(report));
  writeFileAtomic(path.join(outDir!, 'passthru.prom'), renderPrometheus(report));
}
process.stdout.write(`exported ${count}\n`);
