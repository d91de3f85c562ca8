import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LxdClient } from '../src/LxdClient';

/** A self-signed cert + key (openssl, as LXD's own are self-signed). */
function selfSigned(dir: string, name: string): { cert: string; key: string } {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.crt`);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`],
    { stdio: 'ignore' },
  );
  return { cert: fs.readFileSync(cert, 'utf8'), key: fs.readFileSync(key, 'utf8') };
}

let dir: string;
let server: https.Server;
let url: string;
let serverCert: { cert: string; key: string };
let clientCert: { cert: string; key: string };
let other: { cert: string; key: string };
const seen: (string | undefined)[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-tls-'));
  serverCert = selfSigned(dir, 'server');
  clientCert = selfSigned(dir, 'client');
  other = selfSigned(dir, 'other');
  server = https.createServer({ cert: serverCert.cert, key: serverCert.key, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
    seen.push(peer?.fingerprint256);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({
        type: 'sync',
        status: 'Success',
        status_code: 200,
        metadata: { api_version: '1.0', auth: peer?.fingerprint256 ? 'trusted' : 'untrusted' },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('LxdClient over HTTPS with a TLS client certificate', () => {
  it('presents the client certificate and accepts the pinned server certificate', async () => {
    const client = new LxdClient({ kind: 'https', url, cert: clientCert.cert, key: clientCert.key, serverCert: serverCert.cert });
    expect(await client.getServer()).toMatchObject({ auth: 'trusted' });
    expect(seen.at(-1)).toBeDefined();
  });

  it('refuses a server whose certificate is not the pinned one, before sending anything', async () => {
    const before = seen.length;
    const client = new LxdClient({ kind: 'https', url, cert: clientCert.cert, key: clientCert.key, serverCert: other.cert });
    await expect(client.getServer()).rejects.toMatchObject({ reason: 'unreachable', message: expect.stringContaining('CERT_PIN_MISMATCH') });
    expect(seen.length).toBe(before);
  });

  it('without a pin, verifies the server with the system CAs (a self-signed server fails)', async () => {
    const client = new LxdClient({ kind: 'https', url, cert: clientCert.cert, key: clientCert.key });
    await expect(client.getServer()).rejects.toMatchObject({ reason: 'unreachable', message: expect.stringMatching(/self.signed/i) });
  });
});
