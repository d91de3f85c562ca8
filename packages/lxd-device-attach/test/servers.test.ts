import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_RULES } from '../src/auditRules';
import { LxdError } from '../src/LxdError';
import {
  findServerSocket,
  INCUS,
  INCUS_RENAMES,
  inVocabularyOf,
  LXD,
  parseServerName,
  serverKindOf,
  socketCandidates,
  staleResourcesNote,
} from '../src/servers';

const LXD_DEBIAN = '/var/lib/lxd/unix.socket';
const LXD_SNAP = '/var/snap/lxd/common/lxd/unix.socket';
const INCUS_DEFAULT = '/var/lib/incus/unix.socket';
const only =
  (...paths: string[]) =>
  (p: string) =>
    paths.includes(p);
const failure = (f: () => unknown): LxdError => {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(LxdError);
    return error as LxdError;
  }
  throw new Error('did not throw');
};

describe('finding the server', () => {
  it("tries each server's sockets as its own client does: the variable alone when set, else the packaged ones", () => {
    expect(socketCandidates(LXD, { LXD_DIR: '/x/lxd/' })).toEqual({ sockets: ['/x/lxd/unix.socket'], fromVariable: 'LXD_DIR' });
    expect(socketCandidates(LXD, {}).sockets).toEqual([LXD_SNAP, LXD_DEBIAN]);
    expect(socketCandidates(INCUS, { INCUS_SOCKET: '/s', INCUS_DIR: '/d' }).sockets).toEqual(['/s']);
    expect(socketCandidates(INCUS, { INCUS_DIR: '/d' }).sockets).toEqual(['/d/unix.socket']);
    expect(socketCandidates(INCUS, {}).sockets).toEqual([INCUS_DEFAULT, '/run/incus/unix.socket']);
  });

  it('finds the one server present, LXD or Incus, and names it', () => {
    expect(findServerSocket({}, only(LXD_DEBIAN))).toEqual({ kind: LXD, socketPath: LXD_DEBIAN });
    expect(findServerSocket({}, only(LXD_SNAP, LXD_DEBIAN)).socketPath).toBe(LXD_SNAP);
    expect(findServerSocket({}, only(INCUS_DEFAULT))).toEqual({ kind: INCUS, socketPath: INCUS_DEFAULT });
  });

  it('with both present: the one asked for, or the one a variable points at; else a usage error naming both', () => {
    const both = only(LXD_DEBIAN, INCUS_DEFAULT, '/p/incus/unix.socket', '/p/lxd/unix.socket');
    expect(findServerSocket({}, both, 'incus').kind).toBe(INCUS);
    expect(findServerSocket({}, both, 'lxd').kind).toBe(LXD);
    expect(findServerSocket({ INCUS_DIR: '/p/incus' }, both).socketPath).toBe('/p/incus/unix.socket');
    expect(findServerSocket({ LXD_DIR: '/p/lxd' }, both).socketPath).toBe('/p/lxd/unix.socket');
    const e = failure(() => findServerSocket({}, both));
    expect([e.kind, e.reason]).toEqual(['bad-input', 'bad-input']);
    expect(e.message).toContain(`${LXD_DEBIAN}, ${INCUS_DEFAULT}`);
    expect(e.message).toContain('--server lxd|incus');
    // Both variables set: neither wins by itself either.
    expect(failure(() => findServerSocket({ LXD_DIR: '/p/lxd', INCUS_DIR: '/p/incus' }, both)).reason).toBe('bad-input');
  });

  it('with none: a not-found error (exit 2) naming every path tried; asking for a server absent here names only its paths', () => {
    const none = failure(() => findServerSocket({}, () => false));
    expect(none.kind).toBe('bad-input');
    expect(none.message).toBe(
      `Failed finding an LXD or Incus unix socket via ${LXD_SNAP}, ${LXD_DEBIAN}, ${INCUS_DEFAULT}, /run/incus/unix.socket: no socket exists; is the daemon installed and running?`,
    );
    const asked = failure(() => findServerSocket({}, only(LXD_DEBIAN), 'incus'));
    expect(asked.message).toMatch(/^Failed finding the Incus unix socket via \/var\/lib\/incus\/unix\.socket, \/run\/incus\/unix\.socket: no socket exists/);
    expect(failure(() => findServerSocket({ LXD_DIR: '/nope' }, () => false, 'lxd')).message).toContain('(LXD_DIR is set)');
  });

  it('knows the server from its GET /1.0; --server takes lxd or incus only', () => {
    expect(serverKindOf({ environment: { server: 'incus', server_version: '6.0.4' } } as never)).toBe(INCUS);
    expect(serverKindOf({ environment: { server: 'lxd' } } as never)).toBe(LXD);
    expect(serverKindOf({} as never)).toBe(LXD);
    expect(parseServerName('incus', '--server')).toBe('incus');
    expect(failure(() => parseServerName('docker', '--server')).message).toContain('"docker" is not a server: use lxd or incus');
  });
});

describe("Incus's vocabulary", () => {
  it("rewords LXD's client, keys, paths and name; LXC's own raw.lxc and lxc.* keys stay", () => {
    const say = (t: string) => inVocabularyOf(INCUS, t);
    expect(say('lxc config device remove c1 gpu0; lxc project set p restricted=true')).toBe(
      'incus config device remove c1 gpu0; incus project set p restricted=true',
    );
    expect(say('(lxc config trust add)')).toBe('(incus config trust add)');
    expect(say('lxc config unset c1 security.devlxd.images')).toBe('incus config unset c1 security.guestapi.images');
    expect(say("raw.lxc lxc.mount.entry mounts /dev/lxd behind LXD's back")).toBe("raw.lxc lxc.mount.entry mounts /dev/incus behind Incus's back");
    expect(say('raw.lxc lxc.cgroup2.devices.allow = a')).toBe('raw.lxc lxc.cgroup2.devices.allow = a');
    expect(inVocabularyOf(LXD, 'lxc config set c1 x=1')).toBe('lxc config set c1 x=1');
  });

  it('leaves no LXD word in any audit rule once reworded', () => {
    for (const rule of AUDIT_RULES) {
      const text = inVocabularyOf(INCUS, `${rule.title} ${rule.help}`);
      expect(text, rule.id).not.toMatch(/\bLXD\b|\blxc (config|profile|project|cluster|launch)\b|security\.devlxd|\/dev\/lxd\b/);
    }
  });
});

describe('what differs', () => {
  it("docs/lxd.md's table is INCUS_RENAMES, row for row", () => {
    const doc = fs.readFileSync(path.resolve(__dirname, '../../../docs/lxd.md'), 'utf8');
    const table = INCUS_RENAMES.map((r) => `| ${r.lxd} | ${r.incus} |`).join('\n');
    expect(doc).toContain(`| LXD | Incus |\n|---|---|\n${table}\n`);
  });

  it('names the Incus releases whose /1.0/resources can be stale (6.0.0-6.0.5, 6.1-6.17), never LXD', () => {
    const server = (name: string, version: string) => ({ environment: { server: name, server_version: version } }) as never;
    for (const v of ['6.0.0', '6.0.4', '6.0.5', '6.1', '6.17.1'])
      expect(staleResourcesNote(server('incus', v)), v).toContain(`Incus ${v} may serve /1.0/resources`);
    for (const v of ['6.0.6', '6.18', '6.21.0', '7.0']) expect(staleResourcesNote(server('incus', v)), v).toBeNull();
    expect(staleResourcesNote(server('lxd', '6.0.4'))).toBeNull();
  });
});
