import { CHECK_STATUSES, VERDICTS } from '@passthru/iommu-check';
import { DEVICE_READINESS, GROUP_STATUSES, type HostReport } from './HostReport';

/** Suggested textfile-collector file (Debian's node-exporter reads /var/lib/prometheus/node-exporter/*.prom). */
export const PROMETHEUS_TEXTFILE = '/var/lib/prometheus/node-exporter/passthru.prom';

/** Label values: backslash, double quote and line feed escaped (exposition format). */
const labelValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
/** HELP text: backslash and line feed escaped. */
const helpText = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

type Labels = Record<string, string>;
interface Family {
  name: string;
  help: string;
  samples: Array<[Labels, number]>;
}

const sample = (name: string, labels: Labels, value: number) => {
  const l = Object.entries(labels)
    .map(([k, v]) => `${k}="${labelValue(v)}"`)
    .join(',');
  return `${name}${l ? `{${l}}` : ''} ${value}\n`;
};

/**
 * The metric families, in file order; every family is a gauge. Enumerations (verdict, a
 * check's status, a device's readiness, a group's status) are state sets: one series per
 * possible state, 1 for the current one and 0 for the others, so `== 1` selects and a change
 * is a value change, not a vanished series.
 */
export function prometheusFamilies(report: HostReport): Family[] {
  const bool = (b: boolean) => (b ? 1 : 0);
  const ready = report.verdict === 'ready' || report.verdict === 'ready-with-warnings';
  return [
    { name: 'passthru_ready', help: "1 when passthru doctor's verdict is ready or ready-with-warnings, else 0.", samples: [[{}, bool(ready)]] },
    {
      name: 'passthru_verdict',
      help: "passthru doctor's verdict: 1 for the current one (ready, ready-with-warnings, not-ready, incomplete).",
      samples: VERDICTS.map((v) => [{ verdict: v }, bool(v === report.verdict)]),
    },
    {
      name: 'passthru_check_status',
      help: "Each doctor check's status: 1 for its status (PASS, WARN, FAIL, SKIP), 0 for the others.",
      samples: report.checks.flatMap((c) => CHECK_STATUSES.map((s): [Labels, number] => [{ check: c.id, status: s }, bool(c.status === s)])),
    },
    {
      name: 'passthru_iommu_enabled',
      help: 'The kernel enabled the IOMMU (doctor check iommu.kernel passes).',
      samples: [[{}, bool(report.facts.iommuEnabled)]],
    },
    {
      name: 'passthru_interrupt_remapping',
      help: 'Interrupts are remapped (IR chips in /proc/interrupts).',
      samples: [[{}, bool(report.facts.interruptRemapping)]],
    },
    {
      name: 'passthru_acs_override',
      help: 'pcie_acs_override is on the kernel command line (out-of-tree; fakes isolation).',
      samples: [[{}, bool(report.facts.acsOverride)]],
    },
    {
      name: 'passthru_vfio_ready',
      help: 'vfio-pci can take devices now: IOMMU on, vfio modules loaded or built in.',
      samples: [[{}, bool(report.facts.vfioReady)]],
    },
    {
      name: 'passthru_device_info',
      help: 'One series per PCI function: its ids, driver ("" for none), IOMMU group ("" for none) and reset methods; value 1.',
      samples: report.devices.map((d) => [
        {
          address: d.address,
          vendor_id: d.vendorId,
          device_id: d.deviceId,
          class: d.class,
          driver: d.driver ?? '',
          iommu_group: d.iommuGroup === null ? '' : String(d.iommuGroup),
          reset_methods: (d.resetMethods ?? []).join(' '),
        },
        1,
      ]),
    },
    {
      name: 'passthru_device_readiness',
      help: `Each PCI function's readiness for a VM: 1 for its state (${DEVICE_READINESS.join(', ')}), 0 for the others.`,
      samples: report.devices.flatMap((d) => DEVICE_READINESS.map((r): [Labels, number] => [{ address: d.address, readiness: r }, bool(d.readiness === r)])),
    },
    {
      name: 'passthru_device_drift',
      help: 'Devices whose driver disagrees with passthru journal: journal-not-bound (journal says bound, not on vfio-pci) or bound-unrecorded (on vfio-pci, no record, no known manager); value 1.',
      samples: report.devices.filter((d) => d.drift !== null).map((d) => [{ address: d.address, drift: d.drift! }, 1]),
    },
    {
      name: 'passthru_drifted_devices',
      help: 'How many devices passthru_device_drift lists.',
      samples: [[{}, report.devices.filter((d) => d.drift !== null).length]],
    },
    {
      name: 'passthru_group_viable',
      help: 'Each IOMMU group: 1 when every endpoint is on vfio-pci, pci-stub or no driver.',
      samples: report.groups.map((g) => [{ iommu_group: String(g.id) }, bool(g.viable)]),
    },
    {
      name: 'passthru_group_status',
      help: `Each IOMMU group's status: 1 for its state (${GROUP_STATUSES.join(', ')}), 0 for the others.`,
      samples: report.groups.flatMap((g) => GROUP_STATUSES.map((s): [Labels, number] => [{ iommu_group: String(g.id), status: s }, bool(g.status === s)])),
    },
    {
      name: 'passthru_vm_ready_groups',
      help: 'IOMMU groups a VM can be given now: the verdict is ready or ready-with-warnings, the group ready (viable, on vfio-pci, no platform function) and held by no other manager.',
      samples: [[{}, report.groups.filter((g) => g.vmReady).length]],
    },
    { name: 'passthru_scan_timestamp_seconds', help: 'When passthru read the host (Unix time).', samples: [[{}, Date.parse(report.scannedAt) / 1000]] },
  ];
}

/** The textfile-collector file: per family one HELP and one TYPE line, then its samples. */
export function renderPrometheus(report: HostReport): string {
  return prometheusFamilies(report)
    .map((f) => `# HELP ${f.name} ${helpText(f.help)}\n# TYPE ${f.name} gauge\n${f.samples.map(([l, v]) => sample(f.name, l, v)).join('')}`)
    .join('');
}
