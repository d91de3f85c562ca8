// The PCI tree: host bridges, bridges and functions, each row coloured by its IOMMU group, a
// group of several functions framed as one region, VF lists and detail panels filled on open.
import type { ReportDevice } from '../schema';
import type { PageData } from './data';
import { READY, add, badge, classOf, code, el, fillers, groupBadge, hue, nameOf, text } from './dom';

function infoPanel(data: PageData, d: ReportDevice): HTMLElement {
  const box = el('div', 'info');
  const dl = el('dl');
  const row = (k: string, v: string | Node | null | undefined) => {
    if (v === null || v === undefined || v === '') return;
    add(dl, el('dt', null, k), typeof v === 'string' ? el('dd', null, v) : add(el('dd'), v));
  };
  row('Device', nameOf(d) + (d.revision && d.revision !== '00' ? ` (rev ${d.revision})` : ''));
  row('IDs', `${d.vendorId}:${d.deviceId}   class ${classOf(d)}`);
  row('Driver', d.driver || '(none)');
  if (d.driverOverride) row('driver_override', d.driverOverride);
  if (d.owner) row('Owner', d.owner.summary);
  row('NUMA node', d.numaNode === null ? '-' : String(d.numaNode));
  if (d.net.length) row('Interfaces', d.net.join(', '));
  if (d.sriov?.role === 'pf') row('SR-IOV', `${d.sriov.numVfs} of ${d.sriov.totalVfs} VFs enabled`);
  if (d.sriov?.role === 'vf') row('SR-IOV', `VF ${d.sriov.vfIndex} of ${d.sriov.physfn}`);
  if (d.gpuModes) row('GPU modes', d.gpuModes.modes.join(', ') || 'none (no IOMMU group)');
  if (d.iommuGroup !== null) {
    const members = el('span');
    for (const a of data.grp.get(d.iommuGroup)?.devices ?? []) add(members, code(a + (data.dev.get(a)?.isBridge ? ' (bridge)' : '')), text(' '));
    row(`IOMMU group ${d.iommuGroup}`, members);
  }
  row('Readiness', d.readiness.summary);
  add(box, dl);
  if (d.guards.length) {
    add(box, el('b', null, 'Guards a bind would meet'));
    const items = d.guards.map((f) => {
      const where = f.address === d.address ? '' : ` on ${f.address}:`; // a group-mate's guard: a bind moves the whole group
      return add(el('li'), code(f.id), text(`${where} ${f.summary}`), el('div', 'ev', f.evidence.join('; ')));
    });
    add(box, add(el('ul'), ...items));
  }
  if (d.checks.length) {
    add(box, el('b', null, 'Doctor checks'));
    add(
      box,
      add(
        el('ul'),
        ...d.checks.map((c) =>
          add(
            el('li'),
            badge(c.status, c.status),
            text(' '),
            code(c.id),
            text(` ${c.summary}`),
            c.remediation ? el('div', 'ev', `Fix: ${c.remediation}`) : null,
          ),
        ),
      ),
    );
  }
  return box;
}

/** The summary of a PF's VF list: how many, which addresses, which groups, which drivers. */
function vfLabel(data: PageData, vfs: string[]): string {
  const groups = vfs.map((a) => data.dev.get(a)!.iommuGroup).filter((g): g is number => g !== null);
  const drivers = new Map<string, number>();
  for (const a of vfs) {
    const k = data.dev.get(a)!.driver || 'no driver';
    drivers.set(k, (drivers.get(k) ?? 0) + 1);
  }
  const drvText = [...drivers].map(([k, n]) => `${k} ×${n}`).join(', ');
  const range = `${vfs[0]}${vfs.length > 1 ? ` … ${vfs[vfs.length - 1]}` : ''}`;
  const groupText = groups.length ? ` · groups ${Math.min(...groups)}${groups.length > 1 ? `–${Math.max(...groups)}` : ''}` : '';
  return `${vfs.length} virtual function${vfs.length === 1 ? '' : 's'} (${range})${groupText} · ${drvText}`;
}

function fnItem(data: PageData, d: ReportDevice, enclosingGroup?: number | null): HTMLLIElement {
  const li = el('li', 'fn');
  li.dataset.address = d.address;
  if (d.iommuGroup !== null) {
    li.dataset.group = String(d.iommuGroup);
    li.style.setProperty('--h', hue(d.iommuGroup));
  } else li.classList.add('ng');
  const details = el('details', 'dev');
  const row = el('div', 'row');
  const name = el('span', 'name', d.sriov?.role === 'vf' ? `VF ${d.sriov.vfIndex}: ${nameOf(d)}` : nameOf(d));
  add(name, el('small', null, classOf(d) + (d.sriov?.role === 'pf' ? ` · ${d.sriov.numVfs}/${d.sriov.totalVfs} VFs` : '')));
  name.title = `${nameOf(d)} — ${classOf(d)}`;
  const drv = el('span', `drv mono${d.driver === 'vfio-pci' ? ' vfio' : d.driver ? '' : ' none'}`, d.driver || 'no driver');
  add(
    row,
    el('span', 'addr mono', d.address),
    groupBadge(d.iommuGroup),
    name,
    drv,
    add(el('span', 'rd'), badge(d.readiness.status, READY[d.readiness.status])),
  );
  row.title = d.readiness.summary;
  add(details, add(el('summary'), row));
  details.addEventListener('toggle', () => {
    if (details.open && !details.dataset.filled) {
      details.dataset.filled = '1';
      details.appendChild(infoPanel(data, d));
    }
  });
  add(li, details);
  const kids = data.node.get(d.address)?.children ?? [];
  const vfs = kids.filter((k) => data.dev.get(k)?.sriov?.role === 'vf');
  const others = kids.filter((k) => !vfs.includes(k));
  if (others.length) add(li, childList(data, others, d.iommuGroup));
  if (vfs.length) {
    const box = el('details', 'vfs');
    box.dataset.pf = d.address;
    add(box, el('summary', null, vfLabel(data, vfs)));
    let filled = false;
    const fill = () => {
      if (!filled) {
        filled = true;
        box.appendChild(childList(data, vfs, d.iommuGroup));
      }
    };
    box.addEventListener('toggle', () => box.open && fill());
    fillers.set(box, fill);
    add(li, box);
  }
  return li;
}

function busItem(data: PageData, id: string): HTMLLIElement {
  const n = data.node.get(id)!;
  const li = el('li', 'bus');
  li.dataset.bus = id;
  const parts = id.slice(3).split(':');
  const row = add(
    el('div', 'busrow mono', id),
    el('span', 'sub', n.parent ? `PCI domain ${parts[0]} behind ${n.parent} (Intel VMD)` : `host bridge (root complex): domain ${parts[0]}, bus ${parts[1]}`),
  );
  return add(li, row, childList(data, n.children, undefined));
}

/** Children in runs of one IOMMU group: a run of a group with several members is a framed region. */
function childList(data: PageData, ids: string[], enclosingGroup: number | null | undefined): HTMLUListElement {
  const ul = el('ul');
  let i = 0;
  while (i < ids.length) {
    const id = ids[i]!;
    const d = data.dev.get(id);
    if (!d) {
      ul.appendChild(busItem(data, id));
      i++;
      continue;
    }
    const g = d.iommuGroup;
    let j = i + 1;
    while (j < ids.length && data.dev.get(ids[j]!)?.iommuGroup === g) j++;
    const run = ids.slice(i, j);
    const group = g === null ? undefined : data.grp.get(g);
    const members = group?.devices ?? [];
    // A box with a label for a group of several functions (not again inside the same group's box).
    if (g !== null && g !== enclosingGroup && (run.length > 1 || members.length > run.length)) {
      const region = el('div', 'region multi');
      region.style.setProperty('--h', hue(g));
      region.dataset.region = String(g);
      const label = `IOMMU group ${g} · ${members.length} member${members.length === 1 ? '' : 's'}${group && !group.isolated ? ' · shared by several devices: they move together' : ''}${group && group.viable && group.bound ? ' · viable' : ''}`;
      add(region, el('div', 'rlabel', label));
      const inner = el('ul', 'plain');
      inner.style.cssText = 'margin:0;padding:0;border:0';
      for (const a of run) inner.appendChild(fnItem(data, data.dev.get(a)!, g));
      add(region, inner);
      add(ul, add(el('li', 'region-li'), region));
    } else for (const a of run) ul.appendChild(fnItem(data, data.dev.get(a)!, enclosingGroup));
    i = j;
  }
  return ul;
}

export function topologySection(data: PageData): HTMLElement {
  const s = el('section');
  s.id = 'topology';
  add(s, el('h2', null, 'PCI topology and IOMMU groups'));
  add(
    s,
    el(
      'p',
      'hint',
      'Host bridges, bridges and functions as the kernel sees them; each row has the colour of its IOMMU group, and a framed region holds a group of several functions (everything in a group moves to vfio-pci together). Click a row for details, guards and checks; click a group badge to highlight its members.',
    ),
  );
  const legend = el('div', 'legend');
  for (const [k, label] of Object.entries(READY)) add(legend, badge(k, label));
  add(s, legend);
  const tree = el('ul', 'tree');
  for (const r of data.report.topology.roots) {
    const d = data.dev.get(r);
    tree.appendChild(d ? fnItem(data, d) : busItem(data, r));
  }
  if (!data.report.topology.roots.length) add(s, el('p', 'empty', `No PCI devices found under ${data.report.root}/sys/bus/pci/devices.`));
  return add(s, tree);
}
