// The page's summary cards and its tables: IOMMU groups, guards, doctor checks, problems.
import type { Report } from '../schema';
import type { PageData } from './data';
import { GROUP_STATUS, add, badge, code, el, groupBadge, nameOf, text } from './dom';

type Check = Report['doctor']['checks'][number];

export function cards({ report }: PageData): HTMLElement {
  const counts: Record<string, number> = {};
  for (const d of report.devices) counts[d.readiness.status] = (counts[d.readiness.status] ?? 0) + 1;
  const box = el('div', 'cards');
  const card = (n: string | number, label: string, cls?: string) => {
    const c = add(el('div', `card${cls ? ` ${cls}` : ''}`), el('b', null, n), el('span', null, label));
    box.appendChild(c);
    return c;
  };
  card(report.devices.length, 'PCI functions');
  card(report.groups.length, 'IOMMU groups');
  card(counts.ready ?? 0, 'ready (on vfio-pci)');
  card((counts.bindable ?? 0) + (counts['shared-group'] ?? 0), 'bindable');
  card((counts.guarded ?? 0) + (counts['group-not-viable'] ?? 0), 'guarded / not viable');
  card(counts['no-group'] ?? 0, 'without IOMMU group');
  card(counts['not-passable'] ?? 0, 'not passable (platform)');
  card(report.verdict, 'host verdict', `verdict-${report.verdict}`).id = 'verdict';
  return box;
}

const head = (...titles: string[]) => add(el('thead'), add(el('tr'), ...titles.map((t) => el('th', null, t))));

export function groupsSection({ report, dev }: PageData): HTMLElement {
  const s = el('section');
  s.id = 'groups';
  add(s, el('h2', null, `IOMMU groups (${report.groups.length})`));
  if (!report.groups.length) return add(s, el('p', 'empty', 'No IOMMU groups: the IOMMU is off or absent. See the doctor checks below.'));
  const body = el('tbody');
  for (const g of report.groups) {
    const tr = el('tr');
    tr.dataset.group = String(g.id);
    const members = el('td', 'members');
    for (const a of g.devices) {
      const d = dev.get(a);
      const c = code(a);
      c.title = d ? `${nameOf(d)}${d.isBridge ? ' (bridge)' : ''} — ${d.driver || 'no driver'}` : 'not in /sys/bus/pci/devices';
      add(members, c);
    }
    add(tr, add(el('td'), groupBadge(g.id)), add(el('td'), badge(g.status, GROUP_STATUS[g.status])), members, el('td', null, g.summary));
    body.appendChild(tr);
  }
  add(s, add(el('table'), head('Group', 'Status', 'Members', 'What it means'), body));
  if (report.ungrouped.length) add(s, add(el('p', 'hint'), text('No IOMMU group: '), code(report.ungrouped.join(' '))));
  return s;
}

export function guardsSection({ report, dev }: PageData): HTMLElement {
  const s = el('section');
  s.id = 'guards';
  add(s, el('h2', null, `Guards that would stop a bind (${report.guards.length})`));
  add(
    s,
    el('p', 'hint', 'Evaluated on a plan of each IOMMU group (what passthru bind group:N would do). passthru bind refuses these unless --force is given.'),
  );
  if (!report.guards.length) return add(s, el('p', 'empty', 'None: no group would be refused.'));
  const body = el('tbody');
  for (const f of report.guards) {
    const d = dev.get(f.address);
    const tr = el('tr');
    tr.dataset.guard = f.id;
    add(
      tr,
      add(el('td'), code(f.address), d ? el('div', 'ev', nameOf(d)) : null),
      add(el('td'), code(f.id)),
      el('td', null, f.summary),
      el('td', 'ev', f.evidence.join('\n')),
    );
    body.appendChild(tr);
  }
  return add(s, add(el('table'), head('Device', 'Guard', 'Why', 'Evidence'), body));
}

function checkTable(checks: Check[]): HTMLTableElement {
  const body = el('tbody');
  for (const c of checks) {
    const tr = el('tr');
    tr.dataset.check = c.id;
    const what = add(el('td'), text(c.summary));
    if (c.evidence.length) add(what, el('div', 'ev', c.evidence.join(' · ')));
    if (c.remediation) add(what, el('pre', null, c.remediation));
    add(tr, add(el('td'), badge(c.status, c.status)), add(el('td'), code(c.id)), what);
    body.appendChild(tr);
  }
  return add(el('table'), head('Status', 'Check', 'Finding, evidence and fix'), body);
}

export function doctorSection({ report }: PageData): HTMLElement {
  const s = el('section');
  s.id = 'doctor';
  add(s, el('h2', null, 'Doctor checks'));
  const h = report.doctor.host;
  const facts = [
    h.cpuModel || h.cpuVendor,
    h.virtualization ? `virtualization ${h.virtualization}` : 'no VT-x/AMD-V flag',
    h.kernelRelease ? `kernel ${h.kernelRelease}` : null,
    h.board,
    h.bios ? `BIOS ${h.bios}` : null,
    h.isVirtualMachine ? 'a virtual machine' : null,
  ]
    .filter(Boolean)
    .join(' · ');
  add(s, add(el('p'), badge(report.verdict, report.verdict), text(`  ${facts}`)));
  const deviceChecks = report.devices.flatMap((d) => d.checks);
  add(s, checkTable(report.doctor.checks));
  if (deviceChecks.length) {
    const bad = deviceChecks.filter((c) => c.status === 'FAIL' || c.status === 'WARN');
    const more = el('details', 'more');
    more.id = 'device-checks';
    add(more, el('summary', null, `${deviceChecks.length} per-device checks (${bad.length} WARN or FAIL); each device's own are in its row`));
    let filled = false;
    more.addEventListener('toggle', () => {
      if (more.open && !filled) {
        filled = true;
        more.appendChild(checkTable(deviceChecks));
      }
    });
    add(s, more);
  }
  return s;
}

/**
 * Shown first: devices the scan could not read, the FAILs of a not-ready host, and the IOMMU
 * groups whose devices cannot pass as they are: one paragraph per group (the finding of its
 * first endpoint; the others share it), not one per member.
 */
export function warningSections({ report }: PageData): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (report.problems.length)
    out.push(
      add(
        el('section'),
        el('h2', null, 'Devices that could not be read'),
        add(el('ul'), ...report.problems.map((p) => add(el('li'), code(p.address), text(` ${p.message}`)))),
      ),
    );
  if (report.verdict === 'not-ready') {
    const fails = report.doctor.checks.filter((c) => c.status === 'FAIL');
    out.push(
      add(
        el('section'),
        add(el('h2'), badge('not-ready', 'not ready'), text(' This host cannot pass devices through yet')),
        add(el('ul'), ...fails.map((c) => add(el('li'), code(c.id), text(` ${c.summary}`)))),
      ),
    );
  }
  const blocked = groupFindings(report);
  if (blocked.length)
    out.push(
      add(
        el('section'),
        el('h2', null, `IOMMU groups that cannot pass as they are (${blocked.length})`),
        add(
          el('ul'),
          ...blocked.map(({ group, members, check }) =>
            add(el('li'), groupBadge(group), text(` ${members.length} endpoint(s): `), code(members.join(' ')), text(` ${check.summary}`)),
          ),
        ),
      ),
    );
  return out;
}

/** Per IOMMU group, the first FAILing group.viable check of its endpoints (they all say the same of the group). */
function groupFindings(report: Report): Array<{ group: number; members: string[]; check: Check }> {
  const found = new Map<number, { group: number; members: string[]; check: Check }>();
  for (const d of report.devices) {
    const check = d.checks.find((c) => c.status === 'FAIL' && c.id.startsWith('group.viable.'));
    if (d.iommuGroup === null || !check || found.has(d.iommuGroup)) continue;
    const members = report.groups.find((g) => g.id === d.iommuGroup)?.endpoints ?? [d.address];
    found.set(d.iommuGroup, { group: d.iommuGroup, members, check });
  }
  return [...found.values()].sort((a, b) => a.group - b.group);
}
