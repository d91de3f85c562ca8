import type { Finding } from './Finding';
import { inProject, deviceSet } from './configOff';
import type { Instance } from './schemas';

/** Managed network name -> its type ("bridge", "macvlan", "ovn"...), to know what `network=` NICs are. */
export type NetworkTypes = Readonly<Record<string, string>>;

/** Containers without limits.cpu / limits.memory / limits.processes (VMs always have a CPU and memory size). */
export function limitFindings(instance: Instance): Finding[] {
  const cfg = instance.expanded_config;
  const EXAMPLE: Record<string, string> = { 'limits.cpu': '2', 'limits.memory': '2GiB', 'limits.processes': '2000' };
  const missing = Object.keys(EXAMPLE).filter((k) => !cfg[k]?.trim());
  if (missing.length === 0) return [];
  const serious = missing.some((k) => k !== 'limits.cpu');
  return [
    {
      id: 'limits-missing',
      severity: serious ? 'medium' : 'low',
      summary: `no ${missing.join(', ')}: the container can ${[missing.includes('limits.memory') ? 'exhaust host memory' : '', missing.includes('limits.processes') ? 'exhaust PIDs (fork bomb)' : '', missing.includes('limits.cpu') ? 'take every CPU' : ''].filter(Boolean).join(', ')}`,
      fix: `lxc config set ${instance.name}${inProject(instance)} ${missing.map((k) => `${k}=${EXAMPLE[k]}`).join(' ')} (example values: size them to the workload)`,
    },
  ];
}

/** Bridged NICs (nictype=bridged, or network= a managed bridge) without MAC/IP filtering or port isolation. */
export function nicFindings(instance: Instance, networks: NetworkTypes): Finding[] {
  const out: Finding[] = [];
  for (const [name, d] of Object.entries(instance.expanded_devices)) {
    if (d.type !== 'nic') continue;
    const bridged = d.nictype === 'bridged' || (d.nictype === undefined && d.network !== undefined && networks[d.network] === 'bridge');
    if (!bridged) continue;
    const on = (k: string) => d[k] === 'true';
    const where = `device ${name} (bridged to ${d.parent ?? d.network})`;
    if (!on('security.mac_filtering'))
      out.push({
        id: 'nic-mac-filtering-off',
        severity: 'medium',
        summary: `${where} has no MAC filtering: the instance can send as any MAC and spoof its neighbours`,
        fix: deviceSet(instance, name, 'security.mac_filtering=true'),
      });
    if (!on('security.ipv4_filtering') && !on('security.ipv6_filtering'))
      out.push({
        id: 'nic-ip-filtering-off',
        severity: 'low',
        summary: `${where} has no IP filtering: the instance can use any IPv4/IPv6 address`,
        fix: `${deviceSet(instance, name, 'security.ipv4_filtering=true security.ipv6_filtering=true')} (on an unmanaged bridge also set ipv4.address / ipv6.address)`,
      });
    if (!on('security.port_isolation'))
      out.push({
        id: 'nic-port-isolation-off',
        severity: 'low',
        summary: `${where} is not port-isolated: it reaches every other port of the bridge directly`,
        fix: deviceSet(instance, name, 'security.port_isolation=true'),
      });
  }
  return out;
}
