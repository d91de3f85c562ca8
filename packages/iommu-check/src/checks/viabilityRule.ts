/**
 * The group-viability rule, and its only home in iommu-check: VFIO hands out an IOMMU group
 * only when every endpoint in it is on vfio-pci or pci-stub, or has no driver at all.
 */
export function isVfioReady(driver: string | null): boolean {
  return driver === null || driver === 'vfio-pci' || driver === 'pci-stub';
}
