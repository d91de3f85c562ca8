// The GPUs and how each can be shared: the gputypes LXD and Incus can attach it as now, what each
// offers (mdev types with free instances and the vGPUs made, free VFs, MIG compute instances with
// their UUIDs) and what stands in the way. VFs appear under their PF.
import type { ReportDevice } from '../schema';
import type { PageData } from './data';
import { add, badge, code, el, nameOf, text } from './dom';

type GpuModes = NonNullable<ReportDevice['gpuModes']>;

/** What one GPU offers, one line per mode beyond `physical`. */
function offers(d: ReportDevice, m: GpuModes): HTMLElement {
  const ul = el('ul', 'offers');
  // One line per mdev type of the card: its own and its VFs' (LXD looks on the VFs too), free instances summed.
  const types = new Map<string, { t: GpuModes['mdevTypes'][number]; free: number; on: string[]; mdevs: Set<string> }>();
  for (const [at, list] of [[d.address, m.mdevTypes] as const, ...(m.sriov?.vfs ?? []).map((vf) => [vf.address, vf.mdevTypes] as const)]) {
    for (const t of list) {
      const seen = types.get(t.type) ?? { t, free: 0, on: [], mdevs: new Set<string>() };
      seen.free += t.availableInstances ?? 0;
      if ((t.availableInstances ?? 0) > 0 && at !== d.address) seen.on.push(at);
      for (const u of t.mdevs) seen.mdevs.add(u);
      types.set(t.type, seen);
    }
  }
  for (const { t, free, on, mdevs } of types.values()) {
    const made = mdevs.size ? ` · made: ${[...mdevs].join(', ')}` : '';
    add(
      ul,
      add(
        el('li'),
        text('mdev '),
        code(t.type),
        text(` ${t.name ?? ''} · ${free} free${on.length ? ` on VFs ${on.join(', ')}` : ''}${made}`),
        t.description ? el('div', 'ev', t.description.replace(/\n/g, ' · ')) : null,
      ),
    );
  }
  if (m.sriov)
    add(ul, el('li', null, `sriov · ${m.sriov.numVfs} of ${m.sriov.totalVfs} VFs enabled, free (no driver): ${m.sriov.freeVfs.join(', ') || 'none'}`));
  for (const vf of m.sriov?.vfs ?? [])
    if (vf.vgpu)
      add(
        ul,
        el(
          'li',
          null,
          `NVIDIA vGPU on VF ${vf.address}: current type ${vf.vgpu.current ?? '?'}, creatable ${vf.vgpu.creatable.map((c) => `${c.id} ${c.name}`).join(', ') || 'none'}`,
        ),
      );
  if (m.mig) {
    add(
      ul,
      el(
        'li',
        null,
        `MIG ${m.mig.mode ?? 'mode unknown'}${m.mig.minor === null ? '' : ` · device minor ${m.mig.minor}`} · from ${m.mig.sources.join(', ') || 'nothing'}`,
      ),
    );
    for (const ci of m.mig.computeInstances)
      add(
        ul,
        add(el('li'), text(`mig gi ${ci.gi} ci ${ci.ci}${ci.profile ? ` ${ci.profile}` : ''}`), ci.uuid ? add(el('span'), text(' · '), code(ci.uuid)) : null),
      );
  }
  for (const n of m.notes) add(ul, el('li', 'ev', n));
  return ul;
}

export function gpusSection({ report }: PageData): HTMLElement | null {
  const gpus = report.devices.filter((d) => d.gpuModes && d.sriov?.role !== 'vf');
  if (!gpus.length) return null;
  const s = el('section');
  s.id = 'gpus';
  add(s, el('h2', null, `GPUs and how they can be shared (${gpus.length})`));
  add(
    s,
    el(
      'p',
      'hint',
      'gputype as LXD and Incus attach it: physical (the whole GPU), mdev (a vGPU, VMs), sriov (a free VF, VMs), mig (a MIG compute instance, containers). passthru attach INSTANCE ADDRESS --type gpu --gputype TYPE.',
    ),
  );
  const body = el('tbody');
  for (const d of gpus) {
    const m = d.gpuModes!;
    const tr = el('tr');
    tr.dataset.gpu = d.address;
    const modes = add(el('td'), ...m.modes.flatMap((x) => [badge(x === 'physical' ? 'bindable' : 'ready', x), text(' ')]));
    add(tr, add(el('td'), code(d.address), el('div', 'ev', nameOf(d))), modes, add(el('td'), offers(d, m)));
    body.appendChild(tr);
  }
  const head = add(el('thead'), add(el('tr'), el('th', null, 'GPU'), el('th', null, 'Modes'), el('th', null, 'What it offers')));
  return add(s, add(el('table'), head, body));
}
