import type { Instance } from './schemas';

/** `--project P` for instances outside the default project (fix lines must name it). */
export const inProject = (instance: Instance) => (instance.project && instance.project !== 'default' ? ` --project ${instance.project}` : '');

/**
 * The command that turns a key off for this instance: `lxc config unset` when the instance sets it
 * itself; a key inherited from a profile is overridden with `off` (or unset in the profile).
 */
export function configOff(instance: Instance, key: string, off?: string): string {
  if (key in instance.config) return `lxc config unset ${instance.name}${inProject(instance)} ${key}`;
  if (off !== undefined) return `lxc config set ${instance.name}${inProject(instance)} ${key}=${off}`;
  return `lxc profile unset PROFILE${inProject(instance)} ${key} (the key comes from a profile: ${instance.profiles.join(', ') || 'none'})`;
}

/** `lxc config device set` for a device of the instance, `override` for one from a profile. */
export const deviceSet = (instance: Instance, device: string, settings: string) =>
  `lxc config device ${device in instance.devices ? 'set' : 'override'} ${instance.name}${inProject(instance)} ${device} ${settings}`;
