import type { ExportDevice, HostReport } from './HostReport';

export const DEFAULT_RESOURCE_PREFIX = 'passthru.io';

export interface DeviceSelection {
  /** Only devices already on vfio-pci in a viable group (`ready`); default: also `bindable` ones (ready after `passthru bind`). */
  boundOnly?: boolean;
  /** The resource name's prefix (`<prefix>/<name>`). */
  resourcePrefix?: string;
}

/** The devices a snippet offers: endpoints that are ready, or bindable unless boundOnly. */
export function offeredDevices(report: HostReport, selection: DeviceSelection = {}): ExportDevice[] {
  return report.devices.filter((d) => d.readiness === 'ready' || (!selection.boundOnly && d.readiness === 'bindable'));
}

export interface KubevirtPciHostDevice {
  pciVendorSelector: string;
  resourceName: string;
  externalResourceProvider: boolean;
}
export interface KubevirtPermittedHostDevices {
  permittedHostDevices: { pciHostDevices: KubevirtPciHostDevice[] };
}

/**
 * KubeVirt's `spec.configuration.permittedHostDevices` for the KubeVirt CR: one
 * `pciHostDevices` entry per vendor:device among the offered devices. KubeVirt's own device
 * plugin then offers every vfio-pci device with that id (it neither binds nor checks groups:
 * that is what passthru did). `pciVendorSelector` is VENDOR:DEVICE in upper-case hex, as
 * KubeVirt's documentation writes it.
 */
export function renderKubevirt(report: HostReport, selection: DeviceSelection = {}): KubevirtPermittedHostDevices {
  const prefix = selection.resourcePrefix ?? DEFAULT_RESOURCE_PREFIX;
  const ids = [...new Set(offeredDevices(report, selection).map((d) => `${d.vendorId}:${d.deviceId}`))].sort();
  return {
    permittedHostDevices: {
      pciHostDevices: ids.map((id) => ({
        pciVendorSelector: id.toUpperCase(),
        resourceName: `${prefix}/pci_${id.replace(':', '_')}`,
        externalResourceProvider: false,
      })),
    },
  };
}
