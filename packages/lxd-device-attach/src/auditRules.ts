import type { Severity } from './Finding';
import { CHECKLIST, type ChecklistItem } from './auditChecklist';
import type { ServerName } from './servers';

export { CHECKLIST, type ChecklistItem };

export interface AuditRule {
  id: string;
  /** The highest severity a finding of this id can have (its SARIF default level). */
  severity: Severity;
  title: string;
  /** What the finding means and why it matters (the SARIF rule's help text). */
  help: string;
  checklist: ChecklistItem;
  /** The servers it can fire on, when not both (its help says so too). */
  servers?: readonly ServerName[];
}

const rule = (id: string, severity: Severity, checklist: ChecklistItem, title: string, help: string, servers?: readonly ServerName[]): AuditRule => ({
  id,
  severity,
  checklist,
  title,
  help,
  ...(servers ? { servers } : {}),
});

/** Every finding id `audit` can report: the docs table (docs/lxd.md) and SARIF rules come from here. */
export const AUDIT_RULES: readonly AuditRule[] = [
  // Server: the daemon's own configuration (GET /1.0) and trusted certificates.
  rule(
    'lxd-version-unsupported',
    'high',
    'versions',
    'LXD series out of support',
    'The server runs an LXD series whose support has ended (an old LTS past its date, or a feature release superseded by the next): security fixes no longer reach it. Upgrade to a supported LTS.',
  ),
  rule(
    'lxd-version-feature-release',
    'low',
    'versions',
    'LXD feature release',
    'Feature releases are supported only until the next one comes out; production hosts should follow an LTS series (or upgrade with every feature release).',
  ),
  rule(
    'lxd-version-unknown',
    'low',
    'versions',
    'LXD version not in the support table',
    "The server version is newer than (or not in) passthru's table of LXD series, so its support status is unknown.",
  ),
  rule(
    'remote-api-exposed',
    'medium',
    'daemon',
    'Remote API listens beyond loopback',
    "core.https_address makes LXD's REST API reachable from the network. Anyone holding a trusted certificate, a pending trust token or (where the server has one) the trust password controls LXD, i.e. the host. Listen on loopback or a management address only, and firewall the port.",
  ),
  rule(
    'remote-api-trust-password',
    'high',
    'daemon',
    'Trust password set',
    'LXD only (Incus has no trust password). core.trust_password lets anyone who knows (or guesses) it add their certificate as a trusted, unrestricted client: full control of LXD. Use one-time tokens (lxc config trust add) instead.',
    ['lxd'],
  ),
  rule(
    'certificate-unrestricted',
    'medium',
    'daemon',
    'Trusted client certificate not restricted to projects',
    'A trusted client certificate with restricted=false has full control of LXD (privileged containers, host devices): it is root on the host. Restrict it to the projects it needs.',
  ),
  rule(
    'metrics-unauthenticated',
    'medium',
    'daemon',
    'Metrics served without authentication',
    'core.metrics_address with core.metrics_authentication=false serves /1.0/metrics (instance names, projects, resource use) to anyone who reaches the port.',
  ),
  rule(
    'trust-token-no-expiry',
    'medium',
    'trust',
    'Pending trust token that never expires',
    'A certificate add token (lxc config trust add) not yet used, made while core.remote_token_expiry was unset: whoever obtains the token string can add a trusted client, unrestricted unless the token was made restricted, at any later time. Revoke unused tokens and set core.remote_token_expiry so new ones expire.',
  ),
  rule(
    'oidc-full-access',
    'high',
    'oidc',
    'OpenID Connect without authorization',
    'Incus only (its authentication documentation: any user that authenticates through the configured OIDC identity provider gets full access to Incus). oidc.issuer and oidc.client.id are set, but neither OpenFGA (openfga.api.url, openfga.api.token, openfga.store.id) nor authorization.scriptlet decides what those users may do: every account of the identity provider is root on the host over the remote API.',
    ['incus'],
  ),
  rule(
    'socket-world-accessible',
    'critical',
    'daemon',
    'LXD socket world-writable',
    'Every local user can drive LXD through its unix socket, which is root on the host.',
  ),
  rule(
    'socket-group-members',
    'high',
    'daemon',
    'Users can open the LXD socket',
    "Members of the socket's group (e.g. lxd or incus-admin) are root-equivalent on the host.",
  ),
  // Projects.
  rule(
    'project-unrestricted',
    'high',
    'projects',
    'Project not restricted',
    'Without restricted=true, anyone who may use the project can create privileged containers and raw.lxc, i.e. become host root.',
  ),
  rule(
    'project-restriction-relaxed',
    'high',
    'projects',
    'Project restriction relaxed',
    'A restricted project allows privileged containers, nesting, low-level options or host devices again.',
  ),
  rule(
    'project-limits-missing',
    'medium',
    'limits',
    'Project without resource limits',
    'A project without limits.cpu, limits.memory or limits.processes lets its users exhaust the host (denial of service for every other project).',
  ),
  // Instances: privilege, nesting, raw.*.
  rule(
    'privileged',
    'critical',
    'privileged',
    'Privileged container',
    'A privileged container has no user namespace: root inside is root on the host, and known escapes apply.',
  ),
  rule(
    'nesting',
    'critical',
    'privileged',
    'security.nesting',
    'Nesting lets the container mount proc/sysfs and run its own containers; critical on a privileged container, low for a recognised Docker host that keeps the safe pattern.',
  ),
  rule(
    'docker-unsafe',
    'critical',
    'docker',
    'Docker in LXD, unsafe pattern',
    'The container looks like a Docker host and runs it the unsafe way (privileged, or raw.lxc that unconfines it). The safe pattern: unprivileged with security.nesting=true, security.syscalls.intercept.mknod=true and security.syscalls.intercept.setxattr=true.',
  ),
  rule(
    'raw-lxc-devices-allow',
    'critical',
    'devices',
    'raw.lxc opens device nodes',
    "lxc.cgroup(2).devices.allow in raw.lxc gives the container host device nodes behind LXD's back.",
  ),
  rule(
    'raw-lxc-mount-entry',
    'critical',
    'devices',
    'raw.lxc mounts a host path',
    "lxc.mount.entry in raw.lxc mounts host paths unshifted and outside LXD's checks.",
  ),
  rule(
    'raw-lxc-apparmor-unconfined',
    'high',
    'privileged',
    'raw.lxc turns AppArmor off',
    'lxc.apparmor.profile=unconfined removes the AppArmor confinement LXD puts around the container.',
  ),
  rule(
    'raw-lxc-capabilities',
    'critical',
    'syscalls',
    'raw.lxc keeps or drops capabilities',
    'lxc.cap.keep, or an empty lxc.cap.drop, replaces the capabilities LXD drops (sys_module, sys_rawio, sys_time, mac_admin, mac_override); extra lxc.cap.drop entries only harden (low).',
  ),
  rule(
    'raw-lxc-security',
    'high',
    'syscalls',
    'raw.lxc overrides seccomp, idmap or hooks',
    "raw.lxc lines for lxc.seccomp, lxc.idmap, lxc.include or lxc.hook override LXD's security defaults.",
  ),
  rule('raw-lxc', 'medium', 'privileged', 'raw.lxc', "raw.lxc sets LXC keys directly, bypassing LXD's defaults and validation."),
  rule('raw-apparmor', 'medium', 'privileged', 'raw.apparmor', 'raw.apparmor adds rules to the AppArmor profile LXD generates.'),
  rule('raw-seccomp', 'medium', 'syscalls', 'raw.seccomp', 'raw.seccomp replaces the seccomp policy LXD generates.'),
  rule(
    'raw-qemu',
    'medium',
    'privileged',
    'raw.qemu',
    'raw.qemu and raw.qemu.conf pass options to QEMU directly; on Incus also raw.qemu.qmp.early, raw.qemu.qmp.pre-start, raw.qemu.qmp.post-start (QMP commands) and raw.qemu.scriptlet (a scriptlet run against QEMU at each stage).',
  ),
  rule(
    'raw-idmap-host-root',
    'critical',
    'privileged',
    'raw.idmap maps host root',
    "raw.idmap maps host uid/gid 0 into the container: its files are host root's.",
  ),
  rule('raw-idmap', 'low', 'privileged', 'raw.idmap', 'raw.idmap maps host ids into the container: files of those host users are writable from inside.'),
  rule(
    'idmap-shared',
    'low',
    'privileged',
    'Shared uid/gid map',
    "Containers share one uid/gid map unless security.idmap.isolated=true: an escape reaches the other containers' files.",
  ),
  rule(
    'guest-api-images',
    'low',
    'guestApi',
    'Guest API image export',
    "security.devlxd.images=true: the container can download the host's public and cached images through the guest API (/dev/lxd), outside the image permissions of the remote API. Off by default; a restricted project forbids it as a low-level option.",
  ),
  // Instances: syscalls, kernel modules, limits.
  rule(
    'syscalls-intercept-mount',
    'high',
    'syscalls',
    'mount system call interception',
    "security.syscalls.intercept.mount with .allowed has the host kernel mount filesystems for the container: a crafted filesystem image attacks the host kernel's filesystem code; .shift=true adds shifted (idmapped) mounts of those filesystems.",
  ),
  rule(
    'syscalls-intercept-mknod',
    'low',
    'syscalls',
    'mknod system call interception',
    'security.syscalls.intercept.mknod lets the container create the device nodes LXD considers safe (null, zero, urandom, overlay whiteouts...); part of the safe Docker pattern.',
  ),
  rule(
    'syscalls-intercept-setxattr',
    'low',
    'syscalls',
    'setxattr system call interception',
    'security.syscalls.intercept.setxattr lets the container set trusted.* extended attributes (overlay) with host privileges; part of the safe Docker pattern.',
  ),
  rule(
    'syscalls-intercept-bpf',
    'medium',
    'syscalls',
    'bpf system call interception',
    'security.syscalls.intercept.bpf (with .bpf.devices) lets the container load device cgroup BPF programs with host privileges, deciding itself which device nodes it may open.',
  ),
  rule(
    'syscalls-deny-default-off',
    'high',
    'syscalls',
    'Default seccomp deny list off',
    "security.syscalls.deny_default=false removes LXD's default deny list (kexec_load, open_by_handle_at, init_module, finit_module, delete_module...); open_by_handle_at is a known container escape.",
  ),
  rule(
    'bpf-delegation',
    'medium',
    'bpf',
    'BPF token delegation',
    'Incus only (security.bpffs.delegate_cmds, _maps, _progs, _attachs). The container gets a BPF file system with a token that lets it use the delegated BPF commands, map, program and attach types against the host kernel (`any`: all of them), e.g. tracing programs. A restricted project forbids these keys as low-level options.',
    ['incus'],
  ),
  rule(
    'kernel-modules',
    'medium',
    'syscalls',
    'linux.kernel_modules',
    'linux.kernel_modules makes the host load these kernel modules when the instance starts: the instance chooses code that runs in the host kernel.',
  ),
  rule(
    'limits-missing',
    'medium',
    'limits',
    'Container without resource limits',
    "A container without limits.memory or limits.processes can exhaust the host's memory or PIDs (fork bomb); without limits.cpu it can take every CPU.",
  ),
  // Instances: network.
  rule(
    'nic-mac-filtering-off',
    'medium',
    'network',
    'Bridged NIC without MAC filtering',
    'Without security.mac_filtering=true a bridged NIC can send frames with any source MAC: the instance can spoof its neighbours on the bridge.',
  ),
  rule(
    'nic-ip-filtering-off',
    'low',
    'network',
    'Bridged NIC without IP filtering',
    'Without security.ipv4_filtering / security.ipv6_filtering a bridged NIC can use any IP address (spoofing, ARP/NDP poisoning of its neighbours).',
  ),
  rule(
    'nic-port-isolation-off',
    'low',
    'network',
    'Bridged NIC without port isolation',
    'Without security.port_isolation=true the NIC can talk to every other port of the bridge directly, not only to the uplink.',
  ),
  // Instances: devices and passthrough.
  rule(
    'unix-device-dangerous',
    'critical',
    'devices',
    'Dangerous device node',
    'A unix-char/unix-block device gives physical memory, a host disk, a VFIO group or a kernel interface.',
  ),
  rule('unix-device', 'low', 'devices', 'Host device node', 'A unix-char/unix-block device passes a host device node.'),
  rule(
    'disk-host-path',
    'critical',
    'devices',
    'Host path shared',
    "A disk device shares a host path; critical for /, LXD's own state or writable system directories.",
  ),
  rule(
    'proxy-lxd-socket',
    'critical',
    'devices',
    'LXD socket proxied into an instance',
    "A proxy device exposes LXD's unix socket to the instance, which then controls LXD (root on the host).",
  ),
  rule(
    'passthrough-no-iommu',
    'high',
    'passthrough',
    'VM passthrough without IOMMU',
    "A VM gets a PCI device on a host without a working IOMMU: the device's DMA is not confined.",
  ),
  rule(
    'passthrough-no-interrupt-remapping',
    'high',
    'passthrough',
    'VM passthrough without interrupt remapping',
    'A VM gets a PCI device on a host without interrupt remapping: the device can forge interrupts (MSI injection).',
  ),
  // Production setup and performance tuning (LXD's server settings and performance tuning guides).
  rule(
    'server-sysctl',
    'medium',
    'production',
    "Kernel limit below LXD's production recommendation",
    'A kernel setting (/proc/sys) is below the value LXD recommends for hosts that run many instances (inotify, aio, keyrings, map count, BPF JIT, neighbour tables, dmesg_restrict): such hosts fail in confusing ways (too many open files, inotify exhaustion). One finding per setting, its key in the summary; persist the values in one /etc/sysctl.d file (passthru tune).',
  ),
  rule(
    'numa-misaligned',
    'medium',
    'performance',
    'Instance CPUs on another NUMA node than its device',
    "An instance with a PCI, GPU or physical/SR-IOV NIC device runs (or may run) on CPUs of another NUMA node than the device: every DMA and interrupt crosses the interconnect. Pin limits.cpu to the device node's CPUs (and, for VMs, back memory with hugepages reserved on that node).",
  ),
];

export const AUDIT_RULE_IDS = AUDIT_RULES.map((r) => r.id);
export const auditRule = (id: string): AuditRule | undefined => AUDIT_RULES.find((r) => r.id === id);
