// What the kernel accepts in a sysfs attribute write, and the errno it answers otherwise.
// Pure functions of the written text.
import { errnoError } from '@passthru/hostfs';

/** kernfs refuses writes larger than a page to sysfs attributes (atomic_write_len) with E2BIG. */
export const PAGE_SIZE = 4096;

/** sysfs_streq: a device name as written to bind/unbind/drivers_probe, one trailing newline ignored. */
export function sysfsName(data: string): string {
  return data.endsWith('\n') ? data.slice(0, -1) : data;
}

/** sscanf("%x %x ..."): hex fields (optional 0x) separated by white space, up to the first that does not parse. */
export function scanHex(data: string, max: number): number[] {
  const values: number[] = [];
  for (const token of data.trim().split(/\s+/)) {
    if (values.length === max) break;
    const m = /^(?:0x)?([0-9a-f]+)/i.exec(token);
    if (!m) break;
    values.push(Number(BigInt(`0x${m[1]}`) & 0xffffffffn));
    if (m[0].length !== token.length) break;
  }
  return values;
}

/** kstrtoul(buf, 0): decimal, 0x hex or 0 octal, an optional '+', one trailing newline; EINVAL or ERANGE. */
export function kstrtoul(data: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  let text = data.endsWith('\n') ? data.slice(0, -1) : data;
  if (text.startsWith('+')) text = text.slice(1);
  let radix = 10;
  let digits = text;
  if (/^0x/i.test(text)) [radix, digits] = [16, text.slice(2)];
  else if (text.length > 1 && text.startsWith('0')) [radix, digits] = [8, text.slice(1)];
  const valid = radix === 16 ? /^[0-9a-f]+$/i : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!valid.test(digits)) throw errnoError('EINVAL', `${what}: ${JSON.stringify(data)} is not a number`);
  const value = [...digits].reduce((acc, c) => acc * BigInt(radix) + BigInt(parseInt(c, radix)), 0n);
  if (value > BigInt(max)) throw errnoError('ERANGE', `${what}: ${text} is out of range`);
  return Number(value);
}

/** kstrtobool: y/Y/1/on and n/N/0/off; anything else is EINVAL. */
export function kstrtobool(data: string, what: string): boolean {
  const text = data.replace(/\n$/, '');
  if (/^([yY1]|[oO][nN])/.test(text)) return true;
  if (/^([nN0]|[oO][fF])/.test(text)) return false;
  throw errnoError('EINVAL', `${what}: ${JSON.stringify(data)} is not a boolean`);
}

/** kobject_synth_uevent: a uevent write names an action; nothing in the tree changes. */
export function checkUevent(data: string): void {
  const action = data.replace(/\n$/, '').split(' ')[0];
  if (!['add', 'remove', 'change', 'move', 'online', 'offline', 'bind', 'unbind'].includes(action ?? ''))
    throw errnoError('EINVAL', `uevent: unknown action ${JSON.stringify(action)}`);
}

/**
 * driver_set_override: count >= PAGE_SIZE - 1 is EINVAL; the value ends at the first newline
 * (or NUL); an empty value clears the override, shown as "(null)". Returns the attribute's new text.
 */
export function driverOverrideValue(data: string): string {
  if (Buffer.byteLength(data) >= PAGE_SIZE - 1) throw errnoError('EINVAL', `driver_override: at most ${PAGE_SIZE - 2} bytes`);
  const value = data.split('\0')[0]!.split('\n')[0]!;
  return `${value === '' ? '(null)' : value}\n`;
}

/** A 4-digit hex id as sysfs shows it; NaN (an unreadable id) shows as ffff. */
export const hex4 = (n: number) => (Number.isNaN(n) ? 'ffff' : n.toString(16).padStart(4, '0'));
