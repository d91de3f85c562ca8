// pci.ids: load the system database and answer the first vendor, device (a large vendor block)
// and class lookups, in one process, median of 25 fresh loads.
import { PciIds, findPciIdsFile } from '@passthru/pci-discovery';
import { existsSync, statSync } from 'node:fs';

const file = findPciIdsFile(existsSync);
if (!file) throw new Error('no pci.ids: apt-get install -y pciutils');
const times: number[] = [];
for (let i = 0; i < 25; i++) {
  const started = performance.now();
  const ids = PciIds.fromFile(file);
  ids.vendorName('10de');
  ids.deviceName('10de', '2204');
  ids.className('030000');
  times.push(performance.now() - started);
}
times.sort((a, b) => a - b);
console.log(
  JSON.stringify(
    { file, runs: times.length, medianMs: Number(times[12]!.toFixed(1)), minMs: Number(times[0]!.toFixed(1)), maxMs: Number(times[24]!.toFixed(1)) },
    null,
    2,
  ),
);
console.log('\n| pci.ids load + first vendor, device and class lookups | median of 25 | fastest | slowest |');
console.log('|---|---|---|---|');
console.log(
  `| ${(statSync(file).size / 1e6).toFixed(1)} MB file kept as bytes, each id found by native search | ${times[12]!.toFixed(1)} ms | ${times[0]!.toFixed(1)} ms | ${times[24]!.toFixed(1)} ms |`,
);
