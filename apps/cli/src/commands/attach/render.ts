import { SERVERS, type AttachPlan } from '@passthru/lxd-device-attach';

/** The plan `attach --dry-run` prints: the device, its notes and warnings, and the writes. */
export function formatAttachPlan(plan: AttachPlan, via: string): string {
  const config = Object.entries(plan.device)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return [
    `attach ${plan.deviceName} to ${plan.instanceType} ${plan.instance} (project ${plan.project}, ${plan.instanceStatus})`,
    `  device: ${config}`,
    ...plan.notes.map((n) => `  ${n}`),
    ...plan.warnings.map((w) => `  warning: ${w}`),
    `  write: GET instance -> PUT /1.0/instances/${plan.instance} with If-Match (ETag) via ${via} (${SERVERS[plan.server].product}) -> re-read and verify`,
    '',
  ].join('\n');
}
