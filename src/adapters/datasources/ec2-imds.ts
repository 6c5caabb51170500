// The EC2 instance metadata service, IMDSv2 only (AWS EC2 User Guide, "Use the Instance Metadata
// Service to access instance metadata"; "Retrieve instance metadata" / "Instance metadata
// categories"): `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` gives a session
// token that every GET sends in `X-aws-ec2-metadata-token`. cloud-init's DataSourceEc2 does the
// same (AWS_TOKEN_TTL_SECONDS = 21600, a 401 drops the cached token and fetches a new one); we do
// not fall back to IMDSv1, which AWS recommends turning off.
//
// The token is a credential: it lives in one private field for one read, is sent only in that
// header, and never reaches a log line or an error (fetch-capped keeps headers out of errors).
import { retryWithBackoff, withDeadline } from '../../lib/backoff.js';
import { AtomicError, DataLoss, DeadlineExceeded, NotFound, PermissionDenied, errorOfCode } from '../../lib/errors.js';
import type { InstanceData } from '../../core/provision/model.js';
import { notFound, type DatasourceResult, type NetworkReadOptions } from './datasource-result.js';
import { displayUrl, fetchCapped, httpStatusError, isRetryableFetchError } from '../http/fetch-capped.js';
import { normalizePublicKeys } from './instance-from-seed.js';

export const IMDS_DEFAULT_URL = 'http://169.254.169.254';
/** Six hours, cloud-init's AWS_TOKEN_TTL_SECONDS (the maximum IMDS allows). */
export const IMDS_TOKEN_TTL_SECONDS = 21600;
export const IMDS_TOKEN_HEADER = 'x-aws-ec2-metadata-token';
export const IMDS_TOKEN_TTL_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds';

/** Timeouts default to 2 s a request (IMDS is on the link, answers take milliseconds) and 30 s in all. */
export interface Ec2ImdsOptions extends NetworkReadOptions {
  /** Default http://169.254.169.254 (IPv6: http://[fd00:ec2::254]). */
  readonly baseUrl?: string;
  /** Cap on any one answer; user-data is at most 16 KB on EC2, so 16 MiB is generous. */
  readonly maxBytes?: number;
}

export const EC2_IMDS_DEFAULTS = Object.freeze({ requestTimeoutMs: 2000, totalTimeoutMs: 30_000, maxBytes: 16 * 1024 * 1024 });

/** The per-MAC keys we read from `network/interfaces/macs/<mac>/`. */
const MAC_KEYS = ['device-number', 'local-ipv4s', 'subnet-ipv4-cidr-block'] as const;

/**
 * Read this instance's metadata and user-data from IMDSv2. Not found when the service answers the
 * token PUT with 404 or 405 (something is there, but not IMDSv2); unreachable → Unavailable, no
 * answer in time → DeadlineExceeded, token refused → PermissionDenied.
 */
export async function readEc2Imds(opts: Ec2ImdsOptions): Promise<DatasourceResult> {
  const base = new URL(opts.baseUrl ?? IMDS_DEFAULT_URL);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  const source = displayUrl(base);
  const totalTimeoutMs = opts.totalTimeoutMs ?? EC2_IMDS_DEFAULTS.totalTimeoutMs;
  return withDeadline({ timeoutMs: totalTimeoutMs, signal: opts.signal, what: 'reading EC2 instance metadata', subject: source }, async (signal) => {
    const session = new ImdsSession(base, opts, signal, Date.now() + totalTimeoutMs);
    if (!(await session.start())) return notFound(`Ec2: ${source} has no IMDSv2 token endpoint`);
    return { found: true, instance: await crawl(session, source) };
  });
}

async function crawl(s: ImdsSession, source: string): Promise<InstanceData> {
  const metadata: Record<string, unknown> = {};
  const instanceId = await s.getText('meta-data/instance-id');
  if (instanceId === undefined || instanceId.trim() === '') throw new DataLoss('IMDS has no instance-id', { subject: `${source}latest/meta-data/instance-id` });
  metadata['instance-id'] = instanceId.trim();
  const hostname = await s.getText('meta-data/local-hostname');
  if (hostname !== undefined) metadata['local-hostname'] = decodeLeaf(hostname);

  // public-keys/ lists `N=name`; the key is at public-keys/N/openssh-key. cloud-init's
  // MetadataMaterializer stores it under the name, so do we.
  const keys: Record<string, unknown> = {};
  for (const line of listing(await s.getText('meta-data/public-keys/'))) {
    const m = /^(\d+)=(.*)$/.exec(line);
    if (m === null) continue;
    const key = await s.getText(`meta-data/public-keys/${m[1] ?? ''}/openssh-key`);
    if (key !== undefined) keys[m[2] ?? ''] = decodeLeaf(key);
  }
  if (Object.keys(keys).length > 0) metadata['public-keys'] = keys;

  const macs: Record<string, Record<string, unknown>> = {};
  for (const entry of listing(await s.getText('meta-data/network/interfaces/macs/'))) {
    const mac = entry.replace(/\/$/, '');
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) continue;
    const values: Record<string, unknown> = {};
    for (const k of MAC_KEYS) {
      const v = await s.getText(`meta-data/network/interfaces/macs/${mac}/${k}`);
      if (v !== undefined) values[k] = decodeLeaf(v);
    }
    macs[mac] = values;
  }
  if (Object.keys(macs).length > 0) metadata.network = { interfaces: { macs } };

  const userData = await s.get('user-data');
  const localHostname = metadata['local-hostname'];
  return {
    datasource: 'Ec2',
    source,
    instanceId: instanceId.trim(),
    ...(typeof localHostname === 'string' && localHostname !== '' ? { localHostname } : {}),
    metadata,
    publicKeys: normalizePublicKeys(metadata['public-keys']),
    ...(userData === undefined ? {} : { userData }),
  };
}

/** Lines of a directory listing, blanks dropped. */
function listing(text: string | undefined): string[] {
  return (text ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

/**
 * cloud-init's MetadataLeafDecoder: a `{...}` value that parses is JSON, a value with newlines is a
 * list of lines, anything else the string.
 */
export function decodeLeaf(text: string): unknown {
  if (text === '') return '';
  const t = text.trim();
  if (t.startsWith('{') && t.endsWith('}')) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      // not JSON after all: kept as text
    }
  }
  return text.includes('\n') ? text.split(/\r?\n/).filter((l, i, a) => !(l === '' && i === a.length - 1)) : text;
}

/** One IMDSv2 session: the token and the requests that use it. */
class ImdsSession {
  /** The session token; private so that no logged or inspected object carries it. */
  #token: string | undefined;

  constructor(
    private readonly base: URL,
    private readonly opts: Ec2ImdsOptions,
    private readonly signal: AbortSignal,
    private readonly deadlineAt: number,
  ) {}

  /** Fetch the first token; false when the service has no token endpoint. */
  async start(): Promise<boolean> {
    try {
      await this.refreshToken();
      return true;
    } catch (e) {
      if (e instanceof NotFound) return false;
      throw e;
    }
  }

  private async refreshToken(): Promise<void> {
    this.#token = undefined;
    const path = 'api/token';
    try {
      const body = await this.request('PUT', path, { [IMDS_TOKEN_TTL_HEADER]: String(IMDS_TOKEN_TTL_SECONDS) }, 'the IMDSv2 token', (status, subject) => {
        // AWS: 403 when IMDS is turned off for the instance or the PUT carried X-Forwarded-For.
        if (status === 403) return new PermissionDenied('IMDSv2 refused a token (403): is the metadata service turned off for this instance (http-endpoint disabled)?', { subject });
        if (status === 404 || status === 405) return new NotFound(`no IMDSv2 token endpoint (the server answered ${status})`, { subject });
        return undefined;
      });
      const token = body?.toString('latin1').trim() ?? '';
      // A header value must be visible ASCII; anything else is not a token (and is not shown).
      if (!/^[\x21-\x7e]{1,4096}$/.test(token)) throw new DataLoss('the IMDSv2 token answer is not a token', { subject: this.subject(path) });
      this.#token = token;
    } catch (e) {
      // IMDS answers a PUT with a hop limit of 1 by default: from a container or a forwarded
      // network namespace the answer never arrives.
      if (e instanceof DeadlineExceeded) {
        throw errorOfCode(e.code, `${e.message}; the token answer may be dropped by the PUT response hop limit (metadata-options http-put-response-hop-limit) when atomicd is not in the host's network namespace`, { subject: e.subject ?? this.subject(path), cause: e });
      }
      throw e;
    }
  }

  /** GET latest/<path> as text; undefined for 404. */
  async getText(path: string): Promise<string | undefined> {
    return (await this.get(path))?.toString('utf8');
  }

  /** GET latest/<path> with the token; on a 401 (token expired) one new token and one more try. */
  async get(path: string): Promise<Buffer | undefined> {
    let refreshed = false;
    for (;;) {
      let unauthorized = false;
      const body = await this.request('GET', path, { [IMDS_TOKEN_HEADER]: this.#token ?? '' }, path, (status, subject) => {
        if (status === 401 && !refreshed) {
          unauthorized = true;
          return null;
        }
        if (status === 401) return new PermissionDenied('IMDS rejected a freshly issued token (401)', { subject });
        return undefined;
      });
      if (!unauthorized) return body;
      this.opts.log.info({ path }, 'IMDS token expired (401); fetching a new one');
      refreshed = true;
      await this.refreshToken();
    }
  }

  private subject(path: string): string {
    return displayUrl(new URL(`latest/${path}`, this.base));
  }

  /**
   * One request with retries. `onStatus` judges statuses first: an error to throw, null for "done,
   * no body", undefined for the default (2xx body, 404 none, else httpStatusError).
   */
  private async request(
    method: 'GET' | 'PUT',
    path: string,
    headers: Record<string, string>,
    what: string,
    onStatus: (status: number, subject: string) => AtomicError | null | undefined,
  ): Promise<Buffer | undefined> {
    const url = new URL(`latest/${path}`, this.base);
    const subject = displayUrl(url);
    const requestTimeoutMs = this.opts.requestTimeoutMs ?? EC2_IMDS_DEFAULTS.requestTimeoutMs;
    return retryWithBackoff(
      async ({ attempt, remainingMs }) => {
        const res = await fetchCapped({
          url,
          method,
          headers,
          maxBytes: this.opts.maxBytes ?? EC2_IMDS_DEFAULTS.maxBytes,
          timeoutMs: Math.max(1, Math.min(requestTimeoutMs, remainingMs)),
          signal: this.signal,
          what,
        });
        this.opts.log.debug({ method, path: `latest/${path}`, status: res.status, attempt }, 'IMDS request');
        const judged = onStatus(res.status, subject);
        if (judged === null) return undefined;
        if (judged !== undefined) throw judged;
        if (res.status >= 200 && res.status < 300) return res.body;
        if (res.status === 404) return undefined;
        throw httpStatusError(res.status, what, subject);
      },
      {
        ...(this.opts.retry === undefined ? {} : { policy: this.opts.retry }),
        totalTimeoutMs: Math.max(0, this.deadlineAt - Date.now()),
        signal: this.signal,
        retryable: isRetryableFetchError,
        onRetry: ({ attempt, delayMs, error }) =>
          this.opts.log.warn({ method, path: `latest/${path}`, attempt, delayMs, error: error instanceof Error ? error.message : String(error) }, 'IMDS request failed; retrying'),
        ...(this.opts.clock === undefined ? {} : { clock: this.opts.clock }),
        ...(this.opts.random === undefined ? {} : { random: this.opts.random }),
      },
    );
  }
}
