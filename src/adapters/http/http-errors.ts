// HTTP failures as errors of the taxonomy, shared by every HTTP client in adapters/: transport
// failures (refused, reset, TLS) and status codes that are not success. Messages never carry
// request headers (tokens, credentials) and show URLs through displayUrl.
import { AtomicError, DeadlineExceeded, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unavailable } from '../../lib/errors.js';
import { abortReason } from '../../lib/backoff.js';
import { displayUrl } from './display-url.js';

const TLS_CODES = /^(CERT_|ERR_TLS_|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(GET|VERIFY)_|EPROTO$)/;

/** Whether a transport error came from TLS (handshake, certificate): not worth retrying as is. */
export function isTlsErrorCode(code: string): boolean {
  return TLS_CODES.test(code);
}

export function transportError(e: NodeJS.ErrnoException, method: string, subject: string): AtomicError {
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
      if (isTlsErrorCode(code)) return new FailedPrecondition(`TLS: ${e.message}`, { subject, cause });
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

export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/**
 * The headers to send to a redirect target: credentials only stay on the same origin, as browsers
 * and Go's net/http do (a registry redirecting a blob to S3 must not hand it its bearer token).
 */
export function headersForRedirect(headers: Readonly<Record<string, string>>, from: URL, to: URL): Record<string, string> {
  if (from.origin === to.origin) return { ...headers };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== 'authorization' && k.toLowerCase() !== 'cookie') out[k] = v;
  return out;
}

/** Why a request must not be sent at all: a scheme other than http(s), or an already aborted signal. */
export function refusedBeforeSending(url: URL, signal: AbortSignal, method: string): AtomicError | undefined {
  const subject = displayUrl(url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return new InvalidArgument(`only http and https URLs are fetched, not ${url.protocol}`, { subject });
  if (signal.aborted) return abortReason(signal, `${method} ${subject}`);
  return undefined;
}
