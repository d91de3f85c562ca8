// `passthru bind` then `passthru restore --all` inside a container, on a writable copy of a
// fixture bound at /host (and its sys at /sys): after each step the drivers are checked by
// passthru itself and by the peer tools reading /sys with no flags (lspci, driverctl), so
// the simulated kernel's writes are judged by tools that know nothing about passthru.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDriverctlList, parseLspciVmm } from '../../peers/src/index';
import { FIXTURES, HostContainer } from '../src/hostContainer';
import type { ListJson } from '../src/passthruJson';
import { describeDisagreements, Tally } from '../src/tally';

const FIXTURE = 'intel-workstation';
const TARGET = '0000:01:00.0'; // the RTX 4090: IOMMU group 12 with its audio, USB and UCSI functions
const tally = new Tally('bind-restore');

describe(`bind and restore in a container on a copy of ${FIXTURE}`, () => {
  let dir: string;
  let host: HostContainer;
  let before: Map<string, string | null>;
  let group: string[];

  const drivers = async () => {
    const list = await host.passthruJson<ListJson>(['--root', '/host', 'list']);
    const lspci = parseLspciVmm((await host.run(['lspci', '-PP', '-Dvmmnnk'])).stdout);
    const driverctl = parseDriverctlList((await host.run(['driverctl', 'list-devices'])).stdout);
    return { list, lspci, driverctl };
  };
  const agree = (
    step: string,
    want: (address: string) => string | null,
    overridden: (address: string) => boolean,
    seen: Awaited<ReturnType<typeof drivers>>,
  ) => {
    const start = tally.comparisons.length;
    // Every peer must have answered with rows: a loop over an empty answer would agree with anything.
    const ours = seen.list.devices.map((d) => d.address).sort();
    expect(ours.length, `passthru listed no device after ${step}`).toBeGreaterThan(0);
    expect(seen.lspci.map((l) => l.address).sort(), `lspci's devices after ${step}`).toEqual(ours);
    expect(seen.driverctl.map((c) => c.address).sort(), `driverctl's devices after ${step}`).toEqual(ours);
    for (const d of seen.list.devices) {
      tally.compare(FIXTURE, 'passthru', d.address, `driver after ${step}`, want(d.address), d.driver);
      tally.compare(FIXTURE, 'passthru', d.address, `driver_override after ${step}`, overridden(d.address), d.driverOverride !== null);
    }
    for (const l of seen.lspci) tally.compare(FIXTURE, 'lspci', l.address, `driver after ${step}`, l.driver ?? null, want(l.address));
    for (const c of seen.driverctl) {
      tally.compare(FIXTURE, 'driverctl', c.address, `driver after ${step}`, c.driver, want(c.address));
      tally.compare(FIXTURE, 'driverctl', c.address, `override after ${step}`, c.overridden, overridden(c.address));
    }
    const bad = tally.comparisons.slice(start).filter((c) => !c.agreed && !c.anchorBug);
    expect(bad, describeDisagreements(bad)).toEqual([]);
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `passthru-e2e-${FIXTURE}-`));
    fs.cpSync(path.join(FIXTURES, FIXTURE), dir, { recursive: true, verbatimSymlinks: true });
    host = await HostContainer.start(`${FIXTURE} (writable copy)`, dir, true);
    const seen = await drivers();
    before = new Map(seen.list.devices.map((d) => [d.address, d.driver]));
    const target = seen.list.devices.find((d) => d.address === TARGET)!;
    group = seen.list.devices.filter((d) => d.iommuGroup === target.iommuGroup).map((d) => d.address);
  });
  afterAll(async () => {
    await host?.stop();
    tally.write();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('bind moves the whole IOMMU group to vfio-pci, as lspci and driverctl see it in /sys', async () => {
    expect(group.length).toBeGreaterThan(1);
    const r = await host.run(['passthru', '--root', '/host', 'bind', TARGET, '--yes', '--format', 'json']);
    expect(JSON.parse(r.stdout).result.status).toBe('applied');
    const inGroup = (a: string) => group.includes(a);
    agree('bind', (a) => (inGroup(a) ? 'vfio-pci' : before.get(a)!), inGroup, await drivers());
    // The simulated kernel made the group's VFIO device node, seen at the live path too.
    const group12 = (await host.run(['ls', '/dev/vfio'])).stdout.split(/\s+/).filter(Boolean);
    expect(group12).toContain(String((await host.passthruJson<ListJson>(['--root', '/host', 'list'])).devices.find((d) => d.address === TARGET)!.iommuGroup));
  });

  it('restore --all gives every device back its original driver and clears the overrides', async () => {
    await host.run(['passthru', '--root', '/host', 'restore', '--all', '--yes']);
    agree(
      'restore',
      (a) => before.get(a)!,
      () => false,
      await drivers(),
    );
  });
});
