/** Reset: whether an asked device can be reset between VMs, how, and what else a reset hits. */
import { slotOf, type PciDevice, pciDevicePath } from '@passthru/pci-discovery';
import type { CheckResult } from '../DoctorReport';
import { tryReadBytes, tryReadText } from '@passthru/hostfs';
import { BUS_RESETS, FUNCTION_RESETS, flrFromConfig, noResetFamily } from '../ResetCapability';
import { check } from './check';
import { describeDevice } from './devices';
import type { Facts } from './Facts';

/** Every device a secondary bus reset of `d`'s parent bridge resets: the bridge's other children and all below them. */
export function busResetHits(f: Facts, d: PciDevice): PciDevice[] {
  if (d.parent === null) return [];
  const below = (bridge: string): PciDevice[] => f.scan.devices.filter((x) => x.parent === bridge).flatMap((x) => [x, ...below(x.address)]);
  return below(d.parent).filter((x) => x.address !== d.address);
}

function vendorResetLoaded(f: Facts): { loaded: boolean; evidence: string } {
  const proc = tryReadText(f.host, '/proc/modules');
  const loaded = proc.value !== undefined && /^vendor_reset\s/m.test(proc.value);
  return { loaded, evidence: `/proc/modules: ${proc.value === undefined ? 'not readable' : loaded ? 'vendor_reset loaded' : 'no vendor_reset'}` };
}

export function checkReset(f: Facts, address: string): CheckResult {
  const id = `reset.${address}`;
  const d = f.byAddress.get(address);
  if (d === undefined) return check(id, 'SKIP', `No PCI device ${address} on this host.`, [`${pciDevicePath(address)}: absent`]);
  const sysfs = pciDevicePath(address);
  const ev: string[] = [];
  let methods = d.resetMethods;
  const [major, minor] = (f.release ?? '').split(/[.-]/).map(Number);
  const hasResetMethodFile = major !== undefined && minor !== undefined && (major > 5 || (major === 5 && minor >= 15));
  if (methods !== null) ev.push(`${sysfs}/reset_method: ${methods.join(' ') || '(empty)'}`);
  else if (hasResetMethodFile) {
    // Linux 5.15+ hides reset_method when the device has no reset method at all.
    ev.push(`${sysfs}/reset_method: absent (kernel ${f.release} hides it when the device has no reset method)`);
    methods = [];
  } else {
    // Kernels before 5.15 have no reset_method: FLR from the PCIe capability, bus reset when a bridge is above.
    ev.push(`${sysfs}/reset_method: absent (kernel ${f.release ?? 'release unknown'}: before 5.15, or unknown)`);
    const bytes = tryReadBytes(f.host, `${sysfs}/config`, 4096);
    const flr = bytes.value === undefined ? undefined : flrFromConfig(new Uint8Array(bytes.value));
    ev.push(`${sysfs}/config: ${flr === undefined ? 'PCIe Device Capabilities not readable' : `PCIe Device Capabilities FLR ${flr ? '+' : '-'}`}`);
    if (flr === undefined)
      return check(
        id,
        'SKIP',
        `Cannot tell how ${address} resets: no reset_method, and its config space past 64 bytes is not readable.`,
        ev,
        'Run passthru doctor as root.',
      );
    methods = [...(flr ? ['flr'] : []), ...(d.parent !== null ? ['bus'] : [])];
  }
  const family = noResetFamily(d.vendorId, d.deviceId);
  if (family !== undefined) {
    const vr = vendorResetLoaded(f);
    ev.push(vr.evidence);
    if (vr.loaded && methods.includes('device_specific'))
      return check(
        id,
        'PASS',
        `${address} is an ${family} GPU, which does not reset by itself; vendor-reset is loaded and reset_method offers device_specific.`,
        ev,
      );
    return check(
      id,
      'WARN',
      `${address} is an ${family} GPU, known not to come back from a reset (${methods.join(', ') || 'none'} offered) without the out-of-tree vendor-reset module${vr.loaded ? ', which is loaded but not selected' : ''}: after the VM stops, it can be reused only after a host reboot.`,
      ev,
      `Install vendor-reset (https://github.com/gnif/vendor-reset), load it (modprobe vendor-reset; add it to /etc/modules-load.d), then: echo device_specific > ${sysfs}/reset_method`,
    );
  }
  const own = methods.filter((m) => (FUNCTION_RESETS as readonly string[]).includes(m));
  if (own.length > 0)
    return check(
      id,
      'PASS',
      `${address} resets by itself (${own.join(', ')}${methods.some((m) => (BUS_RESETS as readonly string[]).includes(m)) ? ', bus as fallback' : ''}).`,
      ev,
    );
  if (methods.some((m) => (BUS_RESETS as readonly string[]).includes(m))) {
    const hits = busResetHits(f, d);
    const others = hits.filter((x) => slotOf(x.address) !== slotOf(address));
    ev.push(...hits.map((x) => `bus reset also resets ${describeDevice(x, x.address)}`));
    const what = hits.length === 0 ? 'nothing else is behind its bridge' : `it also resets ${hits.map((x) => x.address).join(', ')}`;
    if (others.length === 0)
      return check(
        id,
        'PASS',
        `${address} resets only by a secondary bus reset of bridge ${d.parent}: ${what}${hits.length ? ' (functions of the same card, which move with it)' : ''}.`,
        ev,
      );
    return check(
      id,
      'WARN',
      `${address} resets only by a secondary bus reset of bridge ${d.parent}, which also resets devices of other cards: ${others.map((x) => describeDevice(x, x.address)).join('; ')}.`,
      ev,
      `Pass ${others.map((x) => x.address).join(', ')} to the same VM, or move the card to a slot of its own; a VM cannot be reset without disturbing them.`,
    );
  }
  // A function without a method of its own on a card whose other function offers a bus reset is
  // reset with the card: vfio's hot reset of that function resets the whole slot behind the bridge.
  const carrier = [...f.byAddress.values()].find(
    (o) => o.address !== address && slotOf(o.address) === slotOf(address) && (o.resetMethods ?? []).some((m) => (BUS_RESETS as readonly string[]).includes(m)),
  );
  if (methods.length === 0 && carrier) {
    ev.push(`${carrier.sysfsPath}/reset_method: ${carrier.resetMethods!.join(' ')}`);
    return check(id, 'PASS', `${address} has no reset of its own; it is reset with its card, by the secondary bus reset that ${carrier.address} offers.`, ev);
  }
  return check(
    id,
    'WARN',
    `${address} offers no reset method: after a VM stops, its state carries over to the next user, and reuse may need a host reboot.`,
    ev,
    'Check for firmware updates; where the device has a known quirk, vendor-reset may add a device_specific reset.',
  );
}
