// The toolbar (section links, filter, VF list toggles, print) and group highlighting.
import type { PageData } from './data';
import { READY, add, classOf, el, fillAll, fillers, nameOf } from './dom';

function openVfsAround(li: Element): void {
  for (let p = li.parentElement; p; p = p.parentElement) if (p instanceof HTMLDetailsElement && p.classList.contains('vfs')) p.open = true;
}

function allVfLists(open: boolean): void {
  document.querySelectorAll<HTMLDetailsElement>('details.vfs').forEach((d) => {
    if (open) fillers.get(d)?.();
    d.open = open;
  });
}

let highlighted: string | null = null;
/** Highlights every function of group `id` (a second click on the same group clears it). */
export function highlightGroup(id: string): void {
  fillAll();
  document.querySelectorAll('li.fn.hl').forEach((li) => {
    li.classList.remove('hl');
  });
  if (highlighted === id) {
    highlighted = null;
    return;
  }
  highlighted = id;
  let first: HTMLElement | null = null;
  document.querySelectorAll<HTMLElement>(`li.fn[data-group="${id}"]`).forEach((li) => {
    li.classList.add('hl');
    openVfsAround(li);
    first = first ?? li;
  });
  (first as HTMLElement | null)?.scrollIntoView?.({ block: 'center' });
}

/** Dims every function that does not match `q` (text, or `group N` / `gN`) and counts the matches. */
function applyFilter(data: PageData, raw: string): void {
  const q = raw.trim().toLowerCase();
  const counter = document.getElementById('match-count')!;
  document.querySelectorAll('li.fn').forEach((li) => {
    li.classList.remove('dim', 'hit');
  });
  if (!q) {
    counter.textContent = '';
    return;
  }
  fillAll();
  const items = document.querySelectorAll<HTMLElement>('li.fn');
  const gm = /^(?:group[: ]?|g)(\d+)$/.exec(q);
  let count = 0;
  items.forEach((li) => {
    const d = data.dev.get(li.dataset.address!)!;
    const hay =
      `${d.address} ${d.vendorId}:${d.deviceId} ${nameOf(d)} ${classOf(d)} ${d.driver || 'no driver'} ${d.net.join(' ')} ${READY[d.readiness.status]}`.toLowerCase();
    const hit = gm ? String(d.iommuGroup) === gm[1] : hay.includes(q);
    if (hit) {
      li.classList.add('hit');
      count++;
      openVfsAround(li);
    }
  });
  items.forEach((li) => {
    if (!li.classList.contains('hit') && !li.querySelector('li.hit')) li.classList.add('dim');
  });
  counter.textContent = `${count} match${count === 1 ? '' : 'es'}`;
}

const button = (label: string, id: string | null, onClick: () => void) => {
  const b = el('button', null, label);
  b.type = 'button';
  if (id) b.id = id;
  b.addEventListener('click', onClick);
  return b;
};

export function toolbar(data: PageData): HTMLElement {
  const nav = el('nav', 'toolbar');
  for (const [href, label] of [
    ['#topology', 'Topology'],
    ['#groups', 'Groups'],
    ['#guards', 'Guards'],
    ['#doctor', 'Doctor'],
    ...(data.report.cluster ? ([['#cluster', 'Cluster']] as const) : []),
  ] as const) {
    const a = el('a', null, label);
    a.href = href;
    nav.appendChild(a);
  }
  const input = el('input');
  input.type = 'search';
  input.id = 'filter';
  input.placeholder = 'Filter: address, name, driver, 10de:2684, group 12';
  let timer: ReturnType<typeof setTimeout> | undefined;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => applyFilter(data, input.value), 120);
  });
  const count = el('span', null, '');
  count.id = 'match-count';
  return add(
    nav,
    input,
    count,
    button('Expand VF lists', 'expand-vfs', () => allVfLists(true)),
    button('Collapse VF lists', 'collapse-vfs', () => allVfLists(false)),
    button('Print', null, () => window.print()),
  );
}

/** Group badges anywhere on the page highlight their group; printing fills the open VF lists. */
export function listen(): void {
  document.addEventListener(
    'click',
    (e) => {
      const t = e.target as HTMLElement | null;
      if (t?.dataset?.groupBadge) {
        e.preventDefault();
        e.stopPropagation();
        highlightGroup(t.dataset.groupBadge);
      }
    },
    true,
  );
  window.addEventListener('beforeprint', () =>
    document.querySelectorAll('details.vfs[open]').forEach((d) => {
      fillers.get(d)?.();
    }),
  );
}
