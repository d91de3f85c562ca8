// The slices of passthru's JSON output (docs/architecture.md: the CLI contract) the suite compares.
export interface ListJson {
  schemaVersion: number;
  root: string;
  devices: Array<{
    address: string;
    vendorId: string;
    deviceId: string;
    subsystemVendorId: string | null;
    subsystemDeviceId: string | null;
    class: string;
    revision: string | null;
    driver: string | null;
    driverOverride: string | null;
    iommuGroup: number | null;
    numaNode: number | null;
    parent: string | null;
    net: string[];
    /** GPUs only: how LXD can attach it (list's gpuModes; the MIG part is read from /proc/driver/nvidia and nvidia-smi). */
    gpuModes?: { modes: string[]; mig: unknown };
  }>;
}

export interface GroupsJson {
  schemaVersion: number;
  root: string;
  groups: Array<{ id: number; devices: string[] }>;
}

export interface DoctorJson {
  schemaVersion: number;
  verdict: string;
  checks: Array<{ id: string; status: 'PASS' | 'WARN' | 'FAIL' | 'SKIP' | string; summary: string; evidence: string[] }>;
}
