// Issue 26: the firmware framebuffer on the GPU to pass through, on a real kernel. The UEFI
// guest (OVMF, bochs blacklisted) boots with efifb holding BAR 0 of its std VGA (00:01.0);
// Debian's kernel is 6.0 or later, so vfio-pci's probe removes it (commit d17378062079, "vfio/pci:
// Remove console drivers"). doctor must name the claim from the kernel's own /proc/iomem before
// the bind, and find the BAR free after it; bind goes ahead with a note, not a refusal.
import { describeResource, parseIomem, parsePciResources } from '@passthru/pci-discovery';
import { describe, expect, inject, it } from 'vitest';
import { step } from './records';

const RUN = 'efifb';
const VGA = '0000:00:01.0';

interface Check {
  id: string;
  status: string;
  summary: string;
  evidence: string[];
  remediation?: string;
}
const framebufferCheck = (name: string): Check => {
  const s = step(RUN, name);
  const check = (JSON.parse(s.stdout) as { checks: Check[] }).checks.find((c) => c.id === `framebuffer.${VGA}`);
  if (!check) throw new Error(`${name}: doctor has no framebuffer.${VGA}\n${s.stderr}`);
  return check;
};
/** The kernel's /proc/iomem after a step (kstate.pl, read as root without passthru). */
const iomem = (name: string) => parseIomem(step(RUN, name).kernel.iomem);
const efifbLines = (name: string) => iomem(name).entries.filter((e) => e.name === 'efifb');

describe('the firmware framebuffer on a real kernel (OVMF guest, efifb on the boot display)', () => {
  it('the guest runs a kernel whose vfio-pci removes the framebuffer (6.0 or later)', () => {
    expect(Number(inject('labKernel').split('.')[0])).toBeGreaterThanOrEqual(6);
  });

  it("before the bind: efifb holds BAR 0 of 00:01.0 in the kernel's /proc/iomem, and doctor names it from those lines", () => {
    const [claim] = efifbLines('fb-doctor');
    expect(claim, step(RUN, 'fb-doctor').kernel.iomem).toBeDefined();
    const bar = iomem('fb-doctor').entries.find((e) => e.name === VGA && e.start <= claim!.start && e.end >= claim!.end);
    expect(bar, 'the claim lies inside a range of 00:01.0').toBeDefined();
    const c = framebufferCheck('fb-doctor');
    expect(c.status).toBe('WARN');
    expect(c.summary).toContain('efifb holds BAR 0');
    expect(c.summary).toContain('removes it when it binds');
    expect(c.summary).toContain('host console on this GPU goes dark');
    expect(c.evidence).toContain(`/proc/iomem: ${claim!.line.trim()}`);
    expect(c.evidence).toContain(`/proc/iomem: ${bar!.line.trim()}`);
  });

  it('bind --force: the display on vfio-pci, efifb gone from /proc/iomem; the framebuffer was a note, the boot VGA the guard --force overrode', () => {
    const s = step(RUN, 'fb-bind');
    expect(s.rc, s.stderr).toBe(0);
    expect(s.kernel.devices[VGA]!.driver).toBe('vfio-pci');
    expect(efifbLines('fb-bind')).toEqual([]);
    expect(s.stderr).toMatch(new RegExp(`note: ${VGA} \\[boot-framebuffer\\] the firmware framebuffer \\(efifb\\) holds its BAR 0`));
    expect(s.stderr).toMatch(new RegExp(`overridden \\(--force\\): ${VGA} \\[boot-vga\\]`));
    expect(s.stderr).not.toMatch(/overridden \(--force\): \S+ \[boot-framebuffer\]/);
  });

  it('after the bind: doctor finds every memory BAR of 00:01.0 free, as the kernel lists them', () => {
    const c = framebufferCheck('fb-doctor-bound');
    expect(c.status).toBe('PASS');
    expect(c.summary).toContain(`No firmware framebuffer or other driver holds a memory BAR of ${VGA}`);
    // The BAR the framebuffer held is named as the kernel's resource file has it.
    const bar0 = c.evidence.find((e) => e.includes('/resource line 0: '))!;
    const resource = parsePciResources(bar0.split(': ')[1]!.split(' (')[0]!)[0]!;
    expect(c.summary).toContain(describeResource(resource));
    expect(iomem('fb-doctor-bound').entries.some((e) => e.name === VGA && e.start === resource.start)).toBe(true);
  });
});
