/**
 * The distribution family whose boot tooling applies (update-grub or grub2-mkconfig,
 * update-initramfs or dracut or mkinitcpio), from /etc/os-release or, in a partial capture
 * without one, the kernel release's naming.
 */
import { tryReadText, type HostFs } from '@passthru/hostfs';

export type Distro = 'debian' | 'fedora' | 'arch' | 'other';

/** Pure: /etc/os-release -> the distribution family whose boot tooling applies. */
export function parseOsRelease(text: string): Distro {
  const value = (name: string): string => {
    const m = new RegExp(`^${name}=(.*)$`, 'm').exec(text);
    return (m?.[1] ?? '')
      .trim()
      .replace(/^["']|["']$/g, '')
      .toLowerCase();
  };
  const ids = [value('ID'), ...value('ID_LIKE').split(/\s+/)];
  if (ids.some((i) => ['debian', 'ubuntu'].includes(i))) return 'debian';
  if (ids.some((i) => ['fedora', 'rhel', 'centos', 'suse', 'opensuse'].includes(i))) return 'fedora';
  if (ids.includes('arch')) return 'arch';
  return 'other';
}

/** Pure: the distribution family a kernel release names (`6.1.0-28-amd64` Debian, `-generic` Ubuntu, `.fc40.` Fedora, `-arch` Arch). */
export function distroFromKernelRelease(release: string | undefined): Distro {
  if (release === undefined) return 'other';
  if (/-(amd64|arm64|generic|lowlatency|pve|cloud-amd64|rt-amd64)$/.test(release)) return 'debian';
  if (/\.(fc|el)\d+/.test(release)) return 'fedora';
  if (/-arch\d|-lts$|-zen\d/.test(release)) return 'arch';
  return 'other';
}

/** /etc/os-release (or /usr/lib/os-release); without one (a partial capture), the kernel release's naming. */
export function detectDistro(host: HostFs): Distro {
  const text = tryReadText(host, '/etc/os-release').value ?? tryReadText(host, '/usr/lib/os-release').value;
  return text === undefined ? distroFromKernelRelease(tryReadText(host, '/proc/sys/kernel/osrelease').value?.trim()) : parseOsRelease(text);
}
