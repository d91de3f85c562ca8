// The LXD or Incus cluster section (`report --cluster`): every member with its state, published verdict
// and age, its VM-ready devices and GPUs, and the cluster groups passthru keeps.
import type { ReportCluster } from '../schema';
import type { PageData } from './data';
import { add, badge, code, el, text } from './dom';

type Member = ReportCluster['members'][number];

/** The page is a browser bundle of its own: the two servers' names, as lxd-device-attach's SERVERS has them. */
const SERVER_WORDS = { lxd: { product: 'LXD', cli: 'lxc' }, incus: { product: 'Incus', cli: 'incus' } } as const;
const head = (...titles: string[]) => add(el('thead'), add(el('tr'), ...titles.map((t) => el('th', null, t))));

function age(s: number | null): string {
  if (s === null) return '';
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

function stateCell(m: Member): HTMLElement {
  const up = m.status === 'ONLINE' && m.reachable;
  const td = add(el('td'), badge(up ? 'ready' : 'not-ready', m.reachable ? m.status : `${m.status} (unreachable)`));
  if (m.error) add(td, el('div', 'ev', m.error));
  return td;
}

function verdictCell(m: Member): HTMLElement {
  if (m.verdict === null) return add(el('td'), badge('incomplete', 'unpublished'), el('div', 'ev', 'run passthru fleet publish on it'));
  const td = add(el('td'), badge(m.stale ? 'incomplete' : m.verdict, m.stale ? `${m.verdict} (stale)` : m.verdict));
  add(td, el('div', 'ev', [age(m.ageSeconds), m.version ? `passthru ${m.version}` : ''].filter(Boolean).join(' · ')));
  if (m.failing.length) add(td, el('div', 'ev', `failing: ${m.failing.join(', ')}`));
  return td;
}

/** A member's devices of one kind: address, vendor:device, IOMMU group and driver. */
function deviceList(m: Member, pick: (d: Member['devices'][number]) => boolean): HTMLElement {
  const td = el('td', 'members');
  const devices = m.devices.filter(pick);
  if (!m.reachable) return add(td, el('span', 'empty', 'not asked'));
  if (!devices.length) return add(td, el('span', 'empty', 'none'));
  for (const d of devices)
    add(td, add(el('div'), code(d.address), el('span', 'ev', ` ${d.vendorId}:${d.deviceId} · group ${d.iommuGroup ?? '-'} · ${d.driver ?? 'no driver'}`)));
  return td;
}

export function clusterSection({ report }: PageData): HTMLElement | null {
  const cluster = report.cluster;
  if (!cluster) return null;
  const s = el('section');
  s.id = 'cluster';
  const { product, cli } = SERVER_WORDS[cluster.server];
  add(s, el('h2', null, `${product} cluster (${cluster.members.length} member${cluster.members.length === 1 ? '' : 's'})`));
  add(
    s,
    el(
      'p',
      'hint',
      `As passthru fleet status saw it at ${cluster.generatedAt}: each member's state as ${product} reports it, the readiness it published (older than ${cluster.staleAfterSeconds} s is stale, never VM-ready), and its devices from ${product}'s resources.`,
    ),
  );
  const body = el('tbody');
  for (const m of cluster.members) {
    const tr = el('tr');
    tr.dataset.member = m.name;
    const groups = el('td');
    for (const g of m.groups) add(groups, code(g), text(' '));
    add(
      tr,
      add(el('td'), el('b', null, m.name)),
      stateCell(m),
      verdictCell(m),
      deviceList(m, (d) => d.vmReady),
      deviceList(m, (d) => d.gpu),
      m.groups.length ? groups : add(el('td'), el('span', 'empty', 'none')),
    );
    body.appendChild(tr);
  }
  add(s, add(el('table'), head('Member', 'State', 'Published verdict', 'VM-ready devices', 'GPUs', 'Groups'), body));
  add(s, el('h2', null, `Cluster groups passthru keeps (${cluster.groups.length})`));
  if (!cluster.groups.length) return add(s, el('p', 'empty', 'None yet: run passthru fleet publish on each member.'));
  const groups = el('tbody');
  for (const g of cluster.groups) {
    const tr = el('tr');
    tr.dataset.clusterGroup = g.name;
    add(
      tr,
      add(el('td'), code(g.name)),
      el('td', null, g.members.join(' ') || '(empty)'),
      el('td', 'ev', g.description),
      add(el('td'), code(`${cli} launch IMAGE NAME --vm --target @${g.name}`)),
    );
    groups.appendChild(tr);
  }
  return add(s, add(el('table'), head('Group', 'Members', 'Description', 'Place with'), groups));
}
