// The HTML report in a real browser: Debian's chromium driven by playwright-core (never a
// downloaded browser), pages only from file://, every other request refused and recorded.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateLargeHost, materialize } from '@passthru/sysfs-sim';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, repo } from './runCli';

const CHROMIUM = '/usr/bin/chromium';
const shots = path.join(repo, 'tmp');
const pciIds = path.join(repo, 'fixtures/pci.ids');
let context: BrowserContext;
let work: string;
const offsite: string[] = [];

function requireChromium(): void {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: install Debian's package with \`apt-get install -y chromium\` (or run bash tools/provision/system.sh chromium). The browser test never downloads a browser.`,
    );
  }
}

beforeAll(async () => {
  requireChromium();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'report-browser-'));
  fs.mkdirSync(shots, { recursive: true });
  context = await chromium.launchPersistentContext(path.join(work, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
    viewport: { width: 1366, height: 768 },
    offline: true,
  });
  // Only the report file itself may load: anything else is refused and fails the test below.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file://')) return route.continue();
    offsite.push(url);
    return route.abort();
  });
}, 60_000);

// Closing Chromium and removing the generated large host (~87,000 entries) take tens of
// seconds on a busy 2-core machine.
afterAll(async () => {
  await context?.close();
  if (work) fs.rmSync(work, { recursive: true, force: true });
}, 120_000);

async function openReport(host: string, root = path.join(repo, 'fixtures/hosts', host)): Promise<{ page: Page; file: string; ms: number }> {
  const file = path.join(work, `${host}.html`);
  const r = await cli('--root', root, '--pci-ids', pciIds, 'report', '--html', file);
  expect(r.code, r.stderr).toBe(0);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  const started = Date.now();
  await page.goto(`file://${file}`);
  await page.waitForSelector('html[data-rendered="true"]', { timeout: 30_000 });
  const ms = Date.now() - started;
  expect(errors).toEqual([]);
  return { page, file, ms };
}

const json = async (...argv: string[]) => JSON.parse((await cli(...argv, '--format', 'json')).stdout);

// A host whose GPU shares its group with the host's NIC, USB and SATA: the page must not open with
// "not ready" (the host checks pass; the NVMe is bindable on its own), and the shared group is
// one finding, not one per member.
describe('report --html of amd-shared-group in Chromium', () => {
  it('opens with the host verdict, and the shared group once', async () => {
    const root = path.join(repo, 'fixtures/hosts', 'amd-shared-group');
    const doctor = await json('--root', root, 'doctor');
    const { page } = await openReport('amd-shared-group');
    expect(await page.locator('#verdict b').innerText()).toBe(doctor.verdict);
    expect(await page.locator('#app').innerText()).not.toContain('This host cannot pass devices through yet');
    const findings = page.locator('section', { hasText: 'IOMMU groups that cannot pass as they are' }).locator('li');
    expect(await findings.count()).toBe(1);
    const text = await findings.first().innerText();
    expect(text).toMatch(/^group 14 5 endpoint\(s\): 0000:06:00\.0 0000:06:00\.1 0000:07:00\.0 0000:08:00\.0 0000:09:00\.0 Group 14 is shared/);
  });
});

describe.each(['intel-workstation', 'sriov-server'])('report --html of %s in Chromium', (host) => {
  it('shows every device and group, expands a VF list, and takes no network', async () => {
    const root = path.join(repo, 'fixtures/hosts', host);
    const { devices } = await json('--root', root, '--pci-ids', pciIds, 'list');
    const { groups } = await json('--root', root, 'groups');
    const { page } = await openReport(host);
    await page.screenshot({ path: path.join(shots, `report-${host}.png`), fullPage: true });
    await page.screenshot({ path: path.join(shots, `report-${host}-laptop.png`) });

    // Every group: a row of the groups table listing its members, and a badge in the tree.
    for (const g of groups as Array<{ id: number; devices: string[] }>) {
      const row = page.locator(`#groups tr[data-group="${g.id}"]`);
      await expect.poll(() => row.count()).toBe(1);
      const text = await row.innerText();
      for (const member of g.devices) expect(text).toContain(member);
    }

    // VFs start folded: their rows are not on the page until their list is opened.
    const vfs = (devices as Array<{ address: string; sriov: { role: string } | null }>).filter((d) => d.sriov?.role === 'vf');
    const pfs = (devices as Array<{ address: string; sriov: { role: string; vfs: string[] } | null }>).filter((d) => d.sriov?.role === 'pf');
    if (host === 'sriov-server') {
      expect(vfs.length).toBe(12);
      const pf = pfs.find((p) => p.address === '0000:af:00.0')!;
      const list = page.locator('details.vfs[data-pf="0000:af:00.0"]');
      expect(await list.getAttribute('open')).toBeNull();
      expect(await page.locator('li.fn[data-address="0000:af:02.3"]').count()).toBe(0);
      const summary = list.locator('> summary');
      expect(await summary.innerText()).toMatch(/^8 virtual functions \(0000:af:02\.0 … 0000:af:02\.7\) · groups 200–207 · iavf ×8/);
      await summary.click();
      expect(await list.getAttribute('open')).not.toBeNull();
      for (const [i, vf] of pf.sriov!.vfs.entries()) {
        const row = page.locator(`li.fn[data-address="${vf}"] > details.dev > summary .row`);
        await expect.poll(() => row.isVisible()).toBe(true);
        const text = await row.innerText();
        expect(text).toContain(vf);
        expect(text).toContain(`VF ${i}: Intel Corporation Ethernet Virtual Function 700 Series`);
        expect(text).toContain(`group ${200 + i}`);
        expect(text).toContain('iavf');
      }
      // The other PF's list is still folded; the toolbar opens all.
      expect(await page.locator('li.fn[data-address="0000:18:01.0"]').count()).toBe(0);
      await list.scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(shots, `report-${host}-vfs-open.png`) });
      await page.click('#expand-vfs');
    }

    // Every device: its row, by address text, with its driver and group badge.
    for (const d of devices as Array<{ address: string; driver: string | null; iommuGroup: number | null }>) {
      const row = page.locator(`li.fn[data-address="${d.address}"] > details.dev > summary .row`);
      await expect.poll(() => row.count(), { message: d.address }).toBe(1);
      expect(await row.isVisible()).toBe(true);
      expect(await row.locator('.addr').innerText()).toBe(d.address);
      expect(await row.locator('.drv').innerText()).toBe(d.driver ?? 'no driver');
      expect(await row.locator('.gbadge').innerText()).toBe(d.iommuGroup === null ? 'no group' : `group ${d.iommuGroup}`);
    }
    expect(await page.locator('li.fn').count()).toBe(devices.length);

    // The doctor ran against the fixture, and its checks are listed; the page's verdict is doctor's.
    const embedded = JSON.parse(await page.evaluate(() => document.getElementById('passthru-data')!.textContent!));
    const doctor = await json('--root', root, 'doctor');
    expect(embedded.verdict).toBe(doctor.verdict);
    expect(await page.locator('#doctor .badge').first().innerText()).toBe(doctor.verdict);
    expect(await page.locator('#verdict b').innerText()).toBe(doctor.verdict);
    for (const c of doctor.checks as Array<{ id: string; status: string; summary: string }>) {
      const row = page.locator(`#doctor tr[data-check="${c.id}"]`);
      expect(await row.count(), c.id).toBe(1);
      expect(await row.innerText()).toContain(c.summary);
    }
    expect(offsite).toEqual([]);
    await page.close();
  });
});

describe('report content on intel-workstation', () => {
  it('draws group 12 as one region, explains the GPU, lists guards, filters, and prints', async () => {
    const { page } = await openReport('intel-workstation');
    // The GPU's four functions share group 12: one tinted region with one label.
    const region = page.locator('.region[data-region="12"]');
    expect(await region.count()).toBe(1);
    expect(await region.locator('> .rlabel').innerText()).toBe('IOMMU group 12 · 4 members');
    expect(await region.locator('li.fn').count()).toBe(4);
    // Tree nesting: the GPU lies behind the root port 00:01.0, which lies on pci0000:00.
    expect(await page.locator('li.bus[data-bus="pci0000:00"] li.fn[data-address="0000:00:01.0"] li.fn[data-address="0000:01:00.0"]').count()).toBe(1);

    // Clicking the GPU's row opens its details: names, group members, readiness, doctor checks.
    await page.click('li.fn[data-address="0000:01:00.0"] > details.dev > summary');
    const info = page.locator('li.fn[data-address="0000:01:00.0"] > details.dev > .info');
    await expect.poll(() => info.isVisible()).toBe(true);
    const text = await info.innerText();
    expect(text).toContain('NVIDIA Corporation AD102 [GeForce RTX 4090]');
    expect(text).toMatch(/IOMMU group 12\s+0000:01:00.0 0000:01:00.1 0000:01:00.2 0000:01:00.3/);
    expect(text).toMatch(/Bindable/);
    expect(text).toMatch(/group\.viable\.0000:01:00\.0/);
    await page.screenshot({ path: path.join(shots, 'report-intel-workstation-gpu-open.png') });

    // The guard the fixture sets off appears in the guards table and on its device.
    const report = await json('--root', path.join(repo, 'fixtures/hosts/intel-workstation'), 'report');
    expect(report.guards.length).toBeGreaterThan(0);
    for (const g of report.guards as Array<{ id: string; address: string; summary: string }>) {
      const row = page.locator(`#guards tr[data-guard="${g.id}"]`, { hasText: g.address });
      expect(await row.count()).toBe(1);
      expect(await row.innerText()).toContain(g.summary);
      expect(await page.locator(`li.fn[data-address="${g.address}"] .badge.st-guarded`).count()).toBe(1);
    }

    // A group badge highlights every member of its group.
    await page.click('li.fn[data-address="0000:01:00.1"] .gbadge');
    expect(await page.locator('li.fn.hl').count()).toBe(4);

    // The filter keeps matches bright and dims the rest.
    await page.fill('#filter', 'xhci');
    await expect.poll(() => page.locator('#match-count').innerText()).toBe('2 matches');
    expect(await page.locator('li.fn.hit').count()).toBe(2);
    expect(await page.locator('li.fn.dim').count()).toBe(10 - 2 - 1); // the bridge above 01:00.2 stays bright
    await page.fill('#filter', 'group 12');
    await expect.poll(() => page.locator('#match-count').innerText()).toBe('4 matches');
    await page.fill('#filter', '');

    // Print: no toolbar, colours kept.
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('nav.toolbar').isVisible()).toBe(false);
    expect(await page.locator('#topology').isVisible()).toBe(true);
    await page.screenshot({ path: path.join(shots, 'report-intel-workstation-print.png'), fullPage: true });
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    await page.close();
  });

  it('embeds the data as JSON that matches `report --format json`, with no external reference', async () => {
    const root = path.join(repo, 'fixtures/hosts/intel-workstation');
    const { file, page } = await openReport('intel-workstation');
    const html = fs.readFileSync(file, 'utf8');
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/<link\b|@import|url\(\s*['"]?http/i);
    const embedded = await page.evaluate(() => JSON.parse(document.getElementById('passthru-data')!.textContent!));
    const fresh = await json('--root', root, '--pci-ids', pciIds, 'report');
    const strip = (r: { generatedAt?: string }) => ({ ...r, generatedAt: '' });
    expect(strip(embedded)).toEqual(strip(fresh));
    await page.close();
  });
});

describe('report of a 2,000-function host', () => {
  it('stays small and fast enough, and folds the VF lists', async () => {
    const root = path.join(work, 'large-host');
    let started = Date.now();
    materialize(generateLargeHost({ nics: 30, vfsPerNic: 64, gpus: 8 }), root);
    const materializeMs = Date.now() - started;
    started = Date.now();
    const { page, file, ms } = await openReport('large-host', root);
    const total = Date.now() - started;
    const size = fs.statSync(file).size;
    const renderMs = Number(await page.evaluate(() => document.documentElement.dataset.renderMs));
    const functions = JSON.parse(await page.evaluate(() => document.getElementById('passthru-data')!.textContent!)).devices.length;
    fs.writeFileSync(
      path.join(shots, 'report-large-host.timing.json'),
      `${JSON.stringify({ functions, bytes: size, materializeMs, cliAndLoadMs: total, loadToRenderedMs: ms, scriptRenderMs: renderMs }, null, 2)}\n`,
    );
    expect(functions).toBeGreaterThanOrEqual(2000);
    expect(size).toBeLessThan(4 * 1024 * 1024);
    // 30 PFs with 64 VFs each: 30 folded lists, nothing of them drawn yet.
    expect(await page.locator('details.vfs').count()).toBe(30);
    expect(await page.locator('details.vfs li.fn').count()).toBe(0);
    const first = page.locator('details.vfs').first();
    await first.locator('> summary').click();
    expect(await first.locator('li.fn').count()).toBe(64);
    expect(await first.locator('li.fn').nth(63).isVisible()).toBe(true);
    await page.screenshot({ path: path.join(shots, 'report-large-host.png') });
    await page.close();
  }, 120_000);
});
