// runChecks builds its report without zod (doctor loads no schema at run time): DoctorReportSchema
// must find nothing to change in it, key order included, since doctor prints the report as built.
import { HostFs } from '@passthru/hostfs';
import { scanPciDevices } from '@passthru/pci-discovery';
import { afterAll, describe, expect, it } from 'vitest';
import { runChecks } from '../src/runChecks';
import { DoctorReportSchema } from '../src/schemas';
import { cleanupFixtures, fixtureRoot, specNames } from './fixtureHosts';

afterAll(cleanupFixtures);

describe('the report is what DoctorReportSchema makes of it, byte for byte', () => {
  for (const name of specNames) {
    it(`${name}: every endpoint examined, a live host's identity`, () => {
      const host = new HostFs(fixtureRoot(name));
      const examine = scanPciDevices(host)
        .devices.filter((d) => !d.isBridge)
        .map((d) => d.address);
      const report = runChecks(host, { examine, identity: { board: 'Board Inc. B1', bios: 'BIOS Inc. 1.0', isVirtualMachine: false } });
      expect(report.examined?.length).toBeGreaterThan(0);
      expect(JSON.stringify(DoctorReportSchema.parse(report))).toBe(JSON.stringify(report));
    });
  }
});
