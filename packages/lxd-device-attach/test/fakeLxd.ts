import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';

export interface FakeRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export type Handler = (req: FakeRequest) => { status?: number; headers?: Record<string, string>; body: unknown; raw?: string } | undefined;

/** GET /1.0 of the fake: LXD 5.0.2, standalone. */
export const FAKE_SERVER = { api_version: '1.0', environment: { server: 'lxd', server_version: '5.0.2', server_name: 'fake', server_clustered: false } };

/** A fake LXD: node:http on a unix socket in a tmp dir; `handler` answers, `requests` records. */
export async function startFakeLxd(handler: Handler): Promise<{ socketPath: string; requests: FakeRequest[]; close(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-fake-lxd-'));
  const socketPath = path.join(dir, 'unix.socket');
  const requests: FakeRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const r: FakeRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: text ? JSON.parse(text) : undefined };
      requests.push(r);
      // Like a real daemon, it always answers GET /1.0 (as LXD 5.0 unless the handler says otherwise).
      const answer =
        handler(r) ??
        (r.method === 'GET' && r.url === '/1.0' ? sync(FAKE_SERVER) : { status: 404, body: { type: 'error', error: 'not found', error_code: 404 } });
      res.writeHead(answer.status ?? 200, { 'Content-Type': 'application/json', ...(answer.headers ?? {}) });
      res.end(answer.raw ?? JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          fs.rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}

export const sync = (metadata: unknown, headers: Record<string, string> = {}) => ({
  status: 200,
  headers,
  body: { type: 'sync', status: 'Success', status_code: 200, operation: '', error_code: 0, error: '', metadata },
});
export const error = (status: number, message: string) => ({
  status,
  body: { type: 'error', status: '', status_code: 0, operation: '', error_code: status, error: message, metadata: null },
});
export const asyncOp = (id: string) => ({
  status: 202,
  body: {
    type: 'async',
    status: 'Operation created',
    status_code: 100,
    operation: `/1.0/operations/${id}`,
    error_code: 0,
    error: '',
    metadata: { id, status: 'Running', status_code: 103 },
  },
});
export const operation = (id: string, ok: boolean, err = '') =>
  sync({ id, class: 'task', status: ok ? 'Success' : 'Failure', status_code: ok ? 200 : 400, err });

export function instance(name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    type: 'container',
    status: 'Stopped',
    status_code: 102,
    project: 'default',
    architecture: 'x86_64',
    config: { 'volatile.uuid': 'u' },
    devices: {},
    profiles: ['default'],
    ephemeral: false,
    stateful: false,
    description: '',
    expanded_config: { 'volatile.uuid': 'u' },
    expanded_devices: { root: { type: 'disk', path: '/', pool: 'default' } },
    ...extra,
  };
}
