// libvirt's virt-host-validate: `virt-host-validate qemu`, a pure function of its text.

export interface ValidateCheck {
  hypervisor: string;
  check: string;
  result: 'PASS' | 'WARN' | 'FAIL' | 'NOTE';
  message: string | null;
}

/** `virt-host-validate qemu`: "  QEMU: Checking for X      : PASS|WARN (why)|FAIL (why)". */
export function parseVirtHostValidate(text: string): ValidateCheck[] {
  const checks: ValidateCheck[] = [];
  for (const line of text.split('\n')) {
    const m = line.match(/^\s*(\w+): Checking (.+?)\s*: (PASS|WARN|FAIL|NOTE)(?: \((.*)\))?\s*$/);
    if (m) checks.push({ hypervisor: m[1]!, check: m[2]!, result: m[3] as ValidateCheck['result'], message: m[4] ?? null });
  }
  return checks;
}
