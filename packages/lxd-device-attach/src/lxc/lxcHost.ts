import * as path from 'node:path';
import { HostFs, HostFsError } from '@passthru/hostfs';
import { LxdError } from '../LxdError';
import { parseConfigText } from './config';
import type { LxcHostFacts } from './lxcFindings';

/** LXC's own default lxcpath for root (lxc-config lxc.lxcpath without /etc/lxc/lxc.conf). */
export const DEFAULT_LXC_PATH = '/var/lib/lxc';
/** Where `lxc-config lxc.lxcpath` reads root's lxcpath. */
export const LXC_SYSTEM_CONF = '/etc/lxc/lxc.conf';

/** Container names passthru accepts: LXC's are folder names; this keeps to a safe subset (no '/', no leading dot or dash). */
export const LXC_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function checkLxcName(name: string): string {
  if (typeof name !== 'string' || !LXC_NAME_RE.test(name) || name.includes('..'))
    throw new LxdError(
      'checking',
      `container name ${JSON.stringify(String(name).slice(0, 70))}`,
      '',
      'not a valid container name (letters, digits, _ . -, at most 64)',
      {
        reason: 'bad-input',
      },
    );
  return name;
}

/** A host path given on the command line: absolute, no NUL (HostFs refuses `..` escapes itself). */
export function checkHostFile(file: string, what: string): string {
  try {
    return HostFs.checkHostPath(file);
  } catch (error) {
    throw new LxdError('checking', `${what} ${JSON.stringify(String(file).slice(0, 70))}`, '', "expected an absolute path without '..' or NUL", {
      reason: 'bad-input',
      cause: error,
    });
  }
}

/**
 * The folder of plain LXC containers, as `lxc-config lxc.lxcpath` says it for root: `explicit`
 * (--lxcpath), else `lxc.lxcpath` of /etc/lxc/lxc.conf, else /var/lib/lxc. Read through HostFs.
 */
export function lxcPathOf(host: HostFs, explicit?: string): string {
  if (explicit !== undefined) return checkHostFile(explicit, '--lxcpath');
  const text = host.readTextIfExists(LXC_SYSTEM_CONF);
  const set =
    text === undefined
      ? undefined
      : parseConfigText(text, LXC_SYSTEM_CONF, 'lxc')
          .filter((e) => e.key === 'lxc.lxcpath' && e.value)
          .at(-1);
  return set ? checkHostFile(set.value, `lxc.lxcpath of ${LXC_SYSTEM_CONF}`) : DEFAULT_LXC_PATH;
}

export const configOf = (lxcpath: string, name: string) => path.posix.join(lxcpath, name, 'config');

/** The containers of an lxcpath: folders with a `config` file, in name order. */
export function listContainers(host: HostFs, lxcpath: string): string[] {
  return host.list(lxcpath).filter((n) => {
    if (!LXC_NAME_RE.test(n)) return false;
    try {
      return host.stat(configOf(lxcpath, n)).isFile();
    } catch (error) {
      if (error instanceof HostFsError) return false;
      throw error;
    }
  });
}

/** "Character devices:" and "Block devices:" of /proc/devices, major -> name. */
export function parseProcDevices(text: string): LxcHostFacts['majors'] {
  const majors: LxcHostFacts['majors'] = { char: new Map(), block: new Map() };
  let section: Map<number, string> | undefined;
  for (const line of text.split('\n')) {
    if (/^Character devices:/.test(line)) section = majors.char;
    else if (/^Block devices:/.test(line)) section = majors.block;
    const m = /^\s*(\d+)\s+(\S+)\s*$/.exec(line);
    if (m && section && !section.has(Number(m[1]))) section.set(Number(m[1]), m[2]!);
  }
  return majors;
}

/** What the host says about AppArmor, the devices controller and device majors (a fixture without them: no AppArmor, cgroup v2). */
export function lxcHostFacts(host: HostFs): LxcHostFacts {
  return {
    apparmor: host.readAttributeIfExists('/sys/module/apparmor/parameters/enabled') === 'Y',
    cgroup: host.exists('/sys/fs/cgroup/devices/devices.list') ? 'v1' : 'v2',
    majors: parseProcDevices(host.readTextIfExists('/proc/devices') ?? ''),
  };
}
