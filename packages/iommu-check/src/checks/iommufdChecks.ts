/**
 * IOMMUFD readiness (Linux 6.2+): /dev/iommu, CONFIG_IOMMUFD, and the vfio device cdevs
 * (/dev/vfio/devices/vfioN, `vfio-dev/` in sysfs; CONFIG_VFIO_DEVICE_CDEV, 6.6+) of the devices
 * on vfio-pci, which KubeVirt and DRA drivers ask for; and what the legacy container path
 * (/dev/vfio/vfio + /dev/vfio/<group>, vfio_iommu_type1) still needs.
 */
import type { CheckResult } from '../DoctorReport';
import { tryList, tryReadText } from '@passthru/hostfs';
import { check } from './check';
import type { Facts } from './Facts';
import { pciDevicePath } from '@passthru/pci-discovery';

export function checkIommufd(f: Facts): CheckResult {
  const ev: string[] = [];
  const devIommu = f.host.exists('/dev/iommu');
  ev.push(`/dev/iommu: ${devIommu ? 'present' : 'absent'}`);
  const config = f.config?.options.get('CONFIG_IOMMUFD');
  const cdevConfig = f.config?.options.get('CONFIG_VFIO_DEVICE_CDEV');
  ev.push(
    f.config
      ? `${f.config.path}: CONFIG_IOMMUFD=${config ?? 'n'}, CONFIG_VFIO_DEVICE_CDEV=${cdevConfig ?? 'n'}`
      : 'kernel config: not readable (/boot/config-<release>, /proc/config.gz)',
  );
  const modules = tryReadText(f.host, '/proc/modules').value ?? '';
  const loaded = /^iommufd\s/m.test(modules);
  const onVfio = f.scan.devices.filter((d) => d.driver === 'vfio-pci');
  const withoutCdev = onVfio.filter((d) => !(tryList(f.host, pciDevicePath(d.address, 'vfio-dev')).value ?? []).some((n) => /^vfio\d+$/.test(n)));
  for (const d of onVfio) {
    const cdevs = tryList(f.host, pciDevicePath(d.address, 'vfio-dev')).value ?? [];
    ev.push(
      `${pciDevicePath(d.address, 'vfio-dev')}: ${cdevs.length ? cdevs.join(' ') : 'absent'}${cdevs.length ? ` (/dev/vfio/devices/${cdevs[0]} ${f.host.exists(`/dev/vfio/devices/${cdevs[0]}`) ? 'present' : 'absent'})` : ''}`,
    );
  }
  const container = f.host.exists('/dev/vfio/vfio');
  ev.push(`/dev/vfio/vfio (legacy container): ${container ? 'present' : 'absent'}`);
  const legacy = container
    ? 'the legacy path (/dev/vfio/vfio with vfio_iommu_type1, /dev/vfio/<group> per group) is there'
    : 'the legacy container /dev/vfio/vfio is absent too (see vfio.modules)';
  if (devIommu) {
    if (withoutCdev.length > 0) {
      return check(
        'iommufd',
        'WARN',
        `/dev/iommu is present, but ${withoutCdev.map((d) => d.address).join(', ')} on vfio-pci ${withoutCdev.length === 1 ? 'has' : 'have'} no vfio device cdev (vfio-dev/vfioN): IOMMUFD users (KubeVirt, DRA drivers, QEMU iommufd=) cannot open ${withoutCdev.length === 1 ? 'it' : 'them'}; ${legacy}.`,
        ev,
        'Use a kernel with CONFIG_VFIO_DEVICE_CDEV=y (Linux 6.6+), or keep to the legacy vfio container.',
      );
    }
    return check(
      'iommufd',
      'PASS',
      `IOMMUFD is ready: /dev/iommu is present${onVfio.length ? ` and every device on vfio-pci has its cdev under /dev/vfio/devices` : ''}; ${legacy}.`,
      ev,
    );
  }
  if (config === 'm' && !loaded) {
    return check(
      'iommufd',
      'WARN',
      `IOMMUFD is built as a module but not loaded: no /dev/iommu; ${legacy}.`,
      ev,
      'modprobe iommufd (and add iommufd to /etc/modules-load.d/ to load it at boot).',
    );
  }
  const why =
    config === 'n' || (f.config && config === undefined)
      ? 'the kernel is built without CONFIG_IOMMUFD'
      : f.config
        ? 'no /dev/iommu'
        : 'no /dev/iommu, and the kernel config is not readable';
  return check(
    'iommufd',
    'PASS',
    `IOMMUFD is not available (${why}); passthrough uses the legacy vfio container: ${legacy}. IOMMUFD users (KubeVirt, the NVIDIA DRA driver) fall back to it or need a 6.2+ kernel with CONFIG_IOMMUFD.`,
    ev,
  );
}
