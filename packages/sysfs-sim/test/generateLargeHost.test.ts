import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allDevices, generateLargeHost, materialize, parseHostSpec } from '../src/index';
import { lspci, pcilibLines } from './lspciOracle';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sysfs-sim-large-'));
// Removing a generated host of ~87,000 entries takes tens of seconds on a busy 2-core machine.
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }), 120_000);

describe('generateLargeHost', () => {
  it('is deterministic per seed and varies with it', () => {
    const a = generateLargeHost({ nics: 4, vfsPerNic: 8, gpus: 2, seed: 7 });
    expect(generateLargeHost({ nics: 4, vfsPerNic: 8, gpus: 2, seed: 7 })).toEqual(a);
    const others = [1, 2, 3, 4, 5].map((seed) => JSON.stringify(generateLargeHost({ nics: 4, vfsPerNic: 8, gpus: 2, seed }).devices));
    expect(new Set(others).size).toBeGreaterThan(1);
  });

  it('gives every PF, VF and GPU its own group, spread over NUMA nodes, with ACS above them', () => {
    const spec = parseHostSpec(generateLargeHost({ nics: 6, vfsPerNic: 16, gpus: 4 }));
    const devices = allDevices(spec);
    const pfs = devices.filter((d) => d.sriov);
    const vfs = devices.filter((d) => d.physfn);
    expect(pfs).toHaveLength(6);
    expect(vfs).toHaveLength(96);
    const groups = [...pfs, ...vfs].map((d) => d.iommuGroup);
    expect(new Set(groups).size).toBe(groups.length);
    const gpuGroups = new Map<number, string[]>();
    for (const d of devices.filter((d) => d.vendor === '10de')) gpuGroups.set(d.iommuGroup!, [...(gpuGroups.get(d.iommuGroup!) ?? []), d.class]);
    expect([...gpuGroups.values()]).toEqual(Array.from({ length: 4 }, () => ['030000', '040300', '0c0330', '0c8000']));
    expect(new Set(devices.map((d) => d.numaNode))).toEqual(new Set([0, 1]));
    expect(devices.filter((d) => d.pcie?.type === 'root-port').every((d) => d.acs?.enabled)).toBe(true);
  });

  it('reserves a second bus when VFs spill past the PF bus', () => {
    const spec = parseHostSpec(generateLargeHost({ nics: 1, vfsPerNic: 260, gpus: 0 }));
    const pf = spec.devices.find((d) => d.sriov)!;
    const port = spec.devices.find((d) => d.secondaryBus === pf.address.slice(5, 7))!;
    expect(parseInt(port.subordinateBus!, 16)).toBe(parseInt(port.secondaryBus!, 16) + 1);
    expect(allDevices(spec).filter((d) => d.physfn && d.address.slice(5, 7) !== pf.address.slice(5, 7)).length).toBeGreaterThan(0);
    const dir = path.join(tmp, 'spill');
    materialize(spec, dir);
    const run = lspci(dir);
    expect(pcilibLines(run.stderr)).toEqual([]);
    expect(run.devices).toHaveLength(allDevices(spec).length);
  }, 120_000);

  it('materializes a ~2,000-function host that lspci reads completely', () => {
    const input = generateLargeHost({ nics: 30, vfsPerNic: 64, gpus: 8 });
    const expected = allDevices(parseHostSpec(input));
    expect(expected.length).toBeGreaterThanOrEqual(2000);
    const dir = path.join(tmp, 'large');
    const started = performance.now();
    materialize(input, dir);
    const materializeMs = performance.now() - started;
    const run = lspci(dir);
    expect(pcilibLines(run.stderr)).toEqual([]);
    expect(run.devices).toHaveLength(expected.length);
    const bySlot = new Map(run.devices.map((d) => [d.slot, d]));
    for (const d of expected) {
      const seen = bySlot.get(d.address);
      expect(seen, d.address).toBeDefined();
      expect([seen!.device, seen!.driver, seen!.iommuGroup]).toEqual([d.device, d.driver, d.iommuGroup]);
    }
    console.log(`large host: ${expected.length} functions, materialize ${Math.round(materializeMs)} ms, lspci ${Math.round(run.ms)} ms`);
  }, 120_000);
});
