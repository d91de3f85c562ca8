/**
 * The report page's script (plain ES2017, inline, no network): draws the embedded JSON
 * (`#passthru-data`) with DOM calls only (textContent, never innerHTML: device names are data).
 * Sets `data-rendered` and `data-render-ms` on <html> when done (tests and timings read them).
 */
export const REPORT_SCRIPT = String.raw`(function () {
'use strict';
var t0 = performance.now();
var data = JSON.parse(document.getElementById('passthru-data').textContent);
var dev = {}, node = {}, grp = {};
data.devices.forEach(function (d) { dev[d.address] = d; });
data.topology.nodes.forEach(function (n) { node[n.id] = n; });
data.groups.forEach(function (g) { grp[g.id] = g; });
var READY = { ready: 'ready', bindable: 'bindable', 'shared-group': 'shares group', guarded: 'guarded', 'group-not-viable': 'group not viable', 'no-group': 'no IOMMU group', 'not-passable': 'not passable (platform)', bridge: 'bridge' };
var GROUP_STATUS = { ready: 'ready', bindable: 'bindable', guarded: 'guarded', 'not-passable': 'not passable (platform)', 'bridges-only': 'bridges only' };

function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function add(parent) { for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]); return parent; }
function hue(id) { return String(Math.round((id * 137.508) % 360)); }
function nameOf(d) { return (d.vendorName || 'Vendor ' + d.vendorId) + ' ' + (d.deviceName || 'Device ' + d.deviceId); }
function classOf(d) { return (d.className || 'Class') + ' [' + d.class.slice(0, 4) + ']'; }
function badge(kind, label) { return el('span', 'badge st-' + kind, label); }
function groupBadge(id) {
  if (id === null) return el('span', 'gbadge none', 'no group');
  var b = el('button', 'gbadge', 'group ' + id);
  b.type = 'button';
  b.style.setProperty('--h', hue(id));
  b.dataset.groupBadge = String(id);
  b.title = 'Highlight IOMMU group ' + id;
  return b;
}
function code(text) { return el('code', null, text); }

// ---- header cards ------------------------------------------------------------------------------
function cards() {
  var counts = {};
  data.devices.forEach(function (d) { counts[d.readiness.status] = (counts[d.readiness.status] || 0) + 1; });
  var box = el('div', 'cards');
  function card(n, label, cls) { var c = add(el('div', 'card' + (cls ? ' ' + cls : '')), el('b', null, n), el('span', null, label)); box.appendChild(c); return c; }
  card(data.devices.length, 'PCI functions');
  card(data.groups.length, 'IOMMU groups');
  card(counts.ready || 0, 'ready (on vfio-pci)');
  card((counts.bindable || 0) + (counts['shared-group'] || 0), 'bindable');
  card((counts.guarded || 0) + (counts['group-not-viable'] || 0), 'guarded / not viable');
  card(counts['no-group'] || 0, 'without IOMMU group');
  card(counts['not-passable'] || 0, 'not passable (platform)');
  if (data.doctor) card(data.doctor.verdict, 'doctor verdict', 'verdict-' + data.doctor.verdict).id = 'verdict';
  else card('n/a', 'doctor checks not run');
  return box;
}

// ---- topology ----------------------------------------------------------------------------------
function infoPanel(d) {
  var box = el('div', 'info');
  var dl = el('dl');
  function row(k, v) { if (v === null || v === undefined || v === '') return; add(dl, el('dt', null, k), typeof v === 'string' ? el('dd', null, v) : add(el('dd'), v)); }
  row('Device', nameOf(d) + (d.revision && d.revision !== '00' ? ' (rev ' + d.revision + ')' : ''));
  row('IDs', d.vendorId + ':' + d.deviceId + '   class ' + classOf(d));
  row('Driver', d.driver || '(none)');
  if (d.driverOverride) row('driver_override', d.driverOverride);
  if (d.owner) row('Owner', d.owner.summary);
  row('NUMA node', d.numaNode === null ? '-' : String(d.numaNode));
  if (d.net.length) row('Interfaces', d.net.join(', '));
  if (d.sriov && d.sriov.role === 'pf') row('SR-IOV', d.sriov.numVfs + ' of ' + d.sriov.totalVfs + ' VFs enabled');
  if (d.sriov && d.sriov.role === 'vf') row('SR-IOV', 'VF ' + d.sriov.vfIndex + ' of ' + d.sriov.physfn);
  if (d.iommuGroup !== null) {
    var g = grp[d.iommuGroup];
    var members = el('span');
    (g ? g.devices : []).forEach(function (a) { add(members, code(a + (dev[a] && dev[a].isBridge ? ' (bridge)' : '')), document.createTextNode(' ')); });
    row('IOMMU group ' + d.iommuGroup, members);
  }
  row('Readiness', d.readiness.summary);
  add(box, dl);
  if (d.guards.length) {
    add(box, el('b', null, 'Guards a bind would meet'));
    var ul = el('ul');
    d.guards.forEach(function (f) { add(ul, add(el('li'), code(f.id), document.createTextNode(' ' + f.summary), el('div', 'ev', f.evidence.join('; ')))); });
    add(box, ul);
  }
  if (d.checks.length) {
    add(box, el('b', null, 'Doctor checks'));
    var cl = el('ul');
    d.checks.forEach(function (c) { add(cl, add(el('li'), badge(c.status, c.status), document.createTextNode(' '), code(c.id), document.createTextNode(' ' + c.summary), c.remediation ? el('div', 'ev', 'Fix: ' + c.remediation) : null)); });
    add(box, cl);
  }
  return box;
}

function fnItem(d, enclosingGroup) {
  var li = el('li', 'fn');
  li.dataset.address = d.address;
  if (d.iommuGroup !== null) { li.dataset.group = String(d.iommuGroup); li.style.setProperty('--h', hue(d.iommuGroup)); } else li.classList.add('ng');
  var details = el('details', 'dev');
  var summary = el('summary');
  var row = el('div', 'row');
  var name = el('span', 'name', d.sriov && d.sriov.role === 'vf' ? 'VF ' + d.sriov.vfIndex + ': ' + nameOf(d) : nameOf(d));
  add(name, el('small', null, classOf(d) + (d.sriov && d.sriov.role === 'pf' ? ' · ' + d.sriov.numVfs + '/' + d.sriov.totalVfs + ' VFs' : '')));
  name.title = nameOf(d) + ' — ' + classOf(d);
  var drv = el('span', 'drv mono' + (d.driver === 'vfio-pci' ? ' vfio' : d.driver ? '' : ' none'), d.driver || 'no driver');
  add(row, el('span', 'addr mono', d.address), groupBadge(d.iommuGroup), name, drv, add(el('span', 'rd'), badge(d.readiness.status, READY[d.readiness.status])));
  row.title = d.readiness.summary;
  add(details, add(summary, row));
  details.addEventListener('toggle', function () { if (details.open && !details.dataset.filled) { details.dataset.filled = '1'; details.appendChild(infoPanel(d)); } });
  add(li, details);
  var kids = node[d.address] ? node[d.address].children : [];
  var vfs = kids.filter(function (k) { return dev[k] && dev[k].sriov && dev[k].sriov.role === 'vf'; });
  var others = kids.filter(function (k) { return vfs.indexOf(k) < 0; });
  if (others.length) add(li, childList(others, d.iommuGroup));
  if (vfs.length) {
    var box = el('details', 'vfs');
    box.dataset.pf = d.address;
    var groups = vfs.map(function (a) { return dev[a].iommuGroup; }).filter(function (g) { return g !== null; });
    var drivers = {};
    vfs.forEach(function (a) { var k = dev[a].driver || 'no driver'; drivers[k] = (drivers[k] || 0) + 1; });
    var drvText = Object.keys(drivers).map(function (k) { return k + ' ×' + drivers[k]; }).join(', ');
    var label = vfs.length + ' virtual function' + (vfs.length === 1 ? '' : 's') + ' (' + vfs[0] + (vfs.length > 1 ? ' … ' + vfs[vfs.length - 1] : '') + ')' +
      (groups.length ? ' · groups ' + Math.min.apply(null, groups) + (groups.length > 1 ? '–' + Math.max.apply(null, groups) : '') : '') + ' · ' + drvText;
    add(box, el('summary', null, label));
    var filled = false;
    var fill = function () { if (!filled) { filled = true; box.appendChild(childList(vfs, d.iommuGroup)); } };
    box.addEventListener('toggle', function () { if (box.open) fill(); });
    box.fill = fill;
    add(li, box);
  }
  return li;
}

function busItem(id) {
  var n = node[id];
  var li = el('li', 'bus');
  li.dataset.bus = id;
  var parts = id.slice(3).split(':');
  var row = add(el('div', 'busrow mono', id), el('span', 'sub', n.parent ? 'PCI domain ' + parts[0] + ' behind ' + n.parent + ' (Intel VMD)' : 'host bridge (root complex): domain ' + parts[0] + ', bus ' + parts[1]));
  add(li, row, childList(n.children, undefined));
  return li;
}

/** Children in runs of one IOMMU group: a run of a group with several members is a framed region. */
function childList(ids, enclosingGroup) {
  var ul = el('ul');
  var i = 0;
  while (i < ids.length) {
    var id = ids[i];
    if (!dev[id]) { ul.appendChild(busItem(id)); i++; continue; }
    var g = dev[id].iommuGroup;
    var j = i + 1;
    while (j < ids.length && dev[ids[j]] && dev[ids[j]].iommuGroup === g) j++;
    var run = ids.slice(i, j);
    var members = g === null ? [] : grp[g] ? grp[g].devices : [];
    // A box with a label for a group of several functions (not again inside the same group's box).
    if (g !== null && g !== enclosingGroup && (run.length > 1 || members.length > run.length)) {
      var region = el('div', 'region multi');
      region.style.setProperty('--h', hue(g));
      region.dataset.region = String(g);
      var label = 'IOMMU group ' + g + ' · ' + members.length + ' member' + (members.length === 1 ? '' : 's') + (grp[g] && !grp[g].isolated ? ' · shared by several devices: they move together' : '') + (grp[g] && grp[g].viable && grp[g].bound ? ' · viable' : '');
      add(region, el('div', 'rlabel', label));
      var inner = el('ul', 'plain');
      inner.style.cssText = 'margin:0;padding:0;border:0';
      run.forEach(function (a) { inner.appendChild(fnItem(dev[a], g)); });
      add(region, inner);
      add(ul, add(el('li', 'region-li'), region));
    } else run.forEach(function (a) { ul.appendChild(fnItem(dev[a], enclosingGroup)); });
    i = j;
  }
  return ul;
}

function topologySection() {
  var s = el('section');
  s.id = 'topology';
  add(s, el('h2', null, 'PCI topology and IOMMU groups'));
  add(s, el('p', 'hint', 'Host bridges, bridges and functions as the kernel sees them; each row has the colour of its IOMMU group, and a framed region holds a group of several functions (everything in a group moves to vfio-pci together). Click a row for details, guards and checks; click a group badge to highlight its members.'));
  var legend = el('div', 'legend');
  Object.keys(READY).forEach(function (k) { add(legend, badge(k, READY[k])); });
  add(s, legend);
  var tree = el('ul', 'tree');
  data.topology.roots.forEach(function (r) { tree.appendChild(dev[r] ? fnItem(dev[r]) : busItem(r)); });
  if (!data.topology.roots.length) add(s, el('p', 'empty', 'No PCI devices found under ' + data.root + '/sys/bus/pci/devices.'));
  return add(s, tree);
}

// ---- groups, guards, doctor --------------------------------------------------------------------
function groupsSection() {
  var s = el('section');
  s.id = 'groups';
  add(s, el('h2', null, 'IOMMU groups (' + data.groups.length + ')'));
  if (!data.groups.length) { add(s, el('p', 'empty', 'No IOMMU groups: the IOMMU is off or absent. See the doctor checks below.')); return s; }
  var table = el('table');
  add(table, add(el('thead'), add(el('tr'), el('th', null, 'Group'), el('th', null, 'Status'), el('th', null, 'Members'), el('th', null, 'What it means'))));
  var body = el('tbody');
  data.groups.forEach(function (g) {
    var tr = el('tr');
    tr.dataset.group = String(g.id);
    var members = el('td', 'members');
    g.devices.forEach(function (a) { var d = dev[a]; var c = code(a); c.title = d ? nameOf(d) + (d.isBridge ? ' (bridge)' : '') + ' — ' + (d.driver || 'no driver') : 'not in /sys/bus/pci/devices'; add(members, c); });
    add(tr, add(el('td'), groupBadge(g.id)), add(el('td'), badge(g.status, GROUP_STATUS[g.status])), members, el('td', null, g.summary));
    body.appendChild(tr);
  });
  add(table, body);
  add(s, table);
  if (data.ungrouped.length) add(s, add(el('p', 'hint'), document.createTextNode('No IOMMU group: '), code(data.ungrouped.join(' '))));
  return s;
}

function guardsSection() {
  var s = el('section');
  s.id = 'guards';
  add(s, el('h2', null, 'Guards that would stop a bind (' + data.guards.length + ')'));
  add(s, el('p', 'hint', 'Evaluated on a plan of each IOMMU group (what passthru bind group:N would do). passthru bind refuses these unless --force is given.'));
  if (!data.guards.length) { add(s, el('p', 'empty', 'None: no group would be refused.')); return s; }
  var table = el('table');
  add(table, add(el('thead'), add(el('tr'), el('th', null, 'Device'), el('th', null, 'Guard'), el('th', null, 'Why'), el('th', null, 'Evidence'))));
  var body = el('tbody');
  data.guards.forEach(function (f) {
    var d = dev[f.address];
    var tr = el('tr');
    tr.dataset.guard = f.id;
    add(tr, add(el('td'), code(f.address), d ? el('div', 'ev', nameOf(d)) : null), add(el('td'), code(f.id)), el('td', null, f.summary), el('td', 'ev', f.evidence.join('\n')));
    body.appendChild(tr);
  });
  return add(s, add(table, body));
}

function checkRows(checks) {
  var body = el('tbody');
  checks.forEach(function (c) {
    var tr = el('tr');
    tr.dataset.check = c.id;
    var what = add(el('td'), document.createTextNode(c.summary));
    if (c.evidence.length) add(what, el('div', 'ev', c.evidence.join(' · ')));
    if (c.remediation) add(what, el('pre', null, c.remediation));
    add(tr, add(el('td'), badge(c.status, c.status)), add(el('td'), code(c.id)), what);
    body.appendChild(tr);
  });
  return body;
}
function checkTable(checks) {
  var table = el('table');
  add(table, add(el('thead'), add(el('tr'), el('th', null, 'Status'), el('th', null, 'Check'), el('th', null, 'Finding, evidence and fix'))));
  return add(table, checkRows(checks));
}

function doctorSection() {
  var s = el('section');
  s.id = 'doctor';
  add(s, el('h2', null, 'Doctor checks'));
  if (!data.doctor) { add(s, el('p', 'empty', data.doctorError || 'The doctor checks were not run.')); return s; }
  var h = data.doctor.host;
  var facts = [h.cpuModel || h.cpuVendor, h.virtualization ? 'virtualization ' + h.virtualization : 'no VT-x/AMD-V flag', h.kernelRelease ? 'kernel ' + h.kernelRelease : null, h.board, h.bios ? 'BIOS ' + h.bios : null, h.isVirtualMachine ? 'a virtual machine' : null].filter(Boolean).join(' · ');
  add(s, add(el('p'), badge(data.doctor.verdict, data.doctor.verdict), document.createTextNode('  ' + facts)));
  var perDevice = /[0-9a-f]{4,8}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/;
  var hostChecks = data.doctor.checks.filter(function (c) { return !perDevice.test(c.id); });
  var deviceChecks = data.doctor.checks.filter(function (c) { return perDevice.test(c.id); });
  add(s, checkTable(hostChecks));
  if (deviceChecks.length) {
    var bad = deviceChecks.filter(function (c) { return c.status === 'FAIL' || c.status === 'WARN'; });
    var more = el('details', 'more');
    more.id = 'device-checks';
    add(more, el('summary', null, deviceChecks.length + ' per-device checks (' + bad.length + ' WARN or FAIL); each device\'s own are in its row'));
    var filled = false;
    more.addEventListener('toggle', function () { if (more.open && !filled) { filled = true; more.appendChild(checkTable(deviceChecks)); } });
    add(s, more);
  }
  return s;
}

// ---- interaction -------------------------------------------------------------------------------
function openVfsAround(li) {
  for (var p = li.parentElement; p; p = p.parentElement) if (p.tagName === 'DETAILS' && p.classList.contains('vfs')) p.open = true;
}
function allVfLists(open) {
  Array.prototype.forEach.call(document.querySelectorAll('details.vfs'), function (d) { if (open && d.fill) d.fill(); d.open = open; });
}
function fillAll() { Array.prototype.forEach.call(document.querySelectorAll('details.vfs'), function (d) { if (d.fill) d.fill(); }); }

var highlighted = null;
function highlightGroup(id) {
  fillAll();
  Array.prototype.forEach.call(document.querySelectorAll('li.fn.hl'), function (li) { li.classList.remove('hl'); });
  if (highlighted === id) { highlighted = null; return; }
  highlighted = id;
  var first = null;
  Array.prototype.forEach.call(document.querySelectorAll('li.fn[data-group="' + id + '"]'), function (li) { li.classList.add('hl'); openVfsAround(li); first = first || li; });
  if (first && first.scrollIntoView) first.scrollIntoView({ block: 'center' });
}

function applyFilter(q) {
  q = q.trim().toLowerCase();
  var items = document.querySelectorAll('li.fn');
  var count = 0;
  Array.prototype.forEach.call(items, function (li) { li.classList.remove('dim'); li.classList.remove('hit'); });
  if (!q) { document.getElementById('match-count').textContent = ''; return; }
  fillAll();
  items = document.querySelectorAll('li.fn');
  var gm = /^(?:group[: ]?|g)(\d+)$/.exec(q);
  Array.prototype.forEach.call(items, function (li) {
    var d = dev[li.dataset.address];
    var hay = (d.address + ' ' + d.vendorId + ':' + d.deviceId + ' ' + nameOf(d) + ' ' + classOf(d) + ' ' + (d.driver || 'no driver') + ' ' + d.net.join(' ') + ' ' + READY[d.readiness.status]).toLowerCase();
    var hit = gm ? String(d.iommuGroup) === gm[1] : hay.indexOf(q) >= 0;
    if (hit) { li.classList.add('hit'); count++; openVfsAround(li); }
  });
  Array.prototype.forEach.call(items, function (li) { if (!li.classList.contains('hit') && !li.querySelector('li.hit')) li.classList.add('dim'); });
  document.getElementById('match-count').textContent = count + ' match' + (count === 1 ? '' : 'es');
}

function toolbar() {
  var nav = el('nav', 'toolbar');
  [['#topology', 'Topology'], ['#groups', 'Groups'], ['#guards', 'Guards'], ['#doctor', 'Doctor']].forEach(function (l) { var a = el('a', null, l[1]); a.href = l[0]; nav.appendChild(a); });
  var input = el('input');
  input.type = 'search';
  input.id = 'filter';
  input.placeholder = 'Filter: address, name, driver, 10de:2684, group 12';
  var timer = null;
  input.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(function () { applyFilter(input.value); }, 120); });
  var expand = el('button', null, 'Expand VF lists'); expand.type = 'button'; expand.id = 'expand-vfs';
  expand.addEventListener('click', function () { allVfLists(true); });
  var collapse = el('button', null, 'Collapse VF lists'); collapse.type = 'button'; collapse.id = 'collapse-vfs';
  collapse.addEventListener('click', function () { allVfLists(false); });
  var print = el('button', null, 'Print'); print.type = 'button';
  print.addEventListener('click', function () { window.print(); });
  add(nav, input, el('span', null, ''), expand, collapse, print);
  nav.children[nav.children.length - 4].id = 'match-count';
  return nav;
}

var app = document.getElementById('app');
app.textContent = '';
add(app, cards(), toolbar());
if (data.problems.length) add(app, add(el('section'), el('h2', null, 'Devices that could not be read'), add.apply(null, [el('ul')].concat(data.problems.map(function (p) { return add(el('li'), code(p.address), document.createTextNode(' ' + p.message)); })))));
if (data.doctor && data.doctor.verdict === 'not-ready') {
  var fails = data.doctor.checks.filter(function (c) { return c.status === 'FAIL'; });
  add(app, add(el('section'), add(el('h2'), badge('not-ready', 'not ready'), document.createTextNode(' This host cannot pass devices through yet')), add.apply(null, [el('ul')].concat(fails.slice(0, 6).map(function (c) { return add(el('li'), code(c.id), document.createTextNode(' ' + c.summary)); })))));
}
add(app, topologySection(), groupsSection(), guardsSection(), doctorSection());
document.addEventListener('click', function (e) {
  var t = e.target;
  if (t && t.dataset && t.dataset.groupBadge) { e.preventDefault(); e.stopPropagation(); highlightGroup(t.dataset.groupBadge); }
}, true);
window.addEventListener('beforeprint', function () {
  Array.prototype.forEach.call(document.querySelectorAll('details.vfs[open]'), function (d) { if (d.fill) d.fill(); });
});
document.documentElement.dataset.renderMs = String(Math.round(performance.now() - t0));
document.documentElement.dataset.rendered = 'true';
})();
`;
