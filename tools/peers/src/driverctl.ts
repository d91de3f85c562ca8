// driverctl (Debian's driverctl): `driverctl list-devices`, a pure function of its text.
import { PCI_ADDRESS_RE } from '@passthru/pci-discovery';

export interface DriverctlDevice {
  address: string;
  driver: string | null;
  /** `[*]`: driver_override is set. */
  overridden: boolean;
}

/** `driverctl list-devices`: "ADDR DRIVER|(none) [*]". */
export function parseDriverctlList(text: string): DriverctlDevice[] {
  return text
    .split('\n')
    .map((line) => line.trim().match(/^(\S+) (\S+)( \[\*\])?$/))
    .filter((m): m is RegExpMatchArray => m !== null && PCI_ADDRESS_RE.test(m[1]!))
    .map((m) => ({ address: m[1]!, driver: m[2] === '(none)' ? null : m[2]!, overridden: Boolean(m[3]) }));
}
