/**
 * framebuffer.<address>: does anything but the device's own driver hold one of its memory BARs?
 * The firmware framebuffer the host booted on (efifb, vesafb, simple-framebuffer's BOOTFB with
 * simplefb or simpledrm) is the usual one; see FirmwareFramebuffer.ts for what each kernel does
 * about it and the boot parameter that keeps it off.
 */
import { barEvidence, describeResource, readBarClaims, readIomem, type BarClaim, type IomemRead, pciDevicePath } from '@passthru/pci-discovery';
import type { CheckResult } from '../DoctorReport';
import { framebufferParam, VFIO_REMOVES_FRAMEBUFFER_SINCE, vfioRemovesFramebuffer } from '../FirmwareFramebuffer';
import { check, planRemediation } from './check';
import { notInTree } from './evidence';
import type { Facts } from './Facts';

/** /proc/iomem, read once per report however many devices are checked. */
const iomemOf = new WeakMap<Facts, IomemRead>();

const list = (xs: readonly string[]) => [...new Set(xs)].join(', ');

export function checkFramebuffer(f: Facts, address: string): CheckResult {
  const id = `framebuffer.${address}`;
  const d = f.byAddress.get(address);
  if (d === undefined) return check(id, 'SKIP', `No PCI device ${address} on this host.`, [`${pciDevicePath(address)}: absent`]);
  const iomem = iomemOf.get(f) ?? readIomem(f.host);
  iomemOf.set(f, iomem);
  const read = readBarClaims(f.host, d, iomem);
  const memBars = read.resources.filter((r) => r.space === 'mem' && r.index <= 5);
  const cannotTell = `Cannot tell whether a framebuffer or another driver holds a BAR of ${address}`;
  if (read.missing?.why === 'hidden')
    return check(
      id,
      'SKIP',
      `${cannotTell}: /proc/iomem shows every address as 0 to a reader without CAP_SYS_ADMIN.`,
      ['/proc/iomem: addresses zeroed (not read as root)'],
      'Run passthru doctor as root.',
    );
  if (read.missing)
    return check(id, 'SKIP', `${cannotTell}: ${read.missing.why === 'absent' ? notInTree(read.missing.path) : `${read.missing.path} is not readable`}.`, [
      `${read.missing.path}: ${read.missing.detail ?? read.missing.why}`,
    ]);
  if (memBars.length === 0)
    return check(id, 'PASS', `${address} has no memory BAR: nothing can hold one.`, [`${pciDevicePath(address, 'resource')}: no memory BAR assigned`]);

  const fb = read.claims.filter((c) => c.kind === 'framebuffer');
  const others = read.claims.filter((c) => c.kind === 'other');
  const own = read.claims.filter((c) => c.kind === 'driver');
  const held = [...new Set([...fb, ...others].map((c) => c.bar))];
  const ev = (held.length ? held : memBars).flatMap((b) => barEvidence(address, b, iomem.iomem, read.claims));
  for (const c of own) ev.push(`${c.holder} is ${d.driver ?? 'vfio-pci'}'s own (released when it unbinds)`);
  if (fb.length === 0 && others.length === 0)
    return check(id, 'PASS', `No firmware framebuffer or other driver holds a memory BAR of ${address} (${memBars.map(describeResource).join(', ')}).`, ev);

  const where = (claims: BarClaim[]) => {
    const holders = [...new Set(claims.map((c) => c.holder))];
    return `${holders.join(', ')} hold${holders.length === 1 ? 's' : ''} ${list(claims.map((c) => describeResource(c.bar)))}`;
  };
  const parts: Array<{ status: 'WARN' | 'FAIL'; summary: string; fix?: string }> = [];
  if (fb.length) {
    const removes = vfioRemovesFramebuffer(f.release, d.class);
    ev.push(`/proc/sys/kernel/osrelease: ${f.release ?? 'absent'}`);
    const params = [...new Set(fb.map((c) => framebufferParam(c.holder)))];
    const fix = () =>
      planRemediation(
        f,
        `Keep the firmware framebuffer off this GPU from boot on (binding vfio-pci early does not help: it claims the BAR before any module loads). `,
        `Add ${params.join(' ')} to the kernel command line and reboot, or run Linux ${VFIO_REMOVES_FRAMEBUFFER_SINCE} or later.`,
        { add: params, remove: [] },
      );
    const fbWhere = `The firmware framebuffer ${where(fb)} of ${address}`;
    if (removes === true)
      parts.push({
        status: 'WARN',
        summary: `${fbWhere}: vfio-pci on Linux ${f.release} removes it when it binds this VGA device, so a VM can map the BAR; the host console on this GPU goes dark until the next boot.`,
        fix: 'Nothing to change for passthrough. Keep a way in that does not use this GPU (SSH, a serial console, another GPU).',
      });
    else if (removes === undefined)
      parts.push({
        status: 'WARN',
        summary: `${fbWhere}: the kernel release is unknown; vfio-pci removes it itself from Linux ${VFIO_REMOVES_FRAMEBUFFER_SINCE} on, and before that a VM given ${address} fails to start ("can't reserve" the BAR).`,
        fix: fix(),
      });
    else
      parts.push({
        status: 'FAIL',
        summary: `${fbWhere}: vfio-pci ${d.class.startsWith('0300') ? `on Linux ${f.release} does not remove it (${VFIO_REMOVES_FRAMEBUFFER_SINCE} and later do)` : `removes firmware framebuffers only from VGA-class devices (0300xx), and ${address} is class ${d.class}`}, so a VM given ${address} fails to start ("vfio-pci ${address}: ${describeResource(fb[0]!.bar).split(' [')[0]}: can't reserve").`,
        fix: fix(),
      });
  }
  if (others.length)
    parts.push({
      status: 'WARN',
      summary: `${where(others)} of ${address}, not ${d.driver && d.driver !== 'vfio-pci' ? `its driver ${d.driver}` : 'a driver bound to it'}: vfio-pci cannot reserve that BAR for a VM while it is held.`,
      fix: `Find what registered ${list(others.map((c) => `"${c.holder}"`))} in /proc/iomem (a platform driver or a module: lsmod) and unload it before starting the VM.`,
    });
  const status = parts.some((p) => p.status === 'FAIL') ? 'FAIL' : 'WARN';
  return check(
    id,
    status,
    parts.map((p) => p.summary).join(' '),
    ev,
    parts
      .map((p) => p.fix)
      .filter((x): x is string => x !== undefined)
      .join('\n'),
  );
}
