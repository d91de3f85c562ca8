import type { Severity, Finding } from './Finding';
import { configOff } from './configOff';
import type { Instance } from './schemas';

/** The interceptions that only hand the container a host privilege (mount, with its options, is judged apart). */
const INTERCEPTS: ReadonlyArray<{ name: string; severity: Severity; does: string; unlessDocker: boolean }> = [
  { name: 'mknod', severity: 'low', does: 'LXD creates the device nodes it considers safe for the container', unlessDocker: true },
  { name: 'setxattr', severity: 'low', does: 'LXD sets trusted.* extended attributes for the container with host privileges', unlessDocker: true },
  { name: 'bpf', severity: 'medium', does: 'the container loads device cgroup BPF programs with host privileges', unlessDocker: false },
];

/** security.syscalls.*, Incus's security.bpffs.delegate_* and linux.kernel_modules (the system call interception page; Incus's BPF token delegation page). */
export function syscallFindings(instance: Instance, privileged: boolean): Finding[] {
  const cfg = instance.expanded_config;
  const on = (k: string) => cfg[k] === 'true';
  const out: Finding[] = [];
  const add = (id: string, severity: Severity, summary: string, fix: string) => out.push({ id, severity, summary, fix });
  if (instance.type === 'container') {
    if (on('security.syscalls.intercept.mount')) {
      const allowed = cfg['security.syscalls.intercept.mount.allowed']?.trim();
      const shift = on('security.syscalls.intercept.mount.shift');
      const fuse = cfg['security.syscalls.intercept.mount.fuse']?.trim();
      const what = [
        allowed ? `the host kernel mounts ${allowed} for the container (a crafted filesystem image attacks the host kernel)` : '',
        shift ? 'with shifted (idmapped) mounts' : '',
        fuse ? `redirects ${fuse} to FUSE` : '',
      ].filter(Boolean);
      add(
        'syscalls-intercept-mount',
        allowed ? 'high' : shift ? 'medium' : 'low',
        `security.syscalls.intercept.mount: ${what.join(', ') || 'mount() is handled by LXD on the host'}`,
        configOff(instance, 'security.syscalls.intercept.mount', 'false'),
      );
    }
    for (const { name, severity, does, unlessDocker } of INTERCEPTS) {
      const key = `security.syscalls.intercept.${name}`;
      if (!on(key)) continue;
      const devices = name === 'bpf' && on('security.syscalls.intercept.bpf.devices') ? ' with bpf.devices' : '';
      add(
        `syscalls-intercept-${name}`,
        severity,
        `${key}${devices}: ${does}`,
        `${configOff(instance, key, 'false')}${unlessDocker ? ' (unless it runs Docker)' : ''}`,
      );
    }
    // Incus's BPF token delegation (security.bpffs.delegate_*; LXD has no such keys).
    const delegated = ['cmds', 'maps', 'progs', 'attachs'].map((t) => `security.bpffs.delegate_${t}`).filter((k) => cfg[k]?.trim());
    if (delegated.length > 0)
      add(
        'bpf-delegation',
        'medium',
        `BPF token delegation (${delegated.map((k) => `${k}=${cfg[k]!.trim()}`).join(', ')}): the container uses these BPF commands, maps, programs and attach types against the host kernel`,
        delegated.map((k) => configOff(instance, k)).join('; '),
      );
    if (cfg['security.syscalls.deny_default'] === 'false')
      add(
        'syscalls-deny-default-off',
        privileged ? 'high' : 'medium',
        `security.syscalls.deny_default=false: LXD's default seccomp deny list (kexec_load, open_by_handle_at, init_module...) is off${privileged ? ' in a privileged container (open_by_handle_at escapes)' : ''}`,
        configOff(instance, 'security.syscalls.deny_default', 'true'),
      );
  }
  const modules = cfg['linux.kernel_modules']?.trim();
  if (modules)
    add(
      'kernel-modules',
      'medium',
      `linux.kernel_modules: the host loads ${modules} into its kernel when the instance starts`,
      `${configOff(instance, 'linux.kernel_modules')} (load what is needed on the host: /etc/modules-load.d)`,
    );
  return out;
}
