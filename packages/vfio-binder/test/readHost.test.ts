// The read model: one read of the host, one verdict (host checks and asked devices only), and
// VM-ready groups that exclude what another manager holds.
import { afterEach, describe, expect, it } from 'vitest';
import { bindDevices, readHost } from '../src/index';
import { cleanSimHosts, instant, simHost, state, targets } from './simHost';

afterEach(cleanSimHosts);

describe('readHost', () => {
  it("examined endpoints' checks inform, never change the verdict; asked ones do", () => {
    const { host } = simHost('amd-shared-group', 'readhost');
    const plain = readHost(host);
    const examined = readHost(host, { examine: 'endpoints' });
    expect(examined.verdict).toBe(plain.verdict);
    expect(examined.doctor.checks.map((c) => c.id)).toEqual(plain.doctor.checks.map((c) => c.id));
    expect(examined.deviceChecks.get('0000:06:00.0')?.find((c) => c.id === 'group.viable.0000:06:00.0')?.status).toBe('FAIL');
    const asked = readHost(host, { asked: ['06:00.0'] });
    expect(asked.verdict).toBe('not-ready');
    expect(asked.doctor.checks.some((c) => c.id === 'group.viable.0000:06:00.0')).toBe(true);
  });

  it('a group passthru bound is VM-ready; its endpoints on vfio-pci are the VM-ready functions', () => {
    const { host } = simHost('intel-workstation', 'readhost');
    expect(readHost(host).vmReadyGroups).toEqual([]);
    expect(bindDevices(host, state(host), { targets: targets('group:12') }, instant).status).toBe('applied');
    const view = readHost(host);
    expect(view.vmReadyGroups).toEqual([12]);
    expect(view.vmReady).toEqual(['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.3']);
  });

  it('a not-ready host has no VM-ready group, whatever its groups say', () => {
    const { host } = simHost('intel-iommu-off', 'readhost');
    const view = readHost(host);
    expect(view.verdict).toBe('not-ready');
    expect(view.vmReadyGroups).toEqual([]);
  });
});
