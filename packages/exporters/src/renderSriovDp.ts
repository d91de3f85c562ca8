import { deviceClassOf } from '@passthru/pci-discovery';
import { VFIO_DRIVER } from '@passthru/vfio-binder';
import { DEFAULT_RESOURCE_PREFIX, offeredDevices, type DeviceSelection } from './renderKubevirt';
import type { HostReport } from './HostReport';

export interface SriovDpSelectors {
  vendors: string[];
  devices: string[];
  drivers: string[];
  pfNames?: string[];
  rootDevices?: string[];
  pciAddresses?: string[];
}
export interface SriovDpResource {
  resourceName: string;
  resourcePrefix: string;
  selectors: SriovDpSelectors;
}
export interface SriovDpConfig {
  resourceList: SriovDpResource[];
}

/** A resource name part: [A-Za-z0-9_] only (the plugin's rule). */
const part = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');

/**
 * The SR-IOV network device plugin's config.json for the offered network functions, all on
 * vfio-pci (drivers: ["vfio-pci"]: the plugin hands them to VMs; bindable ones after `bind`):
 * VFs as one resource per PF and vendor:device (pfNames when the PF has a netdev, else
 * rootDevices: the PF's address), other network functions one resource per vendor:device
 * listed by pciAddresses. The plugin neither binds nor checks groups: passthru did.
 */
export function renderSriovDp(report: HostReport, selection: DeviceSelection = {}): SriovDpConfig {
  const prefix = selection.resourcePrefix ?? DEFAULT_RESOURCE_PREFIX;
  const byAddress = new Map(report.devices.map((d) => [d.address, d]));
  const buckets = new Map<string, SriovDpResource>();
  for (const d of offeredDevices(report, selection).filter((x) => deviceClassOf(x.class) === 'net')) {
    const pf = d.sriov?.role === 'vf' ? byAddress.get(d.sriov.physfn) : undefined;
    const pfName = pf?.net[0];
    const key = d.sriov?.role === 'vf' ? `vf ${d.sriov.physfn} ${d.vendorId}:${d.deviceId}` : `pci ${d.vendorId}:${d.deviceId}`;
    let r = buckets.get(key);
    if (!r) {
      const selectors: SriovDpSelectors = { vendors: [d.vendorId], devices: [d.deviceId], drivers: [VFIO_DRIVER] };
      if (d.sriov?.role === 'vf') {
        if (pfName !== undefined) selectors.pfNames = [pfName];
        else selectors.rootDevices = [d.sriov.physfn];
      } else selectors.pciAddresses = [];
      const name = d.sriov?.role === 'vf' ? `sriov_${part(pfName ?? d.sriov.physfn)}_${d.vendorId}_${d.deviceId}` : `pci_${d.vendorId}_${d.deviceId}`;
      r = { resourceName: name, resourcePrefix: prefix, selectors };
      buckets.set(key, r);
    }
    r.selectors.pciAddresses?.push(d.address);
  }
  return { resourceList: [...buckets.values()].sort((a, b) => a.resourceName.localeCompare(b.resourceName)) };
}
