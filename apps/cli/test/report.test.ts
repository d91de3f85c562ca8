// The report's data (every judgement the page shows is made here) and its HTML envelope.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { readHost } from '@passthru/vfio-binder';
import { afterEach, describe, expect, it } from 'vitest';
import { ReportSchema } from '../src/commands/outputs';
import { buildReport } from '../src/commands/report/buildReport';
import { embedJson, renderHtml } from '../src/commands/report/renderHtml';
import { REPORT_SCRIPT } from '../src/commands/report/script';
import { cleanFixtures, cli, fixtureCopy, repo } from './runCli';

afterEach(cleanFixtures);
const reportOf = (root: string) => {
  const host = new HostFs(root);
  return buildReport({ host, view: readHost(host, { examine: 'endpoints' }), version: 'test', now: () => new Date(0) });
};
const fixture = (name: string) => path.join(repo, 'fixtures/hosts', name);
const status = (r: ReturnType<typeof reportOf>, a: string) => r.devices.find((d) => d.address === a)!.readiness.status;

describe('buildReport', () => {
  it('judges readiness: bindable, guarded (boot VGA), bridge; and validates against its schema', () => {
    const r = reportOf(fixture('intel-workstation'));
    expect(ReportSchema.parse(r)).toEqual(r);
    expect(status(r, '0000:01:00.0')).toBe('bindable');
    expect(status(r, '0000:00:02.0')).toBe('guarded');
    expect(r.devices.find((d) => d.address === '0000:00:02.0')!.guards.map((g) => g.id)).toEqual(['boot-vga']);
    expect(status(r, '0000:00:01.0')).toBe('bridge');
    expect(r.groups.find((g) => g.id === 12)).toMatchObject({ viable: false, isolated: true, bound: 0, status: 'bindable' });
    expect(r.devices.find((d) => d.address === '0000:01:00.0')!.checks.map((c) => c.id)).toContain('group.viable.0000:01:00.0');
    expect(r.verdict).toBe(r.doctor.verdict);
    expect(r.doctor.checks.some((c) => c.id.endsWith('0000:01:00.0'))).toBe(false); // device checks live with their device
  });

  it('after a bind the group is viable and its functions ready', async () => {
    const root = fixtureCopy('intel-workstation');
    expect((await cli('--root', root, 'bind', '01:00.0')).code).toBe(0);
    const r = reportOf(root);
    expect(r.groups.find((g) => g.id === 12)).toMatchObject({ viable: true, bound: 4, status: 'ready' });
    for (const a of ['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.3']) expect(status(r, a)).toBe('ready');
  });

  it('a shared group names the other devices; a device without a group cannot pass', () => {
    const amd = reportOf(fixture('amd-shared-group'));
    const gpu = amd.devices.find((d) => d.address === '0000:06:00.0')!;
    expect(gpu.readiness.status).toBe('shared-group');
    expect(gpu.readiness.sharedWith).toEqual(expect.arrayContaining(['0000:07:00.0', '0000:08:00.0', '0000:09:00.0']));
    expect(gpu.readiness.sharedWith).not.toContain('0000:06:00.1');
    expect(amd.groups.find((g) => g.id === 14)).toMatchObject({ isolated: false });
    const none = reportOf(fixture('no-group-device'));
    expect(none.ungrouped.length).toBeGreaterThan(0);
    for (const a of none.ungrouped) expect(['no-group', 'bridge']).toContain(status(none, a));
  });

  // The verdict is the host's (no device was asked about): a group shared with devices the host
  // uses does not make the host not-ready; the group says so, once, in its own finding.
  it('a shared group leaves the host verdict to the host checks; its FAILs stay with its devices', () => {
    const r = reportOf(fixture('amd-shared-group'));
    expect(r.verdict).toBe('ready-with-warnings');
    const gpu = r.devices.find((d) => d.address === '0000:06:00.0')!;
    expect(gpu.checks.find((c) => c.id === 'group.viable.0000:06:00.0')?.status).toBe('FAIL');
    expect(r.doctor.checks.filter((c) => c.status === 'FAIL')).toEqual([]);
  });
});

describe('renderHtml', () => {
  it('is one file: inline style and script, a CSP without network, the data as JSON', () => {
    const html = renderHtml(reportOf(fixture('sriov-server')));
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).not.toMatch(/<script[^>]+src=|<link /);
    expect(html).toMatch(/@media print/);
    const data = /<script type="application\/json" id="passthru-data">(.*?)<\/script>/s.exec(html)![1]!;
    expect(JSON.parse(data).devices).toHaveLength(29);
  });

  it('a device name cannot end the data element early', () => {
    const text = embedJson({ name: 'evil </script><script>alert(1)</script> <!--' });
    expect(text).not.toMatch(/<\/script|<!--/i);
    expect(JSON.parse(text).name).toBe('evil </script><script>alert(1)</script> <!--');
  });

  it("the page's script is valid JavaScript", () => {
    expect(() => new Function(REPORT_SCRIPT)).not.toThrow();
  });

  it('report --html writes the file; --html - writes it to stdout; an unwritable path is exit 2', async () => {
    const dir = fixtureCopy('intel-workstation');
    const file = path.join(dir, 'out.html');
    expect((await cli('--root', fixture('intel-workstation'), 'report', '--html', file)).code).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^<!doctype html>/);
    const stdout = await cli('--root', fixture('intel-workstation'), 'report', '--html', '-');
    expect(stdout.stdout).toMatch(/^<!doctype html>[\s\S]*<\/html>\n$/);
    const bad = await cli('--root', fixture('intel-workstation'), 'report', '--html', path.join(dir, 'no/such/dir/x.html'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Failed writing the report via/);
  });
});
