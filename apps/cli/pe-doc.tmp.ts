import { HostFs } from '@passthru/hostfs';
import { runChecks } from '@passthru/iommu-check';
const [name, ...devices] = process.argv.slice(2);
const r = runChecks(new HostFs(`fixtures/hosts/${name}`), { devices });
console.log(name, r.verdict, r.absent);
for (const c of r.checks) console.log(`  ${c.status} ${c.id}: ${c.summary}`);
