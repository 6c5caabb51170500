// One HTTP request with a small answer: node:http/https with no connection pool, a per-request
// timeout, the caller's AbortSignal (cancellation or a total deadline) and a cap on the body that
// is enforced while streaming, so a huge or endless response costs at most the cap in memory.
// Status codes are returned, not judged; transport failures become errors of the taxonomy.
// Request headers (which may hold an IMDSv2 token or registry credentials) never appear in an
// error or its message, and URLs are shown without credentials or query (displayUrl). Used by the
// datasources (metadata, seeds) and the registry client (pings, tokens, manifests).
import { request as httpRequest, type IncomingHttpHeaders, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { AtomicError, DeadlineExceeded, InvalidArgument, ResourceExhausted, Unavailable } from '../../lib/errors.js';
import { abortReason } from '../../lib/backoff.js';
import { displayUrl } from './display-url.js';
import { REDIRECT_STATUSES, headersForRedirect, refusedBeforeSending, transportError } from './http-errors.js';

export { displayUrl } from './display-url.js';
export { httpStatusError, isRetryableFetchError } from './http-errors.js';

export interface CappedRequest {
  readonly url: URL;
  readonly method?: 'GET' | 'PUT' | 'HEAD' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  /** A request body (POST, PUT); without one a PUT or POST sends Content-Length: 0. */
  readonly body?: Uint8Array;
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
  /** false accepts any TLS certificate: only for registries the user listed as insecure. */
  readonly tlsRejectUnauthorized?: boolean;
  /** Whether a redirect from `from` to `to` may be followed; a refusal is the caller's error to throw. */
  readonly checkRedirect?: (from: URL, to: URL) => void;
}

export interface CappedResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The URL that answered, after redirects. */
  readonly url: URL;
}

export async function fetchCapped(req: CappedRequest): Promise<CappedResponse> {
  let url = req.url;
  let headers: Record<string, string> = { ...req.headers };
  for (let redirects = 0; ; redirects++) {
    const res = await requestOnce(url, headers, req);
    const location = res.headers.location;
    if (!REDIRECT_STATUSES.has(res.status) || location === undefined || redirects >= (req.maxRedirects ?? 0)) return res;
    const next = redirectTarget(location, url);
    req.checkRedirect?.(url, next);
    headers = headersForRedirect(headers, url, next);
    url = next;
  }
}

/** The URL a Location header points to, refusing what is not http(s). */
export function redirectTarget(location: string, from: URL): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch (e) {
    throw new InvalidArgument(`redirect to an invalid URL`, { subject: displayUrl(from), cause: e });
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new InvalidArgument(`redirect to ${next.protocol} refused: only http and https are fetched`, { subject: displayUrl(from) });
  }
  return next;
}

function requestOnce(url: URL, headers: Readonly<Record<string, string>>, req: CappedRequest): Promise<CappedResponse> {
  const subject = displayUrl(url);
  const method = req.method ?? 'GET';
  const what = req.what ?? 'the response';
  const refused = refusedBeforeSending(url, req.signal, method);
  if (refused !== undefined) return Promise.reject(refused);
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

    const https = url.protocol === 'https:';
    const send = https ? httpsRequest : httpRequest;
    const bodyHeaders = req.body !== undefined ? { 'content-length': String(req.body.byteLength) } : method === 'PUT' || method === 'POST' ? { 'content-length': '0' } : {};
    try {
      client = send(url, {
        method,
        // agent false: a fresh connection each time, nothing pooled keeps the process alive.
        agent: false,
        headers: { 'user-agent': 'atomicd', accept: '*/*', ...headers, ...bodyHeaders },
        ...(https && req.tlsRejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
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
      if (method !== 'HEAD' && Number.isFinite(declared) && declared > req.maxBytes) {
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
    client.end(req.body === undefined ? undefined : Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength));
  });
}
