import { type Severity, type Finding, bySeverity } from './Finding';
import { configOff } from './configOff';
import { dockerSigns, dockerSafeFix } from './dockerSigns';
import { LXD_DIRS, normalise, within, sensitivePath, DANGEROUS_NODES, parseRawLxc, idmapMapsHostRoot, hostDevices } from './hostDevices';
import { limitFindings, nicFindings, type NetworkTypes } from './limitFindings';
import { numaFindings } from './numaFindings';
import { syscallFindings } from './syscallFindings';
import { NO_NUMA, type HostNuma } from './numa';
import type { Instance, Project, Certificate } from './schemas';

/** What the host says about DMA and interrupt isolation (for passthrough to VMs). */
export interface HostIommuState {
  /** The kernel made IOMMU groups (null: unknown, e.g. a remote LXD). */
  iommu: boolean | null;
  /** Interrupts go through a remapping chip (IR-...), from /proc/interrupts (null: unknown). */
  interruptRemapping: boolean | null;
}

/**
 * Findings for one instance from its expanded config and devices (LXD's security guidance:
 * unprivileged by default; privileged, nesting and raw.* as risks; idmaps; host paths).
 */
export function auditInstance(
  instance: Instance,
  host: HostIommuState = { iommu: null, interruptRemapping: null },
  networks: NetworkTypes = {},
  numa: HostNuma = NO_NUMA,
): Finding[] {
  const cfg = instance.expanded_config;
  const devs = instance.expanded_devices;
  const container = instance.type === 'container';
  const findings: Finding[] = [];
  const add = (id: string, severity: Severity, summary: string, fix: string) => findings.push({ id, severity, summary, fix });
  const privileged = container && cfg['security.privileged'] === 'true';
  const nesting = cfg['security.nesting'] === 'true';
  const handed = hostDevices(devs);
  const docker = container ? dockerSigns(instance) : [];
  const rawLines = parseRawLxc(cfg['raw.lxc'] ?? '');
  const unconfining = rawLines.filter(
    ({ key, value }) =>
      (/^lxc\.(apparmor\.profile|aa_profile)$/.test(key) && /unconfined/.test(value)) ||
      (key === 'lxc.cap.drop' && value === '') ||
      key === 'lxc.cap.keep' ||
      (/^lxc\.cgroup2?\.devices\.allow$/.test(key) && (/^a\b/.test(value) || /\*:\*/.test(value))),
  );
  const safeDocker = dockerSafeFix(instance, rawLines.length > 0);

  if (privileged) {
    const worse = [handed.length > 0 ? `host devices: ${handed.join(', ')}` : '', nesting ? 'security.nesting' : ''].filter(Boolean);
    add(
      'privileged',
      worse.length > 0 ? 'critical' : 'high',
      `privileged container: root inside is root on the host (no user namespace)${worse.length ? `, with ${worse.join(' and ')}` : ''}`,
      docker.length > 0
        ? `${safeDocker} (the safe Docker-in-LXD pattern)`
        : `lxc config unset ${instance.name} security.privileged (make it unprivileged; use security.idmap.* or shift=true on disks for file access)`,
    );
  }
  if (nesting) {
    const dockerSafe = docker.length > 0 && !privileged;
    add(
      'nesting',
      privileged ? 'critical' : dockerSafe ? 'low' : 'medium',
      privileged
        ? 'security.nesting on a privileged container: a nested runtime can reach the host through /proc and /sys'
        : dockerSafe
          ? `security.nesting on an unprivileged Docker host (${docker.join(', ')}): expected for Docker in LXD, keep it unprivileged`
          : 'security.nesting: the container may mount proc/sysfs and run its own containers, which widens the kernel surface',
      dockerSafe
        ? `keep security.privileged unset; ${safeDocker}`
        : `lxc config unset ${instance.name} security.nesting (unless it runs containers itself; then keep it unprivileged)`,
    );
  }
  if (docker.length > 0 && (privileged || unconfining.length > 0)) {
    const how = [privileged ? 'security.privileged=true' : '', ...unconfining.map(({ key, value }) => `raw.lxc ${key} = ${value}`)].filter(Boolean);
    add('docker-unsafe', privileged ? 'critical' : 'high', `Docker host (${docker.join(', ')}) run the unsafe way: ${how.join(', ')}`, safeDocker);
  }

  const rawLxc = cfg['raw.lxc'];
  if (rawLxc !== undefined && rawLxc.trim() !== '') {
    let other = 0;
    for (const { key, value } of rawLines) {
      if (/^lxc\.cgroup2?\.devices\.allow$/.test(key)) {
        const all = /^a\b/.test(value) || /\*:\*/.test(value);
        add(
          'raw-lxc-devices-allow',
          all || privileged ? 'critical' : 'high',
          `raw.lxc ${key} = ${value}: opens host device nodes behind LXD's back${all ? ' (every device)' : ''}`,
          `remove the line from raw.lxc; pass the device with a unix-char/gpu/usb device (passthru attach ${instance.name} ...)`,
        );
      } else if (key === 'lxc.mount.entry') {
        const source = value.split(/\s+/)[0] ?? '';
        const sensitive = source.startsWith('/') ? sensitivePath(source) : undefined;
        add(
          'raw-lxc-mount-entry',
          sensitive ? 'critical' : source.startsWith('/') ? 'high' : 'medium',
          `raw.lxc lxc.mount.entry mounts host path ${source || '?'} into the container${sensitive ? ` (covers ${sensitive})` : ''}, unshifted and outside LXD's checks`,
          `replace it with a disk device (lxc config device add ${instance.name} NAME disk source=${source || 'PATH'} path=... readonly=true shift=true)`,
        );
      } else if (/^lxc\.(apparmor\.profile|aa_profile)$/.test(key) && /unconfined/.test(value)) {
        add('raw-lxc-apparmor-unconfined', 'high', `raw.lxc ${key} = ${value}: AppArmor confinement off`, `remove the line from raw.lxc`);
      } else if (key === 'lxc.cap.keep' || (key === 'lxc.cap.drop' && value === '')) {
        add(
          'raw-lxc-capabilities',
          privileged ? 'critical' : 'high',
          `raw.lxc ${key} = ${value}: replaces the capabilities LXD drops (sys_module, sys_rawio, sys_time, mac_admin, mac_override)${privileged ? ' in a privileged container, i.e. host capabilities' : ''}`,
          'remove the line from raw.lxc',
        );
      } else if (key === 'lxc.cap.drop') {
        add(
          'raw-lxc-capabilities',
          'low',
          `raw.lxc lxc.cap.drop = ${value}: drops more capabilities (hardening), but outside LXD's validation`,
          `keep it if intended; LXD has no key for it`,
        );
      } else if (/^lxc\.(seccomp|idmap|include|hook\.)/.test(key)) {
        add(
          'raw-lxc-security',
          'high',
          `raw.lxc ${key} = ${value}: overrides LXD's capability, seccomp, idmap or hook defaults`,
          'remove the line from raw.lxc',
        );
      } else other++;
    }
    if (other > 0)
      add(
        'raw-lxc',
        'medium',
        `raw.lxc sets ${other} LXC key${other === 1 ? '' : 's'} directly, bypassing LXD's defaults and validation`,
        'move the setting to an LXD config key or device, then unset raw.lxc',
      );
  }
  if (cfg['raw.apparmor']?.trim())
    add(
      'raw-apparmor',
      'medium',
      'raw.apparmor adds rules to the AppArmor profile LXD generates',
      `review the rules; prefer LXD keys; lxc config unset ${instance.name} raw.apparmor`,
    );
  if (cfg['raw.seccomp']?.trim())
    add(
      'raw-seccomp',
      'medium',
      'raw.seccomp replaces the seccomp policy LXD generates',
      `lxc config unset ${instance.name} raw.seccomp; use security.syscalls.* keys`,
    );
  // raw.qemu, raw.qemu.conf; Incus adds raw.qemu.qmp.early/pre-start/post-start and raw.qemu.scriptlet.
  const rawQemu = Object.keys(cfg).filter((k) => /^raw\.qemu(\.|$)/.test(k) && cfg[k]?.trim());
  if (rawQemu.length > 0)
    add(
      'raw-qemu',
      'medium',
      `${rawQemu.join(', ')}: options, QMP commands or a scriptlet passed to QEMU directly`,
      `review them; ${rawQemu.map((k) => configOff(instance, k)).join('; ')}`,
    );
  const rawIdmap = cfg['raw.idmap'];
  if (rawIdmap?.trim() && container && !privileged) {
    if (idmapMapsHostRoot(rawIdmap))
      add(
        'raw-idmap-host-root',
        'critical',
        "raw.idmap maps host uid/gid 0 into the container: its files are host root's",
        `map a non-root host id instead (raw.idmap "both 1000 1000"), or lxc config unset ${instance.name} raw.idmap`,
      );
    else
      add(
        'raw-idmap',
        'low',
        'raw.idmap maps host ids into the container: files of those host users are writable from inside',
        'map only the ids the workload needs',
      );
  }
  if (container && !privileged && cfg['security.idmap.isolated'] !== 'true') {
    add(
      'idmap-shared',
      'low',
      'the container shares its uid/gid map with other containers: an escape reaches their files',
      `lxc config set ${instance.name} security.idmap.isolated=true`,
    );
  }

  // The guest API's image export: security.devlxd.images on LXD, security.guestapi.images on Incus.
  const imagesKey = ['security.devlxd.images', 'security.guestapi.images'].find((k) => cfg[k] === 'true');
  if (container && imagesKey)
    add(
      'guest-api-images',
      'low',
      `${imagesKey}=true: the container can download the host's public and cached images through the guest API (/dev/lxd)`,
      configOff(instance, imagesKey, 'false'),
    );

  findings.push(...syscallFindings(instance, privileged));
  if (container) findings.push(...limitFindings(instance));
  findings.push(...nicFindings(instance, networks));

  for (const [name, d] of Object.entries(devs)) {
    if (d.type === 'unix-char' || d.type === 'unix-block') {
      const node = normalise(d.source ?? d.path ?? '');
      const danger = DANGEROUS_NODES.find((x) => x.re.test(node));
      if (danger)
        add(
          'unix-device-dangerous',
          danger.severity,
          `device ${name} (${d.type} ${node}) gives ${danger.what}`,
          `lxc config device remove ${instance.name} ${name}`,
        );
      else
        add(
          'unix-device',
          'low',
          `device ${name} passes host node ${node || `${d.major ?? '?'}:${d.minor ?? '?'}`}`,
          `keep only if needed; set mode/uid/gid narrowly`,
        );
    } else if (d.type === 'disk' && (d.source ?? '').startsWith('/')) {
      const source = normalise(d.source!);
      const sensitive = sensitivePath(source);
      const lxd = LXD_DIRS.find((x) => within(source, x) || within(x, source));
      const readonly = d.readonly === 'true';
      if (lxd || source === '/')
        add(
          'disk-host-path',
          'critical',
          `device ${name} shares host path ${source}${lxd ? ` (LXD's own state ${lxd}, its socket included)` : ' (the whole host)'}`,
          `lxc config device remove ${instance.name} ${name}`,
        );
      else if (sensitive)
        add(
          'disk-host-path',
          readonly ? 'high' : 'critical',
          `device ${name} shares host path ${source} (covers ${sensitive})${readonly ? ' read-only' : ' writable'}`,
          `lxc config device remove ${instance.name} ${name}; share a dedicated folder instead`,
        );
      else
        add(
          'disk-host-path',
          'low',
          `device ${name} shares host path ${source}${readonly ? ' read-only' : ''}`,
          'share a dedicated folder; use readonly=true and shift=true where possible',
        );
    } else if (d.type === 'proxy') {
      const ends = [d.connect, d.listen].filter((x): x is string => typeof x === 'string');
      const lxdSocket = ends.find(
        (e) => /^unix:/.test(e) && /unix\.socket$/.test(e) && (/lxd|incus/.test(e) || LXD_DIRS.some((x) => e.slice(5).startsWith(x))),
      );
      if (lxdSocket)
        add(
          'proxy-lxd-socket',
          'critical',
          `device ${name} proxies ${lxdSocket}: the container can drive LXD, which is root on the host`,
          `lxc config device remove ${instance.name} ${name}`,
        );
    }
  }

  if (!container) {
    const passthrough = Object.entries(devs).filter(
      ([, d]) =>
        d.type === 'pci' ||
        (d.type === 'gpu' && (d.gputype ?? 'physical') === 'physical') ||
        (d.type === 'nic' && (d.nictype === 'physical' || d.nictype === 'sriov')),
    );
    if (passthrough.length > 0) {
      const names = passthrough.map(([n]) => n).join(', ');
      if (host.iommu === false)
        add(
          'passthrough-no-iommu',
          'high',
          `VM passthrough (${names}) on a host without a working IOMMU: the device's DMA is not confined`,
          'enable VT-d/AMD-Vi in the firmware and intel_iommu=on / amd_iommu=on (passthru doctor, passthru persist)',
        );
      if (host.interruptRemapping === false)
        add(
          'passthrough-no-interrupt-remapping',
          'high',
          `VM passthrough (${names}) on a host without interrupt remapping: the device can forge interrupts (MSI injection)`,
          'enable interrupt remapping in the firmware (x2APIC/IR); do not set allow_unsafe_interrupts=1',
        );
    }
  }
  findings.push(...numaFindings(instance, numa));
  return findings.sort(bySeverity);
}

/**
 * Findings for a project: without `restricted=true`, anyone who may use it (restricted client
 * certificates listed for it) can make privileged containers or raw.lxc, i.e. become root.
 */
export function auditProject(project: Project, certificates: Certificate[]): Finding[] {
  const cfg = project.config;
  const users = certificates.filter((c) => c.restricted && (c.projects ?? []).includes(project.name)).map((c) => c.name || c.fingerprint.slice(0, 12));
  const findings: Finding[] = [];
  if (cfg.restricted !== 'true') {
    if (users.length > 0) {
      findings.push({
        id: 'project-unrestricted',
        severity: 'high',
        summary: `project ${project.name} is not restricted but non-admin users can use it (${users.join(', ')}): they can create privileged containers and raw.lxc, i.e. become host root`,
        fix: `lxc project set ${project.name} restricted=true`,
      });
    } else if (project.name !== 'default') {
      findings.push({
        id: 'project-unrestricted',
        severity: 'low',
        summary: `project ${project.name} is not restricted (only admins can use it today)`,
        fix: `lxc project set ${project.name} restricted=true before granting it to non-admin users`,
      });
    }
  } else {
    const loose = [
      'restricted.containers.privilege',
      'restricted.containers.nesting',
      'restricted.containers.lowlevel',
      'restricted.virtual-machines.lowlevel',
      'restricted.devices.disk',
      'restricted.devices.pci',
      'restricted.devices.gpu',
      'restricted.devices.usb',
      'restricted.devices.unix-char',
      'restricted.devices.unix-block',
      'restricted.devices.nic',
    ].filter(
      (k) => cfg[k] === 'allow' || (k === 'restricted.containers.privilege' && cfg[k] === 'allow') || (k === 'restricted.devices.nic' && cfg[k] === 'allow'),
    );
    if (loose.length > 0)
      findings.push({
        id: 'project-restriction-relaxed',
        severity: users.length > 0 ? 'high' : 'medium',
        summary: `project ${project.name} is restricted but allows ${loose.join(', ')}`,
        fix: loose.map((k) => `lxc project unset ${project.name} ${k}`).join('; '),
      });
  }
  // Aggregate limits bound what the project's users can take from the host (the default project
  // without non-admin users is the admins' own: no finding there).
  const LIMITS: Record<string, string> = { 'limits.cpu': '8', 'limits.memory': '16GiB', 'limits.processes': '20000' };
  const missing = Object.keys(LIMITS).filter((k) => !cfg[k]?.trim());
  if (missing.length > 0 && (users.length > 0 || project.name !== 'default')) {
    findings.push({
      id: 'project-limits-missing',
      severity: users.length > 0 ? 'medium' : 'low',
      summary: `project ${project.name} has no ${missing.join(', ')}${users.length > 0 ? `: its non-admin users (${users.join(', ')}) can exhaust the host` : ''}`,
      fix: `lxc project set ${project.name} ${missing.map((k) => `${k}=${LIMITS[k]}`).join(' ')} (example values: size them to the host)`,
    });
  }
  return findings.sort(bySeverity);
}
