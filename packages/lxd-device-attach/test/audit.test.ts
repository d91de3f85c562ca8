import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostFs } from '@passthru/hostfs';
import { describe, expect, it } from 'vitest';
import { auditInstance, auditProject } from '../src/auditInstance';
import { idmapMapsHostRoot, sensitivePath } from '../src/hostDevices';
import { AuditReportSchema, auditFailed, auditSocket, parseGroupFile, probeHostIommu } from '../src/auditLxd';
import { InstanceSchema } from '../src/schemas';
import { instance } from './fakeLxd';

/** Limits a container must have to be "clean" (limits-missing is tested on its own). */
const LIMITED = { 'limits.cpu': '2', 'limits.memory': '2GiB', 'limits.processes': '2000' };
const inst = (config: Record<string, string>, devices: Record<string, Record<string, string>> = {}, type = 'container') =>
  InstanceSchema.parse(
    instance('c1', {
      type,
      config: { ...LIMITED, ...config },
      devices,
      expanded_config: { ...LIMITED, ...config },
      expanded_devices: { root: { type: 'disk', path: '/', pool: 'default' }, ...devices },
    }),
  );
const ids = (f: { id: string; severity: string }[]) => f.map((x) => `${x.id}:${x.severity}`);

describe('auditInstance', () => {
  it('a clean unprivileged container has nothing above low', () => {
    expect(ids(auditInstance(inst({})))).toEqual(['idmap-shared:low']);
    expect(auditInstance(inst({ 'security.idmap.isolated': 'true' }))).toEqual([]);
  });

  it('privileged is high, critical with a device or nesting; nesting alone is medium', () => {
    expect(ids(auditInstance(inst({ 'security.privileged': 'true' })))).toEqual(['privileged:high']);
    expect(ids(auditInstance(inst({ 'security.privileged': 'true' }, { g: { type: 'gpu', pci: '0000:01:00.0' } })))).toEqual(['privileged:critical']);
    expect(ids(auditInstance(inst({ 'security.privileged': 'true', 'security.nesting': 'true' })))).toEqual(['nesting:critical', 'privileged:critical']);
    expect(ids(auditInstance(inst({ 'security.nesting': 'true', 'security.idmap.isolated': 'true' })))).toEqual(['nesting:medium']);
  });

  it('raw.lxc devices.allow / mount.entry / apparmor unconfined, raw.apparmor, raw.seccomp, raw.idmap', () => {
    const f = auditInstance(
      inst({
        'security.idmap.isolated': 'true',
        'raw.lxc':
          'lxc.cgroup2.devices.allow = c 1:1 rwm\nlxc.mount.entry = /etc etc none bind 0 0\nlxc.cgroup.devices.allow = a\nlxc.apparmor.profile = unconfined\nlxc.environment = X=1',
        'raw.apparmor': 'mount,',
        'raw.seccomp': '2\ndenylist',
        'raw.idmap': 'both 0 0',
      }),
    );
    expect(ids(f)).toEqual([
      'raw-idmap-host-root:critical',
      'raw-lxc-devices-allow:critical',
      'raw-lxc-mount-entry:critical',
      'raw-lxc-apparmor-unconfined:high',
      'raw-lxc-devices-allow:high',
      'raw-apparmor:medium',
      'raw-lxc:medium',
      'raw-seccomp:medium',
    ]);
    expect(idmapMapsHostRoot('uid 1000 1000\ngid 0-5 100-105')).toBe(true);
    expect(idmapMapsHostRoot('both 1000 0')).toBe(false);
  });

  it('dangerous unix nodes, host-path disks, a proxy to the LXD socket', () => {
    const f = auditInstance(
      inst(
        { 'security.idmap.isolated': 'true' },
        {
          mem: { type: 'unix-char', path: '/dev/mem' },
          kmsg: { type: 'unix-char', source: '/dev/kmsg' },
          disk: { type: 'unix-block', source: '/dev/nvme0n1p2' },
          vfio: { type: 'unix-char', path: '/dev/vfio/12' },
          null: { type: 'unix-char', path: '/dev/null' },
          all: { type: 'disk', source: '/', path: '/host' },
          lxd: { type: 'disk', source: '/var/lib/lxd', path: '/x' },
          etc: { type: 'disk', source: '/etc/ssl', path: '/ssl', readonly: 'true' },
          data: { type: 'disk', source: '/srv/data', path: '/data' },
          sock: { type: 'proxy', listen: 'unix:/run/lxd.sock', connect: 'unix:/var/snap/lxd/common/lxd/unix.socket', bind: 'container' },
        },
      ),
    );
    expect(ids(f)).toEqual([
      'disk-host-path:critical',
      'disk-host-path:critical',
      'proxy-lxd-socket:critical',
      'unix-device-dangerous:critical',
      'unix-device-dangerous:critical',
      'unix-device-dangerous:critical',
      'disk-host-path:high',
      'unix-device-dangerous:high',
      'disk-host-path:low',
      'unix-device:low',
    ]);
    expect(sensitivePath('/var')).toBeDefined();
    expect(sensitivePath('/srv/data')).toBeUndefined();
  });

  it('VM passthrough on a host without IOMMU or interrupt remapping', () => {
    const vm = inst({}, { g: { type: 'pci', address: '0000:01:00.0' } }, 'virtual-machine');
    expect(ids(auditInstance(vm, { iommu: false, interruptRemapping: false }))).toEqual([
      'passthrough-no-interrupt-remapping:high',
      'passthrough-no-iommu:high',
    ]);
    expect(auditInstance(vm, { iommu: true, interruptRemapping: true })).toEqual([]);
    expect(probeHostIommu(new HostFs(path.resolve(__dirname, '../../../fixtures/hosts/intel-workstation')))).toEqual({ iommu: true, interruptRemapping: true });
    expect(probeHostIommu(new HostFs(path.resolve(__dirname, '../../../fixtures/hosts/laptop-no-iommu')))).toMatchObject({ iommu: false });
  });
});

describe('auditProject and auditSocket', () => {
  it('an unrestricted project that non-admin users can use is high', () => {
    const certs = [{ name: 'alice', type: 'client', fingerprint: 'ab', restricted: true, projects: ['lab'] }];
    expect(ids(auditProject({ name: 'lab', description: '', config: {} }, certs))).toEqual(['project-unrestricted:high', 'project-limits-missing:medium']);
    expect(ids(auditProject({ name: 'lab', description: '', config: { restricted: 'true' } }, certs))).toEqual(['project-limits-missing:medium']);
    expect(ids(auditProject({ name: 'lab', description: '', config: { restricted: 'true', 'restricted.containers.privilege': 'allow' } }, certs))).toEqual([
      'project-restriction-relaxed:high',
      'project-limits-missing:medium',
    ]);
    expect(auditProject({ name: 'default', description: '', config: {} }, [])).toEqual([]);
  });

  it('reads the socket mode and group members through HostFs', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-sock-'));
    try {
      fs.mkdirSync(path.join(root, 'etc'));
      fs.mkdirSync(path.join(root, 'var/lib/lxd'), { recursive: true });
      const sock = path.join(root, 'var/lib/lxd/unix.socket');
      fs.writeFileSync(sock, '');
      const gid = fs.statSync(sock).gid;
      fs.writeFileSync(path.join(root, 'etc/group'), `lxd:x:${gid}:alice,bob\n`);
      fs.writeFileSync(path.join(root, 'etc/passwd'), `carol:x:1001:${gid}::/home/carol:/bin/sh\n`);
      fs.chmodSync(sock, 0o660);
      const host = new HostFs(root);
      const a = auditSocket(host, '/var/lib/lxd/unix.socket');
      expect(a.socket).toMatchObject({ mode: '0660', group: 'lxd', members: ['alice', 'bob', 'carol'] });
      expect(ids(a.findings)).toEqual(['socket-group-members:high']);
      fs.chmodSync(sock, 0o666);
      expect(ids(auditSocket(host, '/var/lib/lxd/unix.socket').findings)).toEqual(['socket-world-accessible:critical', 'socket-group-members:high']);
      expect(auditSocket(host, '/var/snap/lxd/common/lxd/unix.socket')).toEqual({ socket: null, findings: [] });
      expect(parseGroupFile('# c\nbad\nlxd:x:12:')).toEqual([{ name: 'lxd', gid: 12, members: [] }]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('the report schema, and exit-1 logic on high/critical', () => {
    const report = AuditReportSchema.parse({
      instances: [{ name: 'c1', project: 'default', type: 'container', findings: [{ id: 'nesting', severity: 'medium', summary: 's', fix: 'f' }] }],
      projects: [],
      host: { socket: null, findings: [] },
      server: { server: 'lxd', name: null, version: null, support: null, findings: [] },
    });
    expect(auditFailed(report)).toBe(false);
    report.host.findings.push({ id: 'x', severity: 'high', summary: 's', fix: 'f' });
    expect(auditFailed(report)).toBe(true);
  });
});
