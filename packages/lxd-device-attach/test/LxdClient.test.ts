import { afterEach, describe, expect, it } from 'vitest';
import { LxdClient } from '../src/LxdClient';
import { LxdError } from '../src/LxdError';
import { instancePut } from '../src/schemas';
import { asyncOp, error, instance, operation, startFakeLxd, sync, type Handler } from './fakeLxd';

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});
async function fake(handler: Handler) {
  const server = await startFakeLxd(handler);
  closers.push(server.close);
  return { server, client: new LxdClient({ kind: 'unix', socketPath: server.socketPath }, { operationTimeout: 5 }) };
}

describe('LxdClient envelopes', () => {
  it('parses a sync answer and keeps the ETag; sends ?project=', async () => {
    const { server, client } = await fake((r) => (r.url.startsWith('/1.0/instances/c1') ? sync(instance('c1'), { ETag: '"abc"' }) : undefined));
    const { instance: i, etag } = await client.getInstance('c1', 'lab');
    expect(i.name).toBe('c1');
    expect(etag).toBe('"abc"');
    expect(server.requests[0]!.url).toBe('/1.0/instances/c1?project=lab');
  });

  it('keeps HTTP status, LXD error code and LXD message of an error envelope', async () => {
    const { client } = await fake(() => error(404, 'Instance not found'));
    const e = (await client.getInstance('c9').catch((x: unknown) => x)) as LxdError;
    expect(e).toBeInstanceOf(LxdError);
    expect(e).toMatchObject({ reason: 'not-found', status: 404, errorCode: 404, detail: 'Instance not found' });
    expect(e.message).toMatch(/^Failed reading instance c9 via .*unix\.socket: Instance not found$/);
  });

  it('waits for an async operation and reports its failure with the operation error', async () => {
    let failing = false;
    const { server, client } = await fake((r) => {
      if (r.method === 'PUT') return asyncOp('op-1');
      if (r.url.startsWith('/1.0/operations/op-1/wait')) return operation('op-1', !failing, 'Failed to start device "g": Invalid PCI address');
      return undefined;
    });
    await client.updateInstance('c1', instancePut(instance('c1') as never), '"e1"');
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['PUT /1.0/instances/c1', 'GET /1.0/operations/op-1/wait?timeout=5']);
    expect(server.requests[0]!.headers['if-match']).toBe('"e1"');
    expect((server.requests[0]!.body as { restore?: unknown }).restore).toBeUndefined();
    failing = true;
    await expect(client.updateInstance('c1', instancePut(instance('c1') as never), '"e1"')).rejects.toMatchObject({
      reason: 'lxd',
      errorCode: 400,
      detail: 'Failed to start device "g": Invalid PCI address',
    });
  });

  it('turns a 412 into a conflict, and refuses to write without an ETag', async () => {
    const { server, client } = await fake(() => error(412, "ETag doesn't match: a vs b"));
    const e = (await client.updateInstance('c1', instancePut(instance('c1') as never), '"old"').catch((x: unknown) => x)) as LxdError;
    expect(e).toMatchObject({ reason: 'conflict', status: 412, errorCode: 412 });
    expect(e.message).toContain('nothing was overwritten');
    expect(e.message).toContain("ETag doesn't match");
    await expect(client.updateInstance('c1', instancePut(instance('c1') as never), undefined)).rejects.toMatchObject({ reason: 'conflict' });
    expect(server.requests).toHaveLength(1);
  });

  it('rejects answers that are not JSON or not an envelope, and a malformed instance', async () => {
    const { client } = await fake((r) =>
      r.url === '/1.0' ? { raw: '<html>', body: null } : r.url.startsWith('/1.0/projects') ? { body: { hello: 1 } } : sync({ name: 'x' }),
    );
    await expect(client.getServer()).rejects.toThrow(/not JSON/);
    await expect(client.getProject('p')).rejects.toThrow(/not an LXD envelope/);
    await expect(client.getInstance('x')).rejects.toThrow(/unexpected answer from LXD: type/);
  });

  it('reports an unreachable socket with the socket error', async () => {
    const client = new LxdClient({ kind: 'unix', socketPath: '/nonexistent/dir/unix.socket' });
    await expect(client.getServer()).rejects.toMatchObject({
      reason: 'unreachable',
      message: expect.stringMatching(/^Failed reading the server \(GET \/1\.0\) via \/nonexistent\/dir\/unix\.socket: ENOENT/),
    });
  });

  it('validates HTTPS options up front (URL, pinned certificate)', () => {
    expect(() => new LxdClient({ kind: 'https', url: 'not a url', cert: '', key: '' })).toThrow(/not a URL/);
    expect(() => new LxdClient({ kind: 'https', url: 'https://h:8443', cert: '', key: '', serverCert: 'garbage' })).toThrow(/pinned server certificate/);
  });
});
