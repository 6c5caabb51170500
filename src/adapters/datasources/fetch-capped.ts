// One HTTP request for a datasource: node:http/https with no connection pool, a per-request
// timeout, the caller's AbortSignal (cancellation or the datasource's total deadline) and a cap
// on the body that is enforced while streaming, so a huge or endless response costs at most the
// cap in memory. Status codes are returned, not judged; transport failures become errors of the
// taxonomy. Request headers (which may hold an IMDSv2 token) never appear in an error or its
// message, and URLs are shown without credentials or query (displayUrl).
import { request as httpRequest, type IncomingHttpHeaders, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { AtomicError, DeadlineExceeded, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, ResourceExhausted, Unavailable } from '../../lib/errors.js';
import { abortReason } from '../../lib/backoff.js';
import { displayUrl } from './display-url.js';

export { displayUrl } from './display-url.js';

export interface CappedRequest {
  readonly url: URL;
  readonly method?: 'GET' | 'PUT';
  readonly headers?: Readonly<Record<string, string>>;
  /** Bodies above this are refused (ResourceExhausted) without reading the rest. */
  readonly maxBytes: number;
  /** This request, connect to last byte. */
  readonly timeoutMs: number;
  /** Aborting it ends the request; its reason (an AtomicError) is what is thrown. */
  readonly signal: AbortSignal;
  /** Redirects to follow (http and https only); 0 returns the 3xx response. */
  readonly maxRedirects?: number;
  /** What is fetched, for messages: `user-data`, `the IMDSv2 token`. */
  readonly what?: string;
}

export interface CappedResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The URL that answered, after redirects. */
  readonly url: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function fetchCapped(req: CappedRequest): Promise<CappedResponse> {
  let url = req.url;
  for (let redirects = 0; ; redirects++) {
    const res = await requestOnce(url, req);
    const location = res.headers.location;
    if (!REDIRECTS.has(res.status) || location === undefined || redirects >= (req.maxRedirects ?? 0)) return res;
    let next: URL;
    try {
      next = new URL(location, url);
    } catch (e) {
      throw new InvalidArgument(`redirect to an invalid URL`, { subject: displayUrl(url), cause: e });
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new InvalidArgument(`redirect to ${next.protocol} refused: only http and https are fetched`, { subject: displayUrl(url) });
    }
    url = next;
  }
}

function requestOnce(url: URL, req: CappedRequest): Promise<CappedResponse> {
  const subject = displayUrl(url);
  const method = req.method ?? 'GET';
  const what = req.what ?? 'the response';
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.reject(new InvalidArgument(`only http and https URLs are fetched, not ${url.protocol}`, { subject }));
  }
  if (req.signal.aborted) return Promise.reject(abortReason(req.signal, `${method} ${subject}`));
  return new Promise<CappedResponse>((resolve, reject) => {
    let settled = false;
    let client: ClientRequest | undefined;
    const finish = (err: AtomicError | undefined, value?: CappedResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.signal.removeEventListener('abort', onAbort);
      if (err !== undefined) {
        client?.destroy();
        reject(err);
      } else if (value !== undefined) resolve(value);
    };
    const onAbort = (): void => finish(abortReason(req.signal, `${method} ${subject}`));
    req.signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => finish(new DeadlineExceeded(`no complete answer to ${method} within ${req.timeoutMs} ms`, { subject })), req.timeoutMs);

    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    try {
      client = send(url, {
        method,
        // agent false: a fresh connection each time, nothing pooled keeps the process alive.
        agent: false,
        headers: { 'user-agent': 'atomicd', accept: '*/*', ...req.headers, ...(method === 'PUT' ? { 'content-length': '0' } : {}) },
      });
    } catch (e) {
      // Invalid header values: the message names the header, never the value; say it our way.
      finish(new InvalidArgument(`cannot send ${method}: invalid request`, { subject, cause: e instanceof Error ? new Error(e.name) : undefined }));
      return;
    }
    client.on('error', (e: NodeJS.ErrnoException) => finish(transportError(e, method, subject)));
    client.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > req.maxBytes) {
        finish(new ResourceExhausted(`${what} is ${declared} bytes, more than the limit of ${req.maxBytes} bytes`, { subject }));
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      res.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > req.maxBytes) {
          finish(new ResourceExhausted(`${what} is larger than the limit of ${req.maxBytes} bytes (stopped reading)`, { subject }));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => finish(undefined, { status, headers: res.headers, body: Buffer.concat(chunks, total), url }));
      res.on('close', () => {
        if (!res.complete) finish(new Unavailable(`the connection closed before the end of ${what}`, { subject }));
      });
      res.on('error', (e: NodeJS.ErrnoException) => finish(transportError(e, method, subject)));
    });
    client.end();
  });
}

const TLS_CODES = /^(CERT_|ERR_TLS_|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(GET|VERIFY)_)/;

function transportError(e: NodeJS.ErrnoException, method: string, subject: string): AtomicError {
  const code = e.code ?? '';
  // The cause keeps only the system error's code and message: Node's own, without request headers.
  const cause = Object.assign(new Error(e.message), { code });
  switch (code) {
    case 'ECONNREFUSED':
      return new Unavailable(`connection refused (${method})`, { subject, cause });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new Unavailable(`cannot resolve the host name (${method})`, { subject, cause });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return new Unavailable(`no route to the host (${method}): is the network up?`, { subject, cause });
    case 'ECONNRESET':
    case 'EPIPE':
      return new Unavailable(`the connection was reset (${method})`, { subject, cause });
    case 'ETIMEDOUT':
      return new Unavailable(`connecting timed out (${method})`, { subject, cause });
    default:
      if (TLS_CODES.test(code)) return new FailedPrecondition(`TLS: ${e.message}`, { subject, cause });
      return new Unavailable(`${method} failed: ${e.message}`, { subject, cause });
  }
}

/**
 * An error for a status that is not success: 5xx, 408 and 429 are Unavailable (worth retrying,
 * as cloud-init's readurl retries them); 401/403 PermissionDenied; 404/410 NotFound; the rest
 * InvalidArgument (the server refuses what we asked).
 */
export function httpStatusError(status: number, what: string, subject: string): AtomicError {
  const details = { subject };
  if (status >= 500 || status === 408 || status === 429) return new Unavailable(`${what}: the server answered ${status}`, details);
  if (status === 401 || status === 403) return new PermissionDenied(`${what}: the server answered ${status}`, details);
  if (status === 404 || status === 410) return new NotFound(`${what}: the server answered ${status}`, details);
  return new InvalidArgument(`${what}: the server answered ${status}`, details);
}

/** Failures worth another attempt: the server or the network may be coming up (boot-time races). */
export function isRetryableFetchError(e: unknown): boolean {
  return e instanceof Unavailable || e instanceof DeadlineExceeded;
}
