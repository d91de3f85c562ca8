import { inProject, configOff } from './configOff';
import type { Instance } from './schemas';

/** Kernel modules only a container engine asks the host for (LXD's old "docker" profile loaded overlay and nf_nat). */
const DOCKER_MODULES = /(^|,)\s*(overlay|br_netfilter|nf_nat|xt_MASQUERADE)\s*(,|$)/;

/** Why the container looks like a Docker host (empty: it does not). */
export function dockerSigns(instance: Instance): string[] {
  const cfg = instance.expanded_config;
  const signs: string[] = [];
  if (/docker/i.test(instance.name)) signs.push(`name ${instance.name}`);
  for (const p of instance.profiles) if (/docker/i.test(p)) signs.push(`profile ${p}`);
  if (DOCKER_MODULES.test(cfg['linux.kernel_modules'] ?? '')) signs.push(`linux.kernel_modules ${cfg['linux.kernel_modules']}`);
  for (const [name, d] of Object.entries(instance.expanded_devices))
    if (d.type === 'disk' && /^\/var\/lib\/docker\/?$/.test(d.path ?? '')) signs.push(`device ${name} at /var/lib/docker`);
  for (const [k, v] of Object.entries(cfg)) if ((k.startsWith('user.') || k === 'image.description') && /docker/i.test(v)) signs.push(`${k}=${v}`);
  return signs;
}

/** The safe Docker-in-LXD configuration (LXD FAQ): unprivileged, nesting, mknod and setxattr interception. */
export function dockerSafeFix(instance: Instance, hasRawLxc: boolean): string {
  const cfg = instance.expanded_config;
  return [
    cfg['security.privileged'] === 'true' ? configOff(instance, 'security.privileged', 'false') : '',
    hasRawLxc ? configOff(instance, 'raw.lxc') : '',
    `lxc config set ${instance.name}${inProject(instance)} security.nesting=true security.syscalls.intercept.mknod=true security.syscalls.intercept.setxattr=true`,
  ]
    .filter(Boolean)
    .join('; ');
}
