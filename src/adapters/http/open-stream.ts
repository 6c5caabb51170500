// One HTTP request whose body is streamed to the caller (registry blobs: megabytes to gigabytes).
// Unlike fetchCapped there is no total deadline, which would fail big downloads on slow links:
// the answer's headers must come within headersTimeoutMs, and then the body may not stall for
// more than idleTimeoutMs. Transport failures, stalls and aborts surface from the body iterator
// as errors of the taxonomy (Unavailable, DeadlineExceeded, the signal's reason), so a caller that
// keeps what it received so far can resume.
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { AtomicError, DeadlineExceeded, InvalidArgument, Unavailable } from '../../lib/errors.js';
import { abortReason } from '../../lib/backoff.js';
import { displayUrl } from './display-url.js';
import { REDIRECT_STATUSES, headersForRedirect, refusedBeforeSending, transportError } from './http-errors.js';
import { redirectTarget } from './fetch-capped.js';

export interface StreamRequest {
  readonly url: URL;
  readonly method?: 'GET' | 'HEAD';
  readonly headers?: Readonly<Record<string, string>>;
  /** Connect to the response headers. */
  readonly headersTimeoutMs: number;
  /** Longest silence while the body streams. */
  readonly idleTimeoutMs: number;
  readonly signal: AbortSignal;
  readonly maxRedirects?: number;
  /** What is fetched, for messages: `blob sha256:…`. */
  readonly what?: string;
  /** false accepts any TLS certificate: only for registries the user listed as insecure. */
  readonly tlsRejectUnauthorized?: boolean;
  /** Throws when a redirect from `from` to `to` must not be followed. */
  readonly checkRedirect?: (from: URL, to: URL) => void;
}

export interface StreamResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The URL that answered, after redirects. */
  readonly url: URL;
  /** The body; iterate it once. An early break or close() ends the request. */
  readonly body: AsyncIterable<Buffer>;
  /** Drop the connection without reading the body. */
  close(): void;
}

export async function openStream(req: StreamRequest): Promise<StreamResponse> {
  let url = req.url;
  let headers: Record<string, string> = { ...req.headers };
  for (let redirects = 0; ; redirects++) {
    const res = await openOnce(url, headers, req);
    const location = res.headers.location;
    if (!REDIRECT_STATUSES.has(res.status) || location === undefined || redirects >= (req.maxRedirects ?? 0)) return res;
    res.close();
    const next = redirectTarget(location, url);
    req.checkRedirect?.(url, next);
    headers = headersForRedirect(headers, url, next);
    url = next;
  }
}

function openOnce(url: URL, headers: Readonly<Record<string, string>>, req: StreamRequest): Promise<StreamResponse> {
  const subject = displayUrl(url);
  const method = req.method ?? 'GET';
  const what = req.what ?? 'the response';
  const refused = refusedBeforeSending(url, req.signal, method);
  if (refused !== undefined) return Promise.reject(refused);
  return new Promise<StreamResponse>((resolve, reject) => {
    let client: ClientRequest | undefined;
    let response: IncomingMessage | undefined;
    // The first failure wins: it is what the body iterator throws once the stream breaks.
    let failure: AtomicError | undefined;
    const fail = (e: AtomicError): void => {
      failure ??= e;
      cleanup();
      client?.destroy();
      if (response === undefined) reject(failure);
    };
    const onAbort = (): void => fail(abortReason(req.signal, `${method} ${subject}`));
    const cleanup = (): void => {
      clearTimeout(headersTimer);
      req.signal.removeEventListener('abort', onAbort);
    };
    req.signal.addEventListener('abort', onAbort, { once: true });
    const headersTimer = setTimeout(() => fail(new DeadlineExceeded(`no answer to ${method} within ${req.headersTimeoutMs} ms`, { subject })), req.headersTimeoutMs);
    const https = url.protocol === 'https:';
    try {
      client = (https ? httpsRequest : httpRequest)(url, {
        method,
        agent: false,
        headers: { 'user-agent': 'atomicd', accept: '*/*', ...headers },
        ...(https && req.tlsRejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
      });
    } catch (e) {
      fail(new InvalidArgument(`cannot send ${method}: invalid request`, { subject, cause: e instanceof Error ? new Error(e.name) : undefined }));
      return;
    }
    client.on('error', (e: NodeJS.ErrnoException) => fail(transportError(e, method, subject)));
    client.on('response', (res) => {
      response = res;
      clearTimeout(headersTimer);
      // From here on the abort listener stays until the body is done: it breaks the stream.
      client!.setTimeout(req.idleTimeoutMs, () => fail(new DeadlineExceeded(`${what}: no data for ${req.idleTimeoutMs} ms`, { subject })));
      res.on('error', () => undefined); // reported through the iterator
      const body: AsyncIterable<Buffer> = {
        [Symbol.asyncIterator]: async function* () {
          try {
            for await (const chunk of res as AsyncIterable<Buffer>) {
              if (failure !== undefined) throw failure;
              yield chunk;
            }
          } catch (e) {
            if (failure !== undefined) throw failure;
            throw transportError(e as NodeJS.ErrnoException, method, subject);
          } finally {
            cleanup();
            client!.setTimeout(0);
            if (!res.complete) client!.destroy();
          }
          if (failure !== undefined) throw failure;
          if (!res.complete) throw new Unavailable(`the connection closed before the end of ${what}`, { subject });
        },
      };
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        url,
        body,
        close: () => {
          cleanup();
          client!.destroy();
        },
      });
    });
    client.end();
  });
}
