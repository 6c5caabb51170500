// The CLI's client of the agent's Engine API. Like the docker CLI it pings first (HEAD /_ping)
// and speaks min(our version, the server's Api-Version) on /vX.Y paths. Error answers
// ({"message": ...}) become our error classes by HTTP status with the daemon's message;
// JSON-stream answers (pull progress) are decoded line by line, and an in-band
// {"errorDetail": {"code", "message"}} ends the stream as the same kind of error.
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions } from 'node:http';
import type { request as httpsRequestFn } from 'node:https';
import type { Duplex } from 'node:stream';
import { AtomicError, Cancelled, Unavailable, errorOfCode, type ErrorCode } from '../../lib/errors.js';
import { formatEndpoint, type AgentEndpoint } from './agent-host.js';

/** The API version this client speaks at most. */
export const CLIENT_API_VERSION = '1.43';

export interface AgentRequest {
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** Sent as JSON. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** A raw request body streamed as it is read (a tar for archive and load), instead of `body`. */
  readonly upload?: NodeJS.ReadableStream;
  readonly signal?: AbortSignal;
}

/** An answer read as it arrives (logs, stats, events, wait): the body is the response stream. */
export interface AgentStream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: IncomingMessage;
}

export interface AgentResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One message of a JSON stream (moby pkg/jsonmessage JSONMessage). */
export interface JsonMessage {
  readonly status?: string;
  readonly id?: string;
  readonly progress?: string;
  readonly progressDetail?: { readonly current?: number; readonly total?: number };
  readonly stream?: string;
  readonly error?: string;
  readonly errorDetail?: { readonly code?: number; readonly message?: string };
  readonly aux?: unknown;
}

const STATUS_CODES: ReadonlyArray<readonly [number, ErrorCode]> = [
  [400, 'InvalidArgument'],
  [401, 'PermissionDenied'],
  [403, 'PermissionDenied'],
  [404, 'NotFound'],
  [409, 'Conflict'],
  [499, 'Cancelled'],
  [501, 'Unimplemented'],
  [503, 'Unavailable'],
  [504, 'DeadlineExceeded'],
  [507, 'ResourceExhausted'],
];

/** The error class for an HTTP status the agent answered with (the inverse of agent/api/http-errors.ts). */
export function errorCodeForStatus(status: number): ErrorCode {
  const hit = STATUS_CODES.find(([s]) => s === status);
  if (hit !== undefined) return hit[1];
  return status >= 400 && status < 500 ? 'InvalidArgument' : 'Internal';
}

/** The daemon's error as one of ours; the message is the daemon's, as `docker` shows it. */
export function daemonError(status: number, body: Buffer | string): AtomicError {
  const text = body.toString().trim();
  let message = text;
  try {
    const doc = JSON.parse(text) as { message?: unknown };
    if (typeof doc.message === 'string') message = doc.message;
  } catch {
    // Not JSON: a proxy or something else answered; show its text.
  }
  if (message === '') message = `the agent answered HTTP ${status}`;
  return errorOfCode(errorCodeForStatus(status), message);
}

export class AgentClient {
  readonly endpoint: AgentEndpoint;
  private version: string | undefined;

  constructor(endpoint: AgentEndpoint) {
    this.endpoint = endpoint;
  }

  /** HEAD /_ping: the server's API version (what the docker CLI negotiates with). */
  async ping(signal?: AbortSignal): Promise<{ apiVersion: string | undefined; osType: string | undefined }> {
    const res = await this.send('HEAD', '/_ping', {}, signal);
    await drain(res);
    if ((res.statusCode ?? 0) >= 400) throw daemonError(res.statusCode ?? 0, '');
    const v = header(res.headers, 'api-version');
    return { apiVersion: v, osType: header(res.headers, 'ostype') };
  }

  /** The version used on /vX.Y paths: the lower of ours and the server's. */
  async apiVersion(signal?: AbortSignal): Promise<string> {
    if (this.version !== undefined) return this.version;
    // A ping the server answers with an error (an old or minimal server) means: speak ours, as
    // the docker CLI does; a connection failure is still an error.
    const apiVersion = await this.ping(signal).then(
      (p) => p.apiVersion,
      (e: unknown) => {
        if (e instanceof AtomicError && e.code !== 'Unavailable' && e.code !== 'Cancelled') return undefined;
        throw e;
      },
    );
    this.version = apiVersion !== undefined && /^\d+\.\d+$/.test(apiVersion) && compareVersions(apiVersion, CLIENT_API_VERSION) < 0 ? apiVersion : CLIENT_API_VERSION;
    return this.version;
  }

  /** A request whose error answers throw; the body is read whole. */
  async request(method: string, path: string, opts: AgentRequest = {}): Promise<AgentResponse> {
    const res = await this.send(method, await this.versioned(path, opts), opts, opts.signal);
    const body = await drain(res);
    const status = res.statusCode ?? 0;
    if (status >= 400) throw daemonError(status, body);
    return { status, headers: res.headers, body };
  }

  async json<T>(method: string, path: string, opts: AgentRequest = {}): Promise<T> {
    const r = await this.request(method, path, opts);
    const text = r.body.toString('utf8');
    if (text.trim() === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw errorOfCode('Internal', `the agent answered ${method} ${path} with something that is not JSON`, { cause: e });
    }
  }

  /**
   * A request whose answer is handed over once its headers arrived, the body still streaming:
   * `docker run` waits for the headers of POST /wait before it starts the container, and reads
   * logs and stats as they come. Error answers throw (their body is read whole).
   */
  async open(method: string, path: string, opts: AgentRequest = {}): Promise<AgentStream> {
    const res = await this.send(method, await this.versioned(path, opts), opts, opts.signal);
    const status = res.statusCode ?? 0;
    if (status >= 400) throw daemonError(status, await drain(res));
    return { status, headers: res.headers, body: res };
  }

  /**
   * An upgraded connection (Docker's hijack: `Connection: Upgrade`, `Upgrade: tcp`), what attach
   * and an attached exec start answer with 101: the raw connection, to write stdin on and read the
   * output from (framed, or raw with a TTY: `contentType` says which). Error answers throw.
   */
  async hijack(method: string, path: string, opts: AgentRequest = {}): Promise<{ socket: Duplex; contentType: string | undefined }> {
    const versioned = await this.versioned(path, opts);
    return new Promise((resolve, reject) => {
      const upgraded = (res: IncomingMessage, socket: Duplex, head: Buffer): void => {
        if (head.length > 0) socket.unshift(head);
        resolve({ socket, contentType: header(res.headers, 'content-type') });
      };
      this.send(method, versioned, { ...opts, headers: { ...opts.headers, Connection: 'Upgrade', Upgrade: 'tcp' } }, opts.signal, upgraded).then(async (res) => {
        const status = res.statusCode ?? 0;
        const body = await drain(res);
        reject(status >= 400 ? daemonError(status, body) : errorOfCode('Internal', `the agent answered ${method} ${path} without upgrading the connection (HTTP ${status})`));
      }, reject);
    });
  }

  /** A JSON-stream request: `onMessage` for each line; an in-band error throws after its line. */
  async stream(method: string, path: string, onMessage: (m: JsonMessage) => void, opts: AgentRequest = {}): Promise<void> {
    const res = await this.send(method, await this.versioned(path, opts), opts, opts.signal);
    const status = res.statusCode ?? 0;
    if (status >= 400) throw daemonError(status, await drain(res));
    let buffered = '';
    let failure: AtomicError | undefined;
    const handle = (line: string): void => {
      if (line.trim() === '' || failure !== undefined) return;
      let m: JsonMessage;
      try {
        m = JSON.parse(line) as JsonMessage;
      } catch (e) {
        failure = errorOfCode('Internal', `the agent's ${path} stream has a line that is not JSON: ${JSON.stringify(line.slice(0, 80))}`, { cause: e });
        return;
      }
      if (m.error !== undefined || m.errorDetail !== undefined) {
        const message = m.errorDetail?.message ?? m.error ?? 'unknown error';
        failure = errorOfCode(m.errorDetail?.code !== undefined ? errorCodeForStatus(m.errorDetail.code) : 'Internal', message);
        return;
      }
      onMessage(m);
    };
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        buffered += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          handle(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
        }
      }
    } catch (e) {
      if (opts.signal?.aborted === true) throw new Cancelled(`${method} ${path}: cancelled`, { cause: e });
      throw new Unavailable(`the connection to the agent at ${formatEndpoint(this.endpoint)} broke during ${method} ${path}`, { cause: e });
    }
    handle(buffered);
    if (failure !== undefined) throw failure;
  }

  private async versioned(path: string, opts: AgentRequest): Promise<string> {
    const v = await this.apiVersion(opts.signal);
    const q = new URLSearchParams();
    for (const [k, val] of Object.entries(opts.query ?? {})) if (val !== undefined) q.set(k, String(val));
    const qs = q.toString();
    return `/v${v}${path}${qs === '' ? '' : `?${qs}`}`;
  }

  private async send(
    method: string, path: string, opts: AgentRequest, signal: AbortSignal | undefined, onUpgrade?: (res: IncomingMessage, socket: Duplex, head: Buffer) => void,
  ): Promise<IncomingMessage> {
    // node:https (and TLS with it) only for a tcp:// agent with TLS: loading it costs every
    // `atomic run` on the local socket ~10 ms of start-up.
    const httpsRequest: typeof httpsRequestFn | undefined = this.endpoint.kind !== 'unix' && this.endpoint.tls !== undefined ? (await import('node:https')).request : undefined;
    const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers: Record<string, string | number> = {
      ...(opts.headers ?? {}),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': body.length }),
      ...(opts.upload === undefined ? {} : { 'Content-Type': 'application/x-tar' }),
    };
    const e = this.endpoint;
    const base: RequestOptions = { method, path, headers, ...(signal === undefined ? {} : { signal }) };
    // Without TLS the server name means nothing, but http.Agent works one out for every request,
    // testing the host with net.isIP: the first match of its IPv6 pattern compiles that regular
    // expression, ~10 ms of every short command's life. An empty one is taken as given.
    const noServerName = { servername: '' } as RequestOptions;
    return new Promise((resolve, reject) => {
      let req;
      if (e.kind === 'unix') req = httpRequest({ ...base, ...noServerName, socketPath: e.path, host: 'atomicd' }, resolve);
      else if (e.tls === undefined) req = httpRequest({ ...base, ...noServerName, host: e.host, port: e.port }, resolve);
      else req = (httpsRequest as typeof httpsRequestFn)({ ...base, host: e.host, port: e.port, ca: e.tls.ca, cert: e.tls.cert, key: e.tls.key, minVersion: 'TLSv1.2' }, resolve);
      if (onUpgrade !== undefined) req.on('upgrade', onUpgrade);
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (signal?.aborted === true) return reject(new Cancelled(`${method} ${path}: cancelled`, { cause: err }));
        const where = formatEndpoint(e);
        const why =
          err.code === 'ENOENT' ? 'no socket there' :
          err.code === 'ECONNREFUSED' ? 'connection refused' :
          err.code === 'EACCES' ? 'permission denied (the socket is for root and its group)' :
          err.message;
        reject(new Unavailable(`cannot connect to the atomic agent at ${where}: ${why}. Is atomicd running?`, { cause: err }));
      });
      if (opts.upload !== undefined) {
        opts.upload.on('error', (err) => req.destroy(err));
        opts.upload.pipe(req);
      } else req.end(body);
    });
  }
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

async function drain(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

function compareVersions(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number) as [number, number];
  const [bm, bn] = b.split('.').map(Number) as [number, number];
  return am - bm || an - bn;
}
