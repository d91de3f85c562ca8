import { describe, expect, it } from 'vitest';
import { walkCapabilities, walkExtendedCapabilities } from '@passthru/pci-discovery';
import { decodeAcsCapability, findPcieCapability, inspectPciConfig } from '../src/AcsCapability';

/** Builds a config space: header type, standard caps [id, type?] chained from 0x40, extended caps chained from 0x100. */
function buildConfig(opts: {
  size?: number;
  headerType?: number;
  pcieType?: number;
  extra?: Array<{ id: number; body?: number[] }>;
  acs?: { cap: number; ctrl: number };
}): Buffer {
  const b = Buffer.alloc(opts.size ?? 4096);
  b.writeUInt16LE(0x8086, 0);
  b.writeUInt16LE(0x1234, 2);
  b[0x0e] = opts.headerType ?? 0;
  if (opts.pcieType !== undefined) {
    b.writeUInt16LE(0x0010, 0x06); // status: capabilities list
    b[0x34] = 0x40;
    b[0x40] = 0x01; // power management
    b[0x41] = 0x50;
    b[0x50] = 0x05; // MSI
    b[0x51] = 0x60;
    b[0x60] = 0x10; // PCI Express
    b[0x61] = 0x00;
    b.writeUInt16LE((opts.pcieType << 4) | 2, 0x62);
  }
  if (b.length > 0x100) {
    const ext: Array<{ id: number; body: number[] }> = [...(opts.extra ?? []).map((e) => ({ id: e.id, body: e.body ?? [] }))];
    if (opts.acs) ext.push({ id: 0x000d, body: [opts.acs.cap & 0xff, opts.acs.cap >> 8, opts.acs.ctrl & 0xff, opts.acs.ctrl >> 8] });
    let pos = 0x100;
    ext.forEach((e, i) => {
      const next = i + 1 < ext.length ? pos + 0x40 : 0;
      b.writeUInt32LE(((next << 20) | (1 << 16) | e.id) >>> 0, pos);
      e.body.forEach((v, k) => {
        b[pos + 4 + k] = v;
      });
      pos = next;
    });
  }
  return b;
}

describe('decodeAcsCapability', () => {
  it('decodes a root port with full ACS enabled', () => {
    const config = buildConfig({ pcieType: 4, extra: [{ id: 0x0001 }, { id: 0x0019 }], acs: { cap: 0x005f, ctrl: 0x001d } });
    const acs = decodeAcsCapability(config);
    expect(acs).toEqual({
      present: true,
      offset: 0x180,
      capability: {
        sourceValidation: true,
        translationBlocking: true,
        p2pRequestRedirect: true,
        p2pCompletionRedirect: true,
        upstreamForwarding: true,
        p2pEgressControl: false,
        directTranslatedP2p: true,
        egressControlVectorSize: 0,
        raw: 0x5f,
      },
      control: {
        sourceValidation: true,
        translationBlocking: false,
        p2pRequestRedirect: true,
        p2pCompletionRedirect: true,
        upstreamForwarding: true,
        p2pEgressControl: false,
        directTranslatedP2p: false,
        raw: 0x1d,
      },
      isolates: true,
    });
    expect(inspectPciConfig(config)).toMatchObject({ pcie: { offset: 0x60, version: 2, portType: 'root-port' }, kernelAcsEnabled: true, extendedConfig: true });
  });

  it('a missing required flag in control means no isolation', () => {
    const config = buildConfig({ pcieType: 6, acs: { cap: 0x001f, ctrl: 0x0019 } }); // RR implemented, not enabled
    expect(decodeAcsCapability(config).isolates).toBe(false);
    expect(inspectPciConfig(config)).toMatchObject({ pcie: { portType: 'downstream-switch-port' }, kernelAcsEnabled: false });
  });

  it('flags the device does not implement count as hard-wired on (pci_acs_flags_enabled)', () => {
    // Only SV and UF implemented and enabled: RR/CR are not in the capability register.
    const config = buildConfig({ pcieType: 4, acs: { cap: 0x0011, ctrl: 0x0011 } });
    expect(decodeAcsCapability(config).isolates).toBe(true);
  });

  it('endpoints need ACS only when multi-function', () => {
    const single = buildConfig({ pcieType: 0 });
    expect(inspectPciConfig(single)).toMatchObject({
      multiFunction: false,
      acs: { present: false, isolates: false },
      kernelAcsEnabled: true,
      pcie: { portType: 'endpoint' },
    });
    const multi = buildConfig({ pcieType: 0, headerType: 0x80 });
    expect(inspectPciConfig(multi)).toMatchObject({ multiFunction: true, kernelAcsEnabled: false });
    const multiAcs = buildConfig({ pcieType: 0, headerType: 0x80, acs: { cap: 0x001f, ctrl: 0x001d } });
    expect(inspectPciConfig(multiAcs).kernelAcsEnabled).toBe(true);
  });

  it('decodes every port type', () => {
    const names = [
      [0, 'endpoint'],
      [1, 'legacy-endpoint'],
      [4, 'root-port'],
      [5, 'upstream-switch-port'],
      [6, 'downstream-switch-port'],
      [7, 'pcie-to-pci-bridge'],
      [8, 'pci-to-pcie-bridge'],
      [9, 'rc-integrated-endpoint'],
      [10, 'rc-event-collector'],
      [3, 'unknown'],
    ] as const;
    for (const [type, name] of names)
      expect(findPcieCapability(buildConfig({ pcieType: type, headerType: type >= 4 && type <= 8 ? 1 : 0 }))?.portType).toBe(name);
    expect(inspectPciConfig(buildConfig({ pcieType: 7, headerType: 1, acs: { cap: 0x1f, ctrl: 0x1f } })).kernelAcsEnabled).toBe(false);
  });
});

describe('config space guards', () => {
  it('256-byte configs have no extended space; 64-byte reads have no capabilities', () => {
    const conventional = buildConfig({ size: 256, pcieType: 4 });
    expect(walkExtendedCapabilities(conventional)).toEqual([]);
    expect(inspectPciConfig(conventional)).toMatchObject({
      configSize: 256,
      extendedConfig: false,
      capabilitiesReadable: true,
      acs: { present: false },
      pcie: { portType: 'root-port' },
    });
    const unprivileged = buildConfig({ pcieType: 4 }).subarray(0, 64);
    expect(inspectPciConfig(unprivileged)).toMatchObject({ configSize: 64, capabilitiesReadable: false, capabilities: [] });
    expect(inspectPciConfig(unprivileged).pcie).toBeUndefined();
  });

  it('a conventional PCI device (no PCIe capability) never isolates', () => {
    const pci = Buffer.alloc(256);
    pci[0x0e] = 0;
    expect(inspectPciConfig(pci)).toMatchObject({ capabilities: [], kernelAcsEnabled: false });
  });

  it('stops on loops, bad pointers, all-ones and truncated capabilities', () => {
    const loop = buildConfig({ pcieType: 0 });
    loop[0x61] = 0x40; // PCIe cap points back to PM
    expect(walkCapabilities(loop).map((c) => c.offset)).toEqual([0x40, 0x50, 0x60]);
    const extLoop = buildConfig({ extra: [{ id: 1 }, { id: 2 }] });
    extLoop.writeUInt32LE(((0x100 << 20) | (1 << 16) | 2) >>> 0, 0x140); // second points to first
    expect(walkExtendedCapabilities(extLoop).map((c) => c.id)).toEqual([1, 2]);
    const beyond = buildConfig({ extra: [{ id: 1 }] });
    beyond.writeUInt32LE(((0xffc << 20) | (1 << 16) | 1) >>> 0, 0x100);
    expect(walkExtendedCapabilities(beyond.subarray(0, 0x200)).map((c) => c.id)).toEqual([1]);
    const gone = Buffer.alloc(4096, 0xff);
    expect(walkExtendedCapabilities(gone)).toEqual([]);
    expect(() => inspectPciConfig(gone)).not.toThrow();
    expect(inspectPciConfig(Buffer.alloc(0))).toMatchObject({ configSize: 0, capabilities: [], acs: { present: false } });
    // ACS header at the very end with no room for its registers
    const cut = Buffer.alloc(0x104);
    cut.writeUInt32LE(0x0001000d, 0x100);
    expect(decodeAcsCapability(cut).present).toBe(false);
  });
});
