// DOM helpers of the report page: textContent only, never innerHTML (device names are data).
import type { ReportDevice } from '../schema';

type Child = Node | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string | null, text?: string | number | null): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

/** Appends the children that are there (null, undefined and false are skipped); returns the parent. */
export function add<P extends Node>(parent: P, ...children: Child[]): P {
  for (const c of children) if (c) parent.appendChild(c);
  return parent;
}

export const text = (s: string) => document.createTextNode(s);
export const code = (s: string) => el('code', null, s);
/** A group's colour: golden-angle hues, so neighbouring group ids differ. */
export const hue = (id: number | string) => String(Math.round((Number(id) * 137.508) % 360));
export const nameOf = (d: ReportDevice) => `${d.vendorName || `Vendor ${d.vendorId}`} ${d.deviceName || `Device ${d.deviceId}`}`;
export const classOf = (d: ReportDevice) => `${d.className || 'Class'} [${d.class.slice(0, 4)}]`;
export const badge = (kind: string, label: string) => el('span', `badge st-${kind}`, label);

export function groupBadge(id: number | null): HTMLElement {
  if (id === null) return el('span', 'gbadge none', 'no group');
  const b = el('button', 'gbadge', `group ${id}`);
  b.type = 'button';
  b.style.setProperty('--h', hue(id));
  b.dataset.groupBadge = String(id);
  b.title = `Highlight IOMMU group ${id}`;
  return b;
}

/** Readiness labels, in legend order. */
export const READY: Record<ReportDevice['readiness']['status'], string> = {
  ready: 'ready',
  bindable: 'bindable',
  'shared-group': 'shares group',
  guarded: 'guarded',
  'group-not-viable': 'group not viable',
  'no-group': 'no IOMMU group',
  'not-passable': 'not passable (platform)',
  bridge: 'bridge',
};
export const GROUP_STATUS = {
  ready: 'ready',
  bindable: 'bindable',
  guarded: 'guarded',
  'not-passable': 'not passable (platform)',
  'bridges-only': 'bridges only',
} as const;

/** VF lists fill on first open (thousands of VFs): what fills each, for expand, filter and print. */
export const fillers = new WeakMap<Element, () => void>();
export const fillAll = () =>
  document.querySelectorAll('details.vfs').forEach((d) => {
    fillers.get(d)?.();
  });
