// reset.<address> against the kernel's own reset_method of each device (doctor --device ...).
import { describe, expect, it } from 'vitest';
import { step } from './records';

interface Check {
  id: string;
  status: string;
  summary: string;
  evidence: string[];
}

describe('reset checks on a real kernel', () => {
  it('each asked device: the methods doctor names are the kernel reset_method, in order', () => {
    const s = step('vtd', 'reset');
    const checks = (JSON.parse(s.stdout) as { checks: Check[] }).checks.filter((c) => c.id.startsWith('reset.'));
    expect(checks.length).toBe(5);
    for (const c of checks) {
      const address = c.id.slice('reset.'.length);
      const methods = s.kernel.devices[address]!.resetMethod;
      const evidence = c.evidence.find((e) => e.startsWith(`/sys/bus/pci/devices/${address}/reset_method:`))!;
      expect(evidence, c.id).toBeDefined();
      if (methods === null) expect(evidence, c.id).toContain('absent');
      else expect(evidence, c.id).toBe(`/sys/bus/pci/devices/${address}/reset_method: ${methods}`);
    }
  });

  it("FLR and PM resets are a device's own; bus-only functions name their bridge; the card's audio is reset with its card", () => {
    const checks = (JSON.parse(step('vtd', 'reset').stdout) as { checks: Check[] }).checks;
    const by = (a: string) => checks.find((c) => c.id === `reset.${a}`)!;
    expect(by('0000:03:00.0').summary).toContain('resets by itself (flr');
    expect(by('0000:01:00.0').summary).toContain('resets by itself (pm');
    expect(by('0000:04:00.0').summary).toContain('secondary bus reset of bridge 0000:00:06.0');
    expect(by('0000:04:00.1').summary).toContain('reset with its card');
    for (const c of checks.filter((x) => x.id.startsWith('reset.'))) expect(c.status).toBe('PASS');
  });
});
