import type { DeviceSpec } from './HostSpec';

/** Offsets of the capabilities this builder lays out (contract shared with tests and readers). */
export const PCIE_CAP_OFFSET = 0x40;
export const EXT_CAP_OFFSET = 0x100;
export const EXT_CAP_ACS = 0x000d;
export const EXT_CAP_SRIOV = 0x0010;
export const EXT_CAP_REBAR = 0x0015;
/** ACS control bits the kernel requires for isolation (pci_acs_enabled REQ_ACS_FLAGS): SV RR CR UF. */
export const ACS_REQUIRED_CONTROL = 0x001d;

const PCIE_TYPE: Record<NonNullable<DeviceSpec['pcie']>['type'], number> = {
  endpoint: 0x0,
  'legacy-endpoint': 0x1,
  'root-port': 0x4,
  'upstream-port': 0x5,
  'downstream-port': 0x6,
  'pcie-to-pci-bridge': 0x7,
  'rc-endpoint': 0x9,
};

export function isBridgeClass(classCode: string): boolean {
  return classCode.startsWith('0604') || classCode.startsWith('0609');
}

/**
 * The bytes of a device's `config` file, agreeing with its id, class and revision attributes:
 * 256 bytes of conventional space, or 4096 with the PCI Express capability at 0x40 and the
 * extended capabilities (SR-IOV, ACS) chained from 0x100. Little-endian, as the hardware is.
 */
export function buildConfigSpace(device: DeviceSpec, multiFunction: boolean): Buffer {
  const config = Buffer.alloc(device.pcie ? 4096 : 256);
  const bridge = isBridgeClass(device.class);
  config.writeUInt16LE(parseInt(device.vendor, 16), 0x00);
  config.writeUInt16LE(parseInt(device.device, 16), 0x02);
  config.writeUInt16LE(0x0406, 0x04); // memory space, bus master, parity error response
  config.writeUInt8(parseInt(device.revision, 16), 0x08);
  config.writeUInt8(parseInt(device.class.slice(4, 6), 16), 0x09);
  config.writeUInt8(parseInt(device.class.slice(2, 4), 16), 0x0a);
  config.writeUInt8(parseInt(device.class.slice(0, 2), 16), 0x0b);
  config.writeUInt8((bridge ? 0x01 : 0x00) | (multiFunction ? 0x80 : 0x00), 0x0e);
  if (bridge) {
    const primary = parseInt(device.address.split(':')[1]!, 16);
    config.writeUInt8(primary, 0x18);
    config.writeUInt8(parseInt(device.secondaryBus ?? '00', 16), 0x19);
    config.writeUInt8(parseInt(device.subordinateBus ?? device.secondaryBus ?? '00', 16), 0x1a);
  } else if (device.subsystem) {
    config.writeUInt16LE(parseInt(device.subsystem.vendor, 16), 0x2c);
    config.writeUInt16LE(parseInt(device.subsystem.device, 16), 0x2e);
  }
  if (!device.pcie) return config;

  config.writeUInt16LE(0x0010 | 0x0400 /* capabilities list; PCI_STATUS bit 4 */, 0x06);
  config.writeUInt8(PCIE_CAP_OFFSET, 0x34);
  const cap = PCIE_CAP_OFFSET;
  config.writeUInt8(0x10, cap); // capability id: PCI Express
  config.writeUInt8(0x00, cap + 1); // next: none
  config.writeUInt16LE(0x2 | (PCIE_TYPE[device.pcie.type] << 4), cap + 2);
  const flr = device.resetMethods?.includes('flr') ?? false;
  config.writeUInt32LE(flr ? 1 << 28 : 0, cap + 4); // device capabilities: FLR
  const link = device.pcie.linkGen | (device.pcie.linkWidth << 4);
  config.writeUInt32LE(link, cap + 0x0c); // link capabilities: max speed, max width
  config.writeUInt16LE(link, cap + 0x12); // link status: current speed, width

  const extended: Array<{ id: number; version: number; body: Buffer }> = [];
  if (device.sriov) {
    const body = Buffer.alloc(0x3c);
    body.writeUInt16LE(device.sriov.numVfs > 0 ? 0x0009 : 0x0000, 0x04); // control: VF enable, VF MSE
    body.writeUInt16LE(device.sriov.totalVfs, 0x08); // InitialVFs
    body.writeUInt16LE(device.sriov.totalVfs, 0x0a); // TotalVFs
    body.writeUInt16LE(device.sriov.numVfs, 0x0c); // NumVFs
    body.writeUInt16LE(device.sriov.offset, 0x10); // First VF Offset
    body.writeUInt16LE(device.sriov.stride, 0x12); // VF Stride
    body.writeUInt16LE(parseInt(device.sriov.vfDevice, 16), 0x16); // VF Device ID
    extended.push({ id: EXT_CAP_SRIOV, version: 1, body });
  }
  if (device.acs) {
    const body = Buffer.alloc(0x04);
    body.writeUInt16LE(0x005f, 0x00); // capability: SV TB RR CR UF DT
    body.writeUInt16LE(device.acs.enabled ? ACS_REQUIRED_CONTROL : 0x0000, 0x02);
    extended.push({ id: EXT_CAP_ACS, version: 1, body });
  }
  if (device.resizableBars) extended.push({ id: EXT_CAP_REBAR, version: 1, body: rebarBody(device.resizableBars) });
  let offset = EXT_CAP_OFFSET;
  extended.forEach((capability, i) => {
    const size = 4 + capability.body.length;
    const next = i + 1 < extended.length ? (offset + size + 3) & ~3 : 0;
    config.writeUInt32LE((capability.id & 0xffff) | ((capability.version & 0xf) << 16) | (next << 20), offset);
    capability.body.copy(config, offset + 4);
    offset = next;
  });
  return config;
}

const MIB = 1024 * 1024;

/**
 * The Resizable BAR capability's entries (PCIe r6, 7.8.6): per BAR a capability register (bit
 * 4 + n: 2^n MiB supported, up to 128 TiB) and a control register (BAR index, the entry count in
 * the first, the current size as log2 MiB, sizes past 128 TiB in bits 16-31).
 */
function rebarBody(bars: NonNullable<DeviceSpec['resizableBars']>): Buffer {
  const body = Buffer.alloc(8 * bars.length);
  bars.forEach((bar, i) => {
    let capability = 0;
    let control = bar.index | ((i === 0 ? bars.length : 0) << 5) | (Math.log2(bar.current / MIB) << 8);
    for (const size of bar.sizes) {
      const n = Math.log2(size / MIB);
      if (n < 28) capability |= 1 << (n + 4);
      else control |= 1 << (n - 28 + 16);
    }
    body.writeUInt32LE(capability >>> 0, i * 8);
    body.writeUInt32LE(control >>> 0, i * 8 + 4);
  });
  return body;
}

/** What the kernel's resourceN_resize shows (Linux 6.1+): the supported sizes as a bitmask, bit n for 2^n MiB, 16 hex digits. */
export function resizeAttribute(sizes: readonly number[]): string {
  const mask = sizes.reduce((m, size) => m | (1n << BigInt(Math.log2(size / MIB))), 0n);
  return mask.toString(16).padStart(16, '0');
}
