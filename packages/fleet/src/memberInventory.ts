/**
 * The devices of one cluster member as attach's preflight sees them when the instance lives on
 * that member and not on this host. What exists there comes from the member's LXD resources
 * (pci.devices joined with gpu.cards by address, as `fleet status` joins them; network cards give
 * the NICs and their interfaces); whether a VM can take a device comes from the readiness the
 * member published (user.passthru.*), because LXD's resources say nothing of viability and on
 * LXD 5.0 an iommu_group of 0 means nothing. No publication, or a stale one, refuses a VM device
 * and names `passthru fleet publish` on that member. Pure: the facts are read by clusterAttach.
 */
import type { DeviceInventory, IommuVerdict, Resources } from '@passthru/lxd-device-attach';
import { keepsGroupViable, PCI_DEVICES, type PciDevice } from '@passthru/pci-discovery';
import { joinDevices } from './fleetStatus';
import type { Published } from './published';

export interface MemberFacts {
  member: string;
  resources: Resources;
  /** The member's published readiness, or null when it published none. */
  published: Published | null;
  ageSeconds: number | null;
  stale: boolean;
  staleAfterSeconds: number;
  /** The server that answered, as messages name it: LXD (the default) or Incus. */
  product?: string;
}

/** LXD gives no class code: a function on pcieport is a PCIe port, a bridge, which group viability leaves out. */
const BRIDGE_DRIVER = 'pcieport';
const USABLE_VERDICTS = new Set(['ready', 'ready-with-warnings']);

export function memberInventory(facts: MemberFacts): DeviceInventory {
  const { member, resources, published, ageSeconds, stale, staleAfterSeconds } = facts;
  const product = facts.product ?? 'LXD';
  const where = `cluster member ${member}`;
  const resourcesPath = `${product} /1.0/resources?target=${member}`;
  const joined = joinDevices(resources, stale ? null : published);
  const named = new Map((resources.pci?.devices ?? []).map((d) => [d.pci_address, d]));
  const nics = new Map((resources.network?.cards ?? []).filter((c) => c.pci_address).map((c) => [c.pci_address, c.ports.map((p) => p.id)]));
  const devices: PciDevice[] = joined.map((d) => {
    const net = nics.get(d.address);
    return {
      address: d.address,
      vendorId: d.vendorId,
      deviceId: d.deviceId,
      subsystemVendorId: null,
      subsystemDeviceId: null,
      // LXD gives no class code: a GPU card is a display controller, a network card a network
      // controller, anything else unclassified (attach then offers it to VMs as a pci device).
      class: d.gpu ? '030000' : net ? '020000' : 'ff0000',
      revision: null,
      vendorName: named.get(d.address)?.vendor || null,
      deviceName: named.get(d.address)?.product || null,
      subsystemName: null,
      className: d.gpu ? `Display controller (${product} gpu.cards)` : net ? `Network controller (${product} network.cards)` : null,
      driver: d.driver,
      driverOverride: null,
      iommuGroup: d.iommuGroup,
      numaNode: null,
      parent: null,
      sysfsPath: `${PCI_DEVICES}/${d.address}`,
      functions: [],
      isBridge: d.driver === BRIDGE_DRIVER,
      bootVga: null,
      sriov: null,
      net: net ?? [],
      drm: [],
      resetMethods: null,
      link: null,
      // LXD's resources name no BARs.
      bars: [],
      resizableBars: null,
    };
  });
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  const publication = published
    ? `the readiness it published ${ageSeconds} s ago (${published.verdict}${stale ? `, stale: older than ${staleAfterSeconds} s` : ''})`
    : 'no published readiness';

  const iommu = (device: PciDevice): IommuVerdict => {
    const refused = (plan: string[], toBind: IommuVerdict['toBind'] = []): IommuVerdict => ({
      group: device.iommuGroup,
      viable: false,
      toBind,
      platformFunctions: [],
      plan,
    });
    if (!published)
      return refused([
        `${where} has published no passthrough readiness (no user.passthru.* keys in its member config), so whether a VM can take ${device.address} there is unknown`,
        `run \`passthru fleet publish\` on ${member}, then attach again`,
      ]);
    if (stale)
      return refused([
        `the readiness ${where} published is ${ageSeconds} s old, older than ${staleAfterSeconds} s: it is not trusted for ${device.address}`,
        `run \`passthru fleet publish\` on ${member} again, then attach again`,
      ]);
    if (!USABLE_VERDICTS.has(published.verdict))
      return refused([
        `${where} published the verdict ${published.verdict}${published.failing.length ? ` (failing: ${published.failing.join(', ')})` : ''}: it cannot give a VM a device`,
        `see \`passthru doctor\` on ${member}; after fixing, \`passthru fleet publish\` there`,
      ]);
    const group = device.iommuGroup;
    const inGroup = group === null ? [] : devices.filter((d) => d.iommuGroup === group && d.address !== device.address);
    const mates = inGroup.filter((d) => !d.isBridge);
    const ports = inGroup.length - mates.length;
    if (!published.vmReady.includes(device.address)) {
      const toBind = [device, ...mates].filter((d) => !keepsGroupViable(d.driver)).map((d) => ({ address: d.address, driver: d.driver }));
      const portText = ports ? `${ports} PCIe port${ports === 1 ? '' : 's'}` : '';
      const others = [mates.map((m) => `${m.address} (${m.driver ?? 'no driver'})`).join(', '), portText].filter(Boolean).join(' and ');
      return refused(
        [
          `${device.address} is not VM-ready on ${where}: its readiness, published ${ageSeconds} s ago, names ${published.vmReady.join(', ') || 'no VM-ready device'}`,
          group === null
            ? `${product} there shows it on ${device.driver ?? 'no driver'}, in no IOMMU group (the member published that its IOMMU is off)`
            : `${product} there shows it on ${device.driver ?? 'no driver'} in IOMMU group ${group}${others ? ` with ${others}` : ''}`,
          ...toBind.map((m) => `  ${m.address}: ${m.driver} -> vfio-pci`),
          group === null
            ? `plan: enable the IOMMU on ${member} (passthru doctor there), then \`passthru fleet publish\` there`
            : `plan: on ${member}, passthru bind group:${group} --dry-run (then without --dry-run), then \`passthru fleet publish\` there, and attach again`,
        ],
        toBind,
      );
    }
    return {
      group,
      viable: true,
      toBind: [],
      platformFunctions: [],
      plan: [`IOMMU group ${group ?? '?'} is VM-ready on ${where} (its readiness, published ${ageSeconds} s ago: ${published.verdict})`],
    };
  };

  return {
    where,
    note: `checked against ${where}, where the instance lives: its devices from ${resourcesPath}, and ${publication}`,
    pciAt: (address) => byAddress.get(address) ?? null,
    pciDevices: () => devices,
    netdev: (iface) => {
      const card = [...nics].find(([, ports]) => ports.includes(iface));
      return card ? (byAddress.get(card[0]) ?? null) : undefined;
    },
    usb: (vendorId, productId) => {
      const u = (resources.usb?.devices ?? []).find((x) => x.vendor_id === vendorId && x.product_id === productId);
      return u ? `bus ${u.bus_address} device ${u.device_address}` : null;
    },
    absent: (kind) => `${resourcesPath} lists no such ${kind === 'pci' ? 'function' : 'USB device'}`,
    iommu,
    // LXD 5.0 reports a numa_node of -1 as 0: that member's NUMA layout is not known from here.
    numaWarnings: () => [],
  };
}
