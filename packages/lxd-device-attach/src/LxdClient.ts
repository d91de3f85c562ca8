import * as fs from 'node:fs';
import * as http from 'node:http';
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type * as z from 'zod';
import { LxdError } from './LxdError';
import { findServerSocket, serverKindOf, type ServerKind, type ServerName } from './servers';
import {
  CertificateSchema,
  EnvelopeSchema,
  InstanceSchema,
  NetworkSchema,
  OperationSchema,
  ProjectSchema,
  ServerSchema,
  type Certificate,
  type Envelope,
  type Instance,
  type InstancePut,
  type Network,
  type Operation,
  type Project,
  type Server,
} from './schemas';

export type LxdEndpoint =
  | { kind: 'unix'; socketPath: string }
  | {
      kind: 'https';
      /** https://host:8443 */
      url: string;
      /** TLS client certificate and key (PEM), trusted by the server (`lxc config trust add`). */
      cert: string | Buffer;
      key: string | Buffer;
      /**
       * The server's certificate (PEM). When given it is pinned: the connection is refused unless
       * the server presents exactly this certificate (LXD's self-signed server cert needs this).
       * When absent the system CAs verify the server.
       */
      serverCert?: string | Buffer;
    };

export interface LxdClientOptions {
  /** Seconds an operation may take before `/wait` gives up. */
  operationTimeout?: number;
  /** Milliseconds for one HTTP request. */
  requestTimeout?: number;
}

export interface RawResponse {
  status: number;
  etag: string | undefined;
  envelope: Envelope;
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Adds `?project=` (omitted when undefined). */
  project?: string;
  query?: Record<string, string>;
}

/** What a request is for, to word errors: "Failed <doing> <what> via <socket/url>: ...". */
export interface Purpose {
  doing: string;
  what: string;
}

/**
 * A typed LXD REST client over the unix socket or HTTPS with a TLS client certificate.
 * Every answer is parsed with zod; async answers are waited for (`/1.0/operations/<id>/wait`);
 * every LXD error keeps the HTTP status, LXD's error code and LXD's message.
 */
export class LxdClient {
  readonly endpoint: LxdEndpoint;
  /** The socket path or URL, as errors name it. */
  readonly via: string;
  private readonly operationTimeout: number;
  private readonly requestTimeout: number;
  private readonly pinned: string | undefined;
  private asked: Promise<ServerKind> | undefined;
  private known: ServerKind | undefined;

  constructor(endpoint: LxdEndpoint, options: LxdClientOptions = {}) {
    this.endpoint = endpoint;
    this.via = endpoint.kind === 'unix' ? endpoint.socketPath : endpoint.url;
    this.operationTimeout = options.operationTimeout ?? 60;
    this.requestTimeout = options.requestTimeout ?? 30_000;
    if (endpoint.kind === 'https') {
      try {
        new URL(endpoint.url);
      } catch (error) {
        throw new LxdError('parsing', 'the LXD URL', endpoint.url, 'not a URL', { reason: 'bad-input', cause: error });
      }
      if (endpoint.serverCert) {
        try {
          this.pinned = new X509Certificate(endpoint.serverCert).fingerprint256;
        } catch (error) {
          throw new LxdError('reading', 'the pinned server certificate', endpoint.url, (error as Error).message, { reason: 'bad-input', cause: error });
        }
      }
    }
  }

  /**
   * A client for the local daemon: LXD's or Incus's socket as `findServerSocket` picks it
   * (`server`: the one asked for). The server's own GET /1.0 says which it is: `serverKind()`.
   */
  static local(
    env: NodeJS.ProcessEnv = process.env,
    options: LxdClientOptions = {},
    exists: (p: string) => boolean = fs.existsSync,
    server?: ServerName,
  ): LxdClient {
    const found = findServerSocket(env, exists, server);
    const client = new LxdClient({ kind: 'unix', socketPath: found.socketPath }, options);
    client.known = found.kind;
    return client;
  }

  /** Which server answers (LXD or Incus), from its GET /1.0; read once per client. */
  serverKind(): Promise<ServerKind> {
    this.asked ??= this.getServer().then((server) => {
      this.known = serverKindOf(server);
      return this.known;
    });
    return this.asked;
  }

  /**
   * The server as far as known without a request: from its GET /1.0 once read, else from the
   * socket it was found at (a local client); undefined for a remote one not yet asked.
   */
  get knownKind(): ServerKind | undefined {
    return this.known;
  }

  /** One HTTP exchange; the envelope parsed, no interpretation of errors. */
  async raw(method: string, path: string, options: RequestOptions = {}, purpose: Purpose = { doing: `${method}`, what: path }): Promise<RawResponse> {
    const query = new URLSearchParams(options.query ?? {});
    if (options.project !== undefined) query.set('project', options.project);
    const fullPath = `${path}${query.size > 0 ? `${path.includes('?') ? '&' : '?'}${query.toString()}` : ''}`;
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: Record<string, string> = { Accept: 'application/json', ...(options.headers ?? {}) };
    if (body) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(body.length);
    }
    const { status, etag, text } = await this.exchange(method, fullPath, headers, body, purpose);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new LxdError(purpose.doing, purpose.what, this.via, `HTTP ${status} with a body that is not JSON: ${text.slice(0, 200)}`, {
        status,
        reason: 'lxd',
        cause: error,
      });
    }
    const parsed = EnvelopeSchema.safeParse(json);
    if (!parsed.success) {
      throw new LxdError(
        purpose.doing,
        purpose.what,
        this.via,
        `HTTP ${status} with an answer that is not an LXD envelope: ${parsed.error.issues[0]?.message ?? ''}`,
        { status, reason: 'lxd', cause: parsed.error },
      );
    }
    return { status, etag, envelope: parsed.data };
  }

  /**
   * A request whose result is the sync metadata (async answers are waited for and give the
   * operation). An error envelope throws an LxdError with LXD's message, status and code.
   */
  async request(
    method: string,
    path: string,
    options: RequestOptions,
    purpose: Purpose,
  ): Promise<{ metadata: unknown; etag: string | undefined; status: number }> {
    const response = await this.raw(method, path, options, purpose);
    const envelope = response.envelope;
    if (envelope.type === 'error') {
      throw new LxdError(purpose.doing, purpose.what, this.via, envelope.error || `HTTP ${response.status}`, {
        status: response.status,
        errorCode: envelope.error_code,
      });
    }
    if (envelope.type === 'async') {
      const operation = await this.waitOperation(envelope.operation, purpose, options.project);
      return { metadata: operation, etag: response.etag, status: response.status };
    }
    return { metadata: envelope.metadata, etag: response.etag, status: response.status };
  }

  /** Waits for an operation to end; a Failure (or Cancelled) throws with the operation's `err`. */
  async waitOperation(operation: string, purpose: Purpose, project?: string): Promise<Operation> {
    const id = operation.replace(/^\/1\.0\/operations\//, '');
    if (!/^[A-Za-z0-9-]+$/.test(id))
      throw new LxdError(purpose.doing, purpose.what, this.via, `LXD named a malformed operation '${operation}'`, { reason: 'lxd' });
    const response = await this.raw('GET', `/1.0/operations/${id}/wait`, { project, query: { timeout: String(this.operationTimeout) } }, purpose);
    const envelope = response.envelope;
    if (envelope.type === 'error') {
      throw new LxdError(purpose.doing, purpose.what, this.via, `waiting for operation ${id}: ${envelope.error}`, {
        status: response.status,
        errorCode: envelope.error_code,
      });
    }
    const op = this.parse(OperationSchema, envelope.metadata, purpose, `operation ${id}`);
    if (op.status_code === 103 || op.status_code === 105 || op.status_code === 106) {
      throw new LxdError(purpose.doing, purpose.what, this.via, `operation ${id} still ${op.status} after ${this.operationTimeout} s`, {
        reason: 'lxd',
        errorCode: op.status_code,
      });
    }
    if (op.status_code !== 200) {
      throw new LxdError(purpose.doing, purpose.what, this.via, op.err || op.status, { reason: 'lxd', status: response.status, errorCode: op.status_code });
    }
    return op;
  }

  async getServer(): Promise<Server> {
    const purpose = { doing: 'reading', what: 'the server (GET /1.0)' };
    const { metadata } = await this.request('GET', '/1.0', {}, purpose);
    return this.parse(ServerSchema, metadata, purpose);
  }

  /** An instance (local and expanded config and devices) and its ETag for If-Match. */
  async getInstance(name: string, project?: string): Promise<{ instance: Instance; etag: string | undefined }> {
    const purpose = { doing: 'reading', what: `instance ${name}${project ? ` in project ${project}` : ''}` };
    const { metadata, etag } = await this.request('GET', `/1.0/instances/${encodeURIComponent(name)}`, { project }, purpose);
    return { instance: this.parse(InstanceSchema, metadata, purpose), etag };
  }

  /** Every instance of a project, or of all projects (each then carries its `project`). */
  async listInstances(scope: { project?: string; allProjects?: boolean } = {}): Promise<Instance[]> {
    const purpose = {
      doing: 'listing',
      what: scope.allProjects ? 'instances of all projects' : `instances${scope.project ? ` of project ${scope.project}` : ''}`,
    };
    const query: Record<string, string> = { recursion: '1' };
    if (scope.allProjects) query['all-projects'] = 'true';
    const { metadata } = await this.request('GET', '/1.0/instances', { project: scope.allProjects ? undefined : scope.project, query }, purpose);
    return this.parse(InstanceSchema.array(), metadata ?? [], purpose);
  }

  /**
   * Replaces the instance's writable config with `put`, only if its ETag is still `etag`.
   * A 412 (the instance changed since it was read) becomes a `conflict` LxdError: LXD applied
   * nothing. Without an etag the write is refused: passthru never writes blind.
   */
  async updateInstance(name: string, put: InstancePut, etag: string | undefined, project?: string, doing = 'updating'): Promise<void> {
    const what = `instance ${name}${project ? ` in project ${project}` : ''}`;
    if (!etag)
      throw new LxdError(doing, what, this.via, 'LXD sent no ETag for the instance, so a concurrent change could not be detected; refusing to write', {
        reason: 'conflict',
      });
    try {
      await this.request('PUT', `/1.0/instances/${encodeURIComponent(name)}`, { project, body: put, headers: { 'If-Match': etag } }, { doing, what });
    } catch (error) {
      if (error instanceof LxdError && error.status === 412) {
        throw new LxdError(
          doing,
          what,
          this.via,
          `the instance changed since it was read; nothing was overwritten, re-run to apply on top of the new config (LXD: ${error.detail})`,
          { reason: 'conflict', status: 412, errorCode: error.errorCode, cause: error },
        );
      }
      throw error;
    }
  }

  async getProject(name: string): Promise<Project> {
    const purpose = { doing: 'reading', what: `project ${name}` };
    const { metadata } = await this.request('GET', `/1.0/projects/${encodeURIComponent(name)}`, {}, purpose);
    return this.parse(ProjectSchema, metadata, purpose);
  }

  async listProjects(): Promise<Project[]> {
    const purpose = { doing: 'listing', what: 'projects' };
    const { metadata } = await this.request('GET', '/1.0/projects', { query: { recursion: '1' } }, purpose);
    return this.parse(ProjectSchema.array(), metadata ?? [], purpose);
  }

  async listCertificates(): Promise<Certificate[]> {
    const purpose = { doing: 'listing', what: 'trusted certificates' };
    const { metadata } = await this.request('GET', '/1.0/certificates', { query: { recursion: '1' } }, purpose);
    return this.parse(CertificateSchema.array(), metadata ?? [], purpose);
  }

  /** Managed and unmanaged networks the server sees (of `project` when given). */
  async listNetworks(project?: string): Promise<Network[]> {
    const purpose = { doing: 'listing', what: `networks${project ? ` of project ${project}` : ''}` };
    const { metadata } = await this.request('GET', '/1.0/networks', { project, query: { recursion: '1' } }, purpose);
    return this.parse(NetworkSchema.array(), metadata ?? [], purpose);
  }

  private parse<S extends z.ZodType>(schema: S, value: unknown, purpose: Purpose, what = purpose.what): z.infer<S> {
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new LxdError(purpose.doing, what, this.via, `unexpected answer from LXD: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`, {
        reason: 'lxd',
        cause: parsed.error,
      });
    }
    return parsed.data;
  }

  private exchange(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    purpose: Purpose,
  ): Promise<{ status: number; etag: string | undefined; text: string }> {
    return new Promise((resolve, reject) => {
      const unreachable = (error: Error & { code?: string }) =>
        new LxdError(purpose.doing, purpose.what, this.via, `${error.code ? `${error.code} ` : ''}${error.message}`.trim(), {
          reason: 'unreachable',
          cause: error,
        });
      const common: http.RequestOptions = { method, path, headers, timeout: this.requestTimeout };
      let options: http.RequestOptions;
      if (this.endpoint.kind === 'unix') {
        options = { ...common, socketPath: this.endpoint.socketPath, host: 'lxd' };
      } else {
        const url = new URL(this.endpoint.url);
        const endpoint = this.endpoint;
        const pinned = this.pinned;
        options = {
          ...common,
          host: url.hostname,
          port: url.port || 8443,
          // The TLS handshake completes (and the pin is checked) before http writes a byte.
          createConnection: ((_: unknown, done: (error: Error | null, socket?: tls.TLSSocket) => void) => {
            const socket = tls.connect({
              host: url.hostname,
              port: Number(url.port || 8443),
              servername: url.hostname,
              cert: endpoint.cert,
              key: endpoint.key,
              rejectUnauthorized: pinned === undefined,
            });
            socket.once('error', (error) => done(error));
            socket.once('secureConnect', () => {
              if (pinned !== undefined) {
                const presented = socket.getPeerCertificate()?.fingerprint256;
                if (presented !== pinned) {
                  socket.destroy();
                  done(
                    Object.assign(new Error(`the server certificate ${presented ?? '(none)'} is not the pinned one ${pinned}`), { code: 'CERT_PIN_MISMATCH' }),
                  );
                  return;
                }
              }
              done(null, socket);
            });
            return undefined;
          }) as unknown as http.RequestOptions['createConnection'],
        };
      }
      const request = http.request(options, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('error', (error) => reject(unreachable(error)));
        response.on('end', () => {
          const etag = response.headers.etag;
          resolve({ status: response.statusCode ?? 0, etag: typeof etag === 'string' ? etag : undefined, text: Buffer.concat(chunks).toString('utf8') });
        });
      });
      request.on('timeout', () => request.destroy(Object.assign(new Error(`no answer within ${this.requestTimeout} ms`), { code: 'ETIMEDOUT' })));
      request.on('error', (error) => reject(unreachable(error)));
      request.end(body);
    });
  }
}
