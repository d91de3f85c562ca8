import { LxdError } from './LxdError';

/** LXD instance names are host names: letters, digits, hyphens; not starting with a digit or hyphen. */
export const INSTANCE_NAME_RE = /^[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** Project names: no slash, no whitespace, no '..' (LXD refuses these; we refuse before asking). */
export const PROJECT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,62}$/;
/** Device names: LXD allows most printable characters; passthru keeps to a safe subset. */
export const DEVICE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function check(re: RegExp, kind: string, value: string, rule: string): string {
  if (typeof value !== 'string' || !re.test(value) || value.includes('..')) {
    throw new LxdError('checking', `${kind} name ${JSON.stringify(value)}`, '', `not a valid ${kind} name (${rule})`, { reason: 'bad-input' });
  }
  return value;
}

export const checkInstanceName = (v: string) => check(INSTANCE_NAME_RE, 'instance', v, 'letters, digits and hyphens, starting with a letter, at most 63');
export const checkProjectName = (v: string) => check(PROJECT_NAME_RE, 'project', v, 'letters, digits, _ . + -, at most 63');
export const checkDeviceName = (v: string) => check(DEVICE_NAME_RE, 'device', v, 'letters, digits, _ . -, at most 63');
