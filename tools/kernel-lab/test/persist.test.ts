// persist across a real reboot: the guest persists, stops, and boots again from the same /etc;
// the module loader (modprobe, with modprobe.d, for each device's modalias, as udev does at
// boot) must put the device on vfio-pci before its native driver ever binds it.
import { describe, expect, it } from 'vitest';
import { step, stepFile } from './records';

const bootOf = (run: string) => ({ kernel: step(run, 'boot').kernel, dmesg: stepFile(run, 'boot', 'dmesg') });
/** dmesg lines in which a driver speaks of a device (what a probe prints). */
const probedBy = (dmesg: string, driver: string, address: string) => dmesg.split('\n').filter((l) => l.includes(`${driver} ${address}`));

describe('persist, then a real reboot', () => {
  it('by ids (the e1000 is the only device with 8086:100e): vfio-pci owns it at boot, e1000 never bound it', () => {
    const persisted = step('persist', 'persist', 'steps-boot-1');
    expect(persisted.rc, persisted.stderr).toBe(0);
    expect(persisted.stdout).toContain('ids=8086:100e');
    const { kernel, dmesg } = bootOf('persist');
    expect(kernel.devices['0000:06:00.0']).toMatchObject({ driver: 'vfio-pci', net: [] });
    expect(kernel.modules).toContain('vfio_pci');
    expect(probedBy(dmesg, 'e1000', '0000:06:00.0')).toEqual([]);
  });

  it('by address, one of two identical e1000e NICs: it boots on vfio-pci, its twin keeps e1000e', () => {
    const persisted = step('persist', 'persist', 'steps-boot-1');
    expect(persisted.stdout).toContain('/sys/bus/pci/devices/0000:01:00.0/driver_override');
    const { kernel, dmesg } = bootOf('persist');
    expect(kernel.devices['0000:01:00.0']).toMatchObject({ driver: 'vfio-pci', driverOverride: 'vfio-pci', net: [] });
    expect(kernel.devices['0000:02:00.0']!.driver).toBe('e1000e');
    expect(kernel.devices['0000:02:00.0']!.net.length).toBe(1);
    expect(probedBy(dmesg, 'e1000e', '0000:01:00.0')).toEqual([]);
    expect(probedBy(dmesg, 'e1000e', '0000:02:00.0').length).toBeGreaterThan(0);
  });
});
