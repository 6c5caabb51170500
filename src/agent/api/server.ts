// The agent's Docker-compatible Engine API server. Unix socket by default (0660, root-owned, like
// /var/run/docker.sock); TCP only with mutual TLS, or plain with an explicit insecure flag that is
// logged at every start. Every answer carries the headers the docker CLI reads (Api-Version,
// OSType, Server, Docker-Experimental).
import { chmod, chown, mkdir, rm } from 'node:fs/promises';
import { createServer as createHttpServer, ServerResponse, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { Readable, type Duplex } from 'node:stream';
import { createServer as createHttpsServer } from 'node:https';
import { dirname } from 'node:path';
import type { Logger } from '#pino';
import { fromSystemError, InvalidArgument } from '../../lib/errors.js';
import { VERSION } from '../../lib/version.js';
import { API_VERSION, splitVersion, unsupportedVersion } from './api-version.js';
import { httpErrorFor } from './http-errors.js';
import type { Router } from './router.js';

export type Listen =
  | { readonly kind: 'unix'; readonly path: string; readonly mode?: number; readonly gid?: number }
  | { readonly kind: 'tls'; readonly host: string; readonly port: number; readonly cert: Buffer; readonly key: Buffer; readonly ca: Buffer }
  | { readonly kind: 'insecure-tcp'; readonly host: string; readonly port: number };

export interface ApiServer {
  readonly address: string;
  close(): Promise<void>;
}

const SERVER_NAME = `atomicd/${VERSION}`;

export async function startApiServer(router: Router, listen: Listen, log: Logger): Promise<ApiServer> {
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    void dispatch(router, req, res, log);
  };
  let server: Server;
  if (listen.kind === 'tls') {
    // Mutual TLS: a client without a certificate signed by `ca` is refused at the handshake.
    server = createHttpsServer({ requireHostHeader: false, cert: listen.cert, key: listen.key, ca: listen.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' }, handle);
  } else {
    // No Host header is no reason to refuse a request on a local socket (Node 20 answers a bare
    // 400 for it by default; the docker CLI always sends one anyway).
    server = createHttpServer({ requireHostHeader: false }, handle);
  }
  // Attach and exec upgrade the connection (docker's hijack): the request arrives here instead of
  // as a 'request'. A ServerResponse on the same socket answers errors the usual way; a handler
  // that takes the connection calls ctx.hijack.
  server.on('upgrade', (upgradeReq: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    void upgradedBody(upgradeReq, socket, head).then((body) => onUpgrade(upgradeReq, socket, body), () => socket.destroy());
  });
  const onUpgrade = (upgradeReq: IncomingMessage, socket: Duplex, body: Buffer): void => {
    const req = Object.assign(Readable.from(body.length > 0 ? [body] : []), {
      headers: upgradeReq.headers, method: upgradeReq.method, url: upgradeReq.url, httpVersion: upgradeReq.httpVersion, socket: upgradeReq.socket,
    }) as unknown as IncomingMessage;
    const res = new ServerResponse(upgradeReq);
    res.assignSocket(socket as Socket);
    res.once('finish', () => socket.end());
    let taken = false;
    const hijack = (contentType: string): Duplex => {
      if (taken || res.headersSent) throw new Error('the connection was already answered');
      taken = true;
      res.detachSocket(socket as Socket);
      socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: ${API_VERSION}\r\nServer: ${SERVER_NAME}\r\n\r\n`);
      return socket;
    };
    void dispatch(router, req, res, log, hijack);
  };
  // What Node's HTTP parser refuses before any handler runs (bad framing, a bad Content-Length,
  // headers over the limit): Docker's JSON error body rather than Node's bare status line, so a
  // client shows a message; then the connection is closed, as its framing cannot be trusted.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify({ message: status === 431 ? 'the request headers are too large' : `malformed HTTP request: ${err.code ?? err.message}` }) + '\n';
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\nApi-Version: ${API_VERSION}\r\nServer: ${SERVER_NAME}\r\n\r\n${body}`);
  });
  // `Expect:` other than 100-continue: 417, as Go's net/http answers, in Docker's JSON.
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('Api-Version', API_VERSION);
    send(res, 417, { message: `Expect: ${String(req.headers.expect ?? '')} is not supported` }, req.method === 'HEAD');
  });
  // Attach and exec hijack the connection; no idle timeouts on them.
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 0;
  if (listen.kind === 'unix') {
    await mkdir(dirname(listen.path), { recursive: true, mode: 0o755 }).catch((e: unknown) => {
      throw fromSystemError(e, listen.path, 'creating the socket directory');
    });
    await rm(listen.path, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(fromSystemError(e, listen.path, 'listening')));
      server.listen(listen.path, resolve);
    });
    // Like docker.sock: root and one group may talk to the agent, nobody else.
    await chmod(listen.path, listen.mode ?? 0o660);
    await chown(listen.path, 0, listen.gid ?? 0).catch(() => undefined);
    log.info({ socket: listen.path, mode: (listen.mode ?? 0o660).toString(8) }, 'API listening on a Unix socket');
    return { address: `unix://${listen.path}`, close: () => closeServer(server, listen.path) };
  }
  if (listen.kind === 'insecure-tcp') {
    log.warn({ host: listen.host, port: listen.port }, 'API listening on plain TCP without TLS (--insecure-tcp): anyone who can reach this port controls the host');
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(fromSystemError(e, `${listen.host}:${listen.port}`, 'listening')));
    server.listen(listen.port, listen.host, resolve);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : listen.port;
  log.info({ host: listen.host, port, tls: listen.kind === 'tls' }, 'API listening on TCP');
  return { address: `tcp://${listen.host}:${port}`, close: () => closeServer(server) };
}

/** Bodies above this are refused on upgraded requests (exec start's is a few dozen bytes). */
const MAX_UPGRADED_BODY_BYTES = 1 << 20;

/**
 * The body of an upgraded request (exec start's {"Detach":false,"Tty":true}) comes first on the
 * socket, before what the client then writes as stdin, and Node's parser gives an upgraded
 * request no body: its Content-Length bytes are taken off here, the rest is left on the socket.
 */
async function upgradedBody(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<Buffer> {
  const length = Number(req.headers['content-length'] ?? '0');
  const want = Number.isInteger(length) && length > 0 ? length : 0;
  if (want > MAX_UPGRADED_BODY_BYTES) throw new InvalidArgument(`the request body of an upgraded request is over ${MAX_UPGRADED_BODY_BYTES} bytes`);
  let got = head;
  while (got.length < want) {
    const chunk = await new Promise<Buffer | null>((resolve) => {
      const onData = (b: Buffer): void => {
        socket.pause();
        done(b);
      };
      const done = (b: Buffer | null): void => {
        socket.off('data', onData);
        socket.off('end', onEnd);
        resolve(b);
      };
      const onEnd = (): void => done(null);
      socket.on('data', onData);
      socket.once('end', onEnd);
      socket.resume();
    });
    if (chunk === null) break;
    got = Buffer.concat([got, chunk]);
  }
  const rest = got.subarray(want);
  if (rest.length > 0) socket.unshift(rest);
  return got.subarray(0, want);
}

async function closeServer(server: Server, socketPath?: string): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (socketPath !== undefined) await rm(socketPath, { force: true });
}

async function dispatch(router: Router, req: IncomingMessage, res: ServerResponse, log: Logger, hijack?: (contentType: string) => Duplex): Promise<void> {
  res.setHeader('Api-Version', API_VERSION);
  res.setHeader('Docker-Experimental', 'false');
  res.setHeader('OSType', 'linux');
  res.setHeader('Server', SERVER_NAME);
  let url: URL;
  try {
    url = requestUrl(req.url ?? '/');
  } catch (e) {
    const { status, body } = httpErrorFor(e);
    send(res, status, body, req.method === 'HEAD');
    return;
  }
  const { path, version } = splitVersion(url.pathname);
  try {
    if (version !== undefined) {
      const why = unsupportedVersion(version);
      if (why !== undefined) throw new InvalidArgument(why);
    }
    const found = router.match(req.method ?? 'GET', path);
    if ('status' in found) {
      send(res, found.status, { message: found.status === 404 ? `page not found` : `method ${req.method ?? ''} not allowed` }, req.method === 'HEAD');
      return;
    }
    const result = await found.handler({ req, res, params: found.params, query: url.searchParams, version: version ?? API_VERSION, ...(hijack === undefined ? {} : { hijack }) });
    if (result === 'handled') return;
    if (result.empty === true) {
      res.writeHead(result.status ?? 204).end();
      return;
    }
    send(res, result.status ?? 200, result.json, req.method === 'HEAD');
  } catch (e) {
    const { status, body } = httpErrorFor(e);
    if (status >= 500) log.error({ err: e, method: req.method, path }, 'API request failed');
    if (!res.headersSent) send(res, status, body, req.method === 'HEAD');
    else res.destroy();
  }
}

/**
 * The request target as a URL. Origin-form (`/containers/json`) is taken as a path even when it
 * starts with `//` (which `new URL(target, base)` would read as a host, and throw on); absolute-form
 * (`http://host/path`, what proxies send) is parsed as it is. Anything else is the client's error.
 */
export function requestUrl(target: string): URL {
  try {
    return target.startsWith('/') ? new URL(`http://atomicd${target}`) : new URL(target);
  } catch (e) {
    throw new InvalidArgument(`malformed request target: ${JSON.stringify(target.slice(0, 80))}`, { cause: e });
  }
}

function send(res: ServerResponse, status: number, json: unknown, headOnly: boolean): void {
  const body = json === undefined ? '' : JSON.stringify(json) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(headOnly ? undefined : body);
}
