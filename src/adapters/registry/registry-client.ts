// A client of the OCI distribution API (distribution-spec spec.md "Pull"): the /v2/ version check,
// token and basic authentication (distribution docs/spec/auth/token.md), manifests fetched with
// every media type we understand in Accept, and blobs streamed to disk with their digest checked
// as the bytes arrive. Interrupted blob downloads keep their partial file and continue with an
// HTTP Range request (RFC 9110 section 14), which the distribution registry and blob stores (S3,
// GCS) serve; a server that ignores Range and answers 200 makes us start over.
import { createReadStream } from 'node:fs';
import { open, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { AtomicError, DataLoss, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, ResourceExhausted, Unavailable, fromSystemError } from '../../lib/errors.js';
import { retryWithBackoff, type BackoffPolicy } from '../../lib/backoff.js';
import { digester, parseDigest } from '../../formats/oci/digest.js';
import { MANIFEST_ACCEPT } from '../../formats/oci/media-types.js';
import type { Descriptor } from '../../formats/oci/manifest.js';
import { fetchCapped, type CappedResponse } from '../http/fetch-capped.js';
import { openStream, type StreamResponse } from '../http/open-stream.js';
import { displayUrl } from '../http/display-url.js';
import { httpStatusError, isRetryableFetchError, isTlsErrorCode } from '../http/http-errors.js';
import { apiHost, isInsecureRegistry } from './registry-host.js';
import { parseWwwAuthenticate, type AuthChallenge } from './www-authenticate.js';

export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

/** A repository in a registry, as named by a reference. */
export interface RepositoryLocation {
  /** host[:port] as written in the reference (`docker.io`, `127.0.0.1:5000`). */
  readonly domain: string;
  /** `library/busybox` */
  readonly path: string;
  /** A scheme the user wrote (`http://host/...`); otherwise chosen by the insecure-registry rule. */
  readonly scheme?: 'http' | 'https';
}

export interface RegistryClientOptions {
  /** host[:port] or IPv4 CIDR entries that may be reached without verified TLS (Docker's insecure-registries). */
  readonly insecureRegistries?: readonly string[];
  /** Credentials for a registry, by its domain as written in references. */
  readonly credentials?: (domain: string) => RegistryCredentials | undefined;
  /** Each small request (ping, token, manifest, config), connect to last byte. */
  readonly requestTimeoutMs?: number;
  /** Longest stall of a blob download before it is retried. */
  readonly idleTimeoutMs?: number;
  readonly retry?: Partial<BackoffPolicy>;
}

export interface FetchedManifest {
  readonly bytes: Buffer;
  /** The Content-Type it was served with, if any. */
  readonly contentType: string | undefined;
  /** sha256 of the bytes (or of the algorithm of the digest asked for). */
  readonly digest: string;
}

export interface BlobDownloadOptions {
  readonly signal?: AbortSignal;
  /** Bytes of the blob received so far, after each chunk. */
  readonly onProgress?: (currentBytes: number, totalBytes: number) => void;
  /**
   * Every byte of the blob as it becomes known, in order within one attempt: the bytes of a
   * partial file being resumed (read back from byte 0), then those from the network. A retry or a
   * restart from byte 0 begins again at a lower offset, so a consumer that needs one contiguous
   * stream must check `offset`. The download waits for the returned promise (backpressure), and
   * may then reuse the chunk's memory: copy what must outlive it. These bytes are not verified
   * yet: only a download that resolves has had the digest checked.
   */
  readonly onBytes?: (chunk: Buffer, offset: number) => Promise<void> | void;
  /**
   * fsync the file before resolving (default true). false leaves that to the caller, which must
   * make the file durable (e.g. one syncfs for several files) before it gives it a name others rely on.
   */
  readonly sync?: boolean;
}

export interface BlobDownloadResult {
  /** Bytes received over the network (all attempts). */
  readonly bytesFetched: number;
  /** Bytes already on disk when the download began (a resumed partial file). */
  readonly resumedAtBytes: number;
}

/** distribution-spec: registries should accept manifests up to 4 MiB; we read no more. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_TOKEN_BYTES = 1024 * 1024;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
const DEFAULT_RETRY: Partial<BackoffPolicy> = { initialDelayMs: 200, maxDelayMs: 5_000, maxAttempts: 5 };
/** distribution token.md: a token without expires_in lasts 60 seconds. */
const DEFAULT_TOKEN_LIFETIME_S = 60;
/** Blob bytes gathered into one positioned write (and one onBytes call): fewer thread-pool round trips than one per socket chunk. */
const BATCH_BYTES = 1024 * 1024;
/** Batches being written (and consumed by onBytes) while the next one fills. */
const BATCHES_IN_FLIGHT = 3;

interface Endpoint {
  readonly domain: string;
  /** `https://host/v2/` */
  readonly base: URL;
  readonly insecure: boolean;
  /** What /v2/ answered a request without credentials with; replaced when a later 401 says otherwise. */
  challenges: AuthChallenge[];
}

interface CachedToken {
  readonly token: string;
  readonly expiresAtMs: number;
}

export class RegistryClient {
  private readonly insecureRegistries: readonly string[];
  private readonly requestTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly endpoints = new Map<string, Promise<Endpoint>>();
  private readonly tokens = new Map<string, CachedToken>();

  constructor(private readonly opts: RegistryClientOptions = {}) {
    this.insecureRegistries = opts.insecureRegistries ?? [];
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  }

  /**
   * Check that `repo.domain` serves the distribution API and learn how it wants to be
   * authenticated (GET /v2/). Cached per client; a failure is not.
   */
  async ping(repo: RepositoryLocation, signal?: AbortSignal): Promise<void> {
    await this.endpoint(repo, signal ?? new AbortController().signal);
  }

  /** GET a manifest or index by tag or digest, checking the digest of what came back. */
  async getManifest(repo: RepositoryLocation, reference: string, signal: AbortSignal = new AbortController().signal): Promise<FetchedManifest> {
    const ep = await this.endpoint(repo, signal);
    const url = new URL(`${repo.path}/manifests/${reference}`, ep.base);
    const shown = `${repo.domain}/${repo.path}${reference.includes(':') ? '@' : ':'}${reference}`;
    const res = await this.retrying(signal, (s) =>
      this.withAuth(ep, repo, s, (auth) =>
        fetchCapped({
          url,
          headers: { accept: MANIFEST_ACCEPT.join(', '), ...auth },
          maxBytes: MAX_MANIFEST_BYTES,
          timeoutMs: this.requestTimeoutMs,
          signal: s,
          maxRedirects: 5,
          what: `manifest ${shown}`,
          tlsRejectUnauthorized: !ep.insecure,
          checkRedirect: (from, to) => this.checkRedirect(from, to),
        }),
      ),
    );
    if (res.status !== 200) throw statusError(res.status, res.body, `manifest for ${shown}`, displayUrl(url), repo);
    const contentType = headerValue(res.headers, 'content-type');
    // distribution-spec: pulling by digest, the client MUST verify the content against it.
    const algorithm = reference.includes(':') ? parseDigest(reference, 'manifest reference').algorithm : 'sha256';
    const digest = `${algorithm}:${digester(algorithm).update(res.body).digest('hex')}`;
    if (reference.includes(':') && digest !== reference) {
      throw new DataLoss(`manifest ${shown}: the registry served content whose digest is ${digest}`, { subject: displayUrl(url) });
    }
    const served = headerValue(res.headers, 'docker-content-digest');
    if (served !== undefined && served.startsWith(`${algorithm}:`) && served !== digest) {
      throw new DataLoss(`manifest ${shown}: Docker-Content-Digest says ${served}, the content's digest is ${digest}`, { subject: displayUrl(url) });
    }
    return { bytes: res.body, contentType, digest };
  }

  /** A small blob (an image config) in memory, checked against its descriptor. */
  async getBlob(repo: RepositoryLocation, desc: Descriptor, maxBytes: number, signal: AbortSignal = new AbortController().signal): Promise<Buffer> {
    const { algorithm } = parseDigest(desc.digest, 'blob digest');
    if (desc.size > maxBytes) throw new ResourceExhausted(`blob ${desc.digest} is ${desc.size} bytes, more than the limit of ${maxBytes}`);
    const ep = await this.endpoint(repo, signal);
    const url = new URL(`${repo.path}/blobs/${desc.digest}`, ep.base);
    let res: CappedResponse;
    try {
      res = await this.retrying(signal, (s) =>
        this.withAuth(ep, repo, s, (auth) =>
          fetchCapped({
            url,
            headers: auth,
            maxBytes: desc.size,
            timeoutMs: this.requestTimeoutMs,
            signal: s,
            maxRedirects: 5,
            what: `blob ${desc.digest}`,
            tlsRejectUnauthorized: !ep.insecure,
            checkRedirect: (from, to) => this.checkRedirect(from, to),
          }),
        ),
      );
    } catch (e) {
      if (e instanceof ResourceExhausted) throw new DataLoss(`blob ${desc.digest}: the registry sent more than the ${desc.size} bytes of its descriptor`, { subject: displayUrl(url), cause: e });
      throw e;
    }
    if (res.status !== 200) throw statusError(res.status, res.body, `blob ${desc.digest}`, displayUrl(url), repo);
    if (res.body.length !== desc.size) throw new DataLoss(`blob ${desc.digest}: the registry sent ${res.body.length} bytes, its descriptor says ${desc.size}`, { subject: displayUrl(url) });
    const got = `${algorithm}:${digester(algorithm).update(res.body).digest('hex')}`;
    if (got !== desc.digest) throw new DataLoss(`blob ${desc.digest}: the registry sent content whose digest is ${got}`, { subject: displayUrl(url) });
    return res.body;
  }

  /**
   * Download a blob into `partialPath`, continuing a partial file left by an earlier attempt. On
   * success the file holds exactly the blob, verified and (unless `sync: false`) synced; on a digest or size mismatch the
   * file is removed and DataLoss thrown; on a network failure (after retries) the file is kept
   * for the next attempt.
   */
  async downloadBlob(repo: RepositoryLocation, desc: Descriptor, partialPath: string, opts: BlobDownloadOptions = {}): Promise<BlobDownloadResult> {
    const signal = opts.signal ?? new AbortController().signal;
    parseDigest(desc.digest, 'blob digest');
    const ep = await this.endpoint(repo, signal);
    const url = new URL(`${repo.path}/blobs/${desc.digest}`, ep.base);
    const state = { fetched: 0, resumedAt: undefined as number | undefined, resumedThisRound: false };
    for (let restarted = false; ; restarted = true) {
      state.resumedThisRound = false;
      try {
        await this.retrying(signal, async (s) => {
          const r = await this.downloadAttempt(ep, repo, desc, url, partialPath, s, opts.onProgress, opts.onBytes, opts.sync ?? true, (startedAt) => {
            if (startedAt > 0) state.resumedThisRound = true;
            state.resumedAt ??= startedAt;
          });
          state.fetched += r.fetched;
        });
        return { bytesFetched: state.fetched, resumedAtBytes: state.resumedAt ?? 0 };
      } catch (e) {
        // A partial file from an earlier run may be what was wrong (a crash mid-write): the
        // mismatch removed it, and one more try from zero tells it from a bad registry.
        if (e instanceof DataLoss && state.resumedThisRound && !restarted) continue;
        throw e;
      }
    }
  }

  private async downloadAttempt(
    ep: Endpoint,
    repo: RepositoryLocation,
    desc: Descriptor,
    url: URL,
    partialPath: string,
    signal: AbortSignal,
    onProgress: ((current: number, total: number) => void) | undefined,
    onBytes: ((chunk: Buffer, offset: number) => Promise<void> | void) | undefined,
    sync: boolean,
    onStart: (startedAt: number) => void,
  ): Promise<{ fetched: number; startedAt: number }> {
    const { algorithm } = parseDigest(desc.digest, 'blob digest');
    const subject = displayUrl(url);
    let have = await fileSize(partialPath);
    if (have > desc.size) {
      await truncate(partialPath, 0);
      have = 0;
    }
    let hash = digester(algorithm);
    if (have > 0) {
      // Node cannot save a hash state, so the bytes kept from before are hashed again (and handed
      // to onBytes: its consumer sees the blob from byte 0).
      let pos = 0;
      try {
        for await (const chunk of createReadStream(partialPath, { end: have - 1, highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
          hash.update(chunk);
          await onBytes?.(chunk, pos);
          pos += chunk.length;
        }
      } catch (e) {
        throw e instanceof AtomicError ? e : fromSystemError(e, partialPath, 'reading the partial download');
      }
    }
    onStart(have);
    if (have === desc.size) return this.verify(hash.digest('hex'), algorithm, desc, partialPath, subject, have, 0);
    const res = await this.withAuth(ep, repo, signal, (auth) =>
      openStream({
        url,
        headers: { ...auth, ...(have > 0 ? { range: `bytes=${have}-` } : {}) },
        headersTimeoutMs: this.requestTimeoutMs,
        idleTimeoutMs: this.idleTimeoutMs,
        signal,
        maxRedirects: 5,
        what: `blob ${desc.digest}`,
        tlsRejectUnauthorized: !ep.insecure,
        checkRedirect: (from, to) => this.checkRedirect(from, to),
      }),
    );
    let offset: number;
    if (res.status === 206 && have > 0) {
      const range = parseContentRange(headerValue(res.headers, 'content-range'));
      if (range === undefined || range.start !== have || (range.total !== undefined && range.total !== desc.size)) {
        res.close();
        await truncate(partialPath, 0);
        throw new Unavailable(`blob ${desc.digest}: the registry answered the range request with ${headerValue(res.headers, 'content-range') ?? 'no Content-Range'}; starting over`, { subject });
      }
      offset = have;
    } else if (res.status === 200) {
      // Range ignored (or not sent): the whole blob follows, so the kept bytes are dropped.
      offset = 0;
      if (have > 0) hash = digester(algorithm);
    } else if (res.status === 416) {
      res.close();
      await truncate(partialPath, 0);
      throw new Unavailable(`blob ${desc.digest}: the registry refused to resume at byte ${have}; starting over`, { subject });
    } else {
      const body = await readSmall(res);
      throw statusError(res.status, body, `blob ${desc.digest}`, subject, repo);
    }
    const declared = Number(headerValue(res.headers, 'content-length'));
    if (headerValue(res.headers, 'content-length') !== undefined && Number.isFinite(declared) && offset + declared !== desc.size) {
      res.close();
      await rm(partialPath, { force: true });
      throw new DataLoss(`blob ${desc.digest}: the registry says it is ${offset + declared} bytes, its descriptor says ${desc.size}; nothing was kept`, { subject });
    }
    let handle;
    try {
      handle = await open(partialPath, offset === 0 ? 'w' : 'r+', 0o600);
    } catch (e) {
      res.close();
      throw fromSystemError(e, partialPath, 'opening the partial download');
    }
    let at = offset;
    let fetched = 0;
    let oversized = false;
    const writer = new BatchedBlobWriter(handle, offset, onBytes);
    try {
      try {
        for await (const chunk of res.body) {
          if (at + chunk.length > desc.size) {
            oversized = true;
            break;
          }
          hash.update(chunk);
          await writer.add(chunk);
          at += chunk.length;
          fetched += chunk.length;
          onProgress?.(at, desc.size);
        }
        await writer.finish();
        if (sync) await handle.sync();
      } catch (e) {
        // Bytes received before a failure stay on disk for the next attempt's Range request.
        if (!oversized) await writer.finish(false).catch(() => undefined);
        throw e;
      } finally {
        await writer.settle();
        await handle.close().catch(() => undefined);
      }
    } catch (e) {
      throw fromSystemError(e, partialPath, 'writing the partial download');
    }
    if (oversized) {
      await rm(partialPath, { force: true });
      throw new DataLoss(`blob ${desc.digest}: the registry sent more than the ${desc.size} bytes of its descriptor; nothing was kept`, { subject });
    }
    if (at < desc.size) throw new Unavailable(`blob ${desc.digest}: the transfer ended at byte ${at} of ${desc.size}`, { subject });
    return this.verify(hash.digest('hex'), algorithm, desc, partialPath, subject, offset, fetched);
  }

  private async verify(hex: string, algorithm: string, desc: Descriptor, partialPath: string, subject: string, startedAt: number, fetched: number): Promise<{ fetched: number; startedAt: number }> {
    const got = `${algorithm}:${hex}`;
    if (got !== desc.digest) {
      await rm(partialPath, { force: true });
      throw new DataLoss(`blob ${desc.digest}: the registry sent content whose digest is ${got}; nothing was kept`, { subject });
    }
    return { fetched, startedAt };
  }

  private retrying<T>(signal: AbortSignal, fn: (s: AbortSignal) => Promise<T>): Promise<T> {
    return retryWithBackoff(() => fn(signal), { policy: { ...DEFAULT_RETRY, ...this.opts.retry }, signal, retryable: isRetryableFetchError });
  }

  /** Plain HTTP is followed only to hosts allowed it, and never as a downgrade from HTTPS. */
  private checkRedirect(from: URL, to: URL): void {
    if (to.protocol === 'http:' && !isInsecureRegistry(to.host, this.insecureRegistries)) {
      throw new FailedPrecondition(`refusing a redirect to plain HTTP at ${to.host}: not a loopback address and not an insecure registry`, { subject: displayUrl(from) });
    }
  }

  private endpoint(repo: RepositoryLocation, signal: AbortSignal): Promise<Endpoint> {
    const key = `${repo.scheme ?? ''}|${repo.domain}`;
    let p = this.endpoints.get(key);
    if (p === undefined) {
      p = this.resolveEndpoint(repo, signal);
      this.endpoints.set(key, p);
      p.catch(() => this.endpoints.delete(key));
    }
    return p;
  }

  private async resolveEndpoint(repo: RepositoryLocation, signal: AbortSignal): Promise<Endpoint> {
    const domain = repo.domain;
    const insecure = isInsecureRegistry(domain, this.insecureRegistries);
    if (repo.scheme === 'http' && !insecure) {
      throw new FailedPrecondition(
        `refusing plain HTTP to the registry ${domain}: it is not a loopback address and not listed as an insecure registry (list "${domain}" in the insecure registries to allow it)`,
        { subject: `http://${domain}` },
      );
    }
    // Docker: an insecure registry is tried over HTTPS (certificate not checked), then over HTTP.
    const schemes: ('https' | 'http')[] = repo.scheme !== undefined ? [repo.scheme] : insecure ? ['https', 'http'] : ['https'];
    for (let i = 0; i < schemes.length; i++) {
      const scheme = schemes[i]!;
      const base = new URL(`${scheme}://${apiHost(domain)}/v2/`);
      const fallback = i < schemes.length - 1;
      let res: CappedResponse;
      try {
        const ping = (s: AbortSignal): Promise<CappedResponse> =>
          fetchCapped({ url: base, maxBytes: 64 * 1024, timeoutMs: this.requestTimeoutMs, signal: s, what: 'the registry API check (/v2/)', tlsRejectUnauthorized: !insecure, maxRedirects: 3 });
        // The HTTPS try of a plain-HTTP registry fails at once: no retries before falling back.
        res = fallback ? await ping(signal) : await this.retrying(signal, ping);
      } catch (e) {
        if (fallback && isConnectionFailure(e)) continue;
        throw e;
      }
      if (res.status === 200) return { domain, base, insecure, challenges: [] };
      if (res.status === 401) return { domain, base, insecure, challenges: parseWwwAuthenticate(res.headers['www-authenticate']) };
      if (res.status === 404) throw new InvalidArgument(`${domain} does not serve the registry API (GET /v2/ answered 404)`, { subject: displayUrl(base) });
      throw httpStatusError(res.status, `the registry API check of ${domain}`, displayUrl(base));
    }
    throw new Unavailable(`cannot reach the registry ${domain}`, { subject: domain });
  }

  /** Send with the credentials the registry asked for; on a 401, refresh them once and resend. */
  private async withAuth<R extends { readonly status: number; readonly headers: IncomingHttpHeaders }>(
    ep: Endpoint,
    repo: RepositoryLocation,
    signal: AbortSignal,
    send: (auth: Record<string, string>) => Promise<R>,
  ): Promise<R> {
    const first = await this.authHeaders(ep, repo, signal, false);
    const res = await send(first);
    if (res.status !== 401) return res;
    discard(res);
    const challenges = parseWwwAuthenticate(res.headers['www-authenticate']);
    if (challenges.length > 0) ep.challenges = challenges;
    // Sent again even with nothing new to offer: the second answer is the one the caller judges.
    return send(await this.authHeaders(ep, repo, signal, true));
  }

  private async authHeaders(ep: Endpoint, repo: RepositoryLocation, signal: AbortSignal, fresh: boolean): Promise<Record<string, string>> {
    const creds = this.opts.credentials?.(repo.domain);
    const bearer = ep.challenges.find((c) => c.scheme === 'bearer');
    if (bearer !== undefined) {
      const token = await this.token(bearer, `repository:${repo.path}:pull`, creds, signal, fresh);
      return { authorization: `Bearer ${token}` };
    }
    const basic = ep.challenges.find((c) => c.scheme === 'basic');
    if (basic !== undefined && creds !== undefined) {
      if (ep.base.protocol === 'http:' && !ep.insecure) throw new FailedPrecondition(`refusing to send credentials for ${repo.domain} over plain HTTP`);
      return { authorization: basicAuth(creds) };
    }
    return {};
  }

  /** A bearer token for `scope` from the challenge's realm (distribution token.md "Requesting a Token"). */
  private async token(challenge: AuthChallenge, scope: string, creds: RegistryCredentials | undefined, signal: AbortSignal, fresh: boolean): Promise<string> {
    const realm = challenge.params.realm;
    if (realm === undefined || realm === '') throw new InvalidArgument('the registry asked for a bearer token but named no realm to get it from');
    let url: URL;
    try {
      url = new URL(realm);
    } catch (e) {
      throw new InvalidArgument(`the registry's token realm ${JSON.stringify(realm)} is not a URL`, { cause: e });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidArgument(`the registry's token realm must be http or https, not ${url.protocol}`);
    if (url.protocol === 'http:' && !isInsecureRegistry(url.host, this.insecureRegistries)) {
      throw new FailedPrecondition(`refusing to get a registry token over plain HTTP from ${url.host}: not a loopback address and not an insecure registry`, { subject: displayUrl(url) });
    }
    const service = challenge.params.service;
    const key = JSON.stringify([realm, service ?? '', scope, creds?.username ?? '']);
    const cached = this.tokens.get(key);
    if (!fresh && cached !== undefined && cached.expiresAtMs > Date.now()) return cached.token;
    if (service !== undefined) url.searchParams.set('service', service);
    url.searchParams.set('scope', scope);
    if (creds !== undefined) url.searchParams.set('account', creds.username);
    const res = await this.retrying(signal, (s) =>
      fetchCapped({
        url,
        headers: creds === undefined ? {} : { authorization: basicAuth(creds) },
        maxBytes: MAX_TOKEN_BYTES,
        timeoutMs: this.requestTimeoutMs,
        signal: s,
        maxRedirects: 3,
        what: 'the registry token',
        tlsRejectUnauthorized: !isInsecureRegistry(url.host, this.insecureRegistries),
        checkRedirect: (from, to) => this.checkRedirect(from, to),
      }),
    );
    if (res.status === 401 || res.status === 403) {
      throw new PermissionDenied(
        creds === undefined ? `the token server refused anonymous access to ${scope}` : `the token server refused the credentials of ${JSON.stringify(creds.username)} for ${scope}`,
        { subject: displayUrl(url) },
      );
    }
    if (res.status !== 200) throw httpStatusError(res.status, 'getting a registry token', displayUrl(url));
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body.toString('utf8'));
    } catch (e) {
      throw new InvalidArgument('the token server answered something that is not JSON', { subject: displayUrl(url), cause: e });
    }
    const body = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { token?: unknown; access_token?: unknown; expires_in?: unknown };
    // token.md: `access_token` is the OAuth 2.0 name of the same thing; either may be present.
    const token = typeof body.token === 'string' && body.token !== '' ? body.token : typeof body.access_token === 'string' ? body.access_token : '';
    if (token === '') throw new InvalidArgument('the token server answered without a token', { subject: displayUrl(url) });
    const lifetimeS = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_LIFETIME_S;
    // Renew a little early so a token does not expire between being chosen and being used.
    this.tokens.set(key, { token, expiresAtMs: Date.now() + Math.max(0, lifetimeS - 10) * 1000 });
    return token;
  }
}

/**
 * The blob's bytes, in order, gathered into a few reused buffers of BATCH_BYTES: each full buffer
 * is written at its offset (one pwrite instead of one per socket chunk) and handed to onBytes at
 * the same time, and reused once both are done. Memory stays at BATCHES_IN_FLIGHT buffers
 * whatever the blob size, and no buffer is allocated per chunk.
 */
class BatchedBlobWriter {
  private readonly free: Buffer[] = [];
  private allocated = 0;
  /** Dispatched buffers, oldest first. */
  private readonly inFlight: Promise<void>[] = [];
  private current: Buffer | undefined;
  private filled = 0;
  private position: number;

  constructor(
    private readonly handle: FileHandle,
    start: number,
    private readonly onBytes: ((chunk: Buffer, offset: number) => Promise<void> | void) | undefined,
  ) {
    this.position = start;
  }

  async add(chunk: Buffer): Promise<void> {
    let from = 0;
    while (from < chunk.length) {
      this.current ??= await this.take();
      const n = Math.min(chunk.length - from, this.current.length - this.filled);
      chunk.copy(this.current, this.filled, from, from + n);
      this.filled += n;
      from += n;
      if (this.filled === this.current.length) this.dispatch();
    }
  }

  /** Write what is gathered (handing it to onBytes unless told not to) and wait for every write; throws the first failure. */
  async finish(consume = true): Promise<void> {
    if (this.filled > 0) this.dispatch(consume);
    while (this.inFlight.length > 0) await this.inFlight[0];
  }

  /** Wait until nothing is in flight (before the file is closed), whatever happened. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.inFlight);
  }

  private async take(): Promise<Buffer> {
    for (;;) {
      const buf = this.free.pop();
      if (buf !== undefined) return buf;
      if (this.allocated < BATCHES_IN_FLIGHT) {
        this.allocated++;
        return Buffer.allocUnsafe(BATCH_BYTES);
      }
      await this.inFlight[0]; // its completion returns its buffer to `free`
    }
  }

  private dispatch(consume = true): void {
    const buf = this.current!;
    const view = buf.subarray(0, this.filled);
    const at = this.position;
    this.position += this.filled;
    this.current = undefined;
    this.filled = 0;
    const p: Promise<void> = Promise.all([writeAllAt(this.handle, view, at), consume ? this.onBytes?.(view, at) : undefined]).then(
      () => {
        this.inFlight.splice(this.inFlight.indexOf(p), 1);
        this.free.push(buf);
      },
      (e: unknown) => {
        this.inFlight.splice(this.inFlight.indexOf(p), 1);
        throw e;
      },
    );
    p.catch(() => undefined); // awaited by take, finish or settle; never unhandled
    this.inFlight.push(p);
  }
}

/** pwrite until every byte of `data` is at `position` onwards (a short write continues). */
async function writeAllAt(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

function basicAuth(c: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
}

function discard(res: { readonly status: number }): void {
  const maybe = res as Partial<StreamResponse>;
  maybe.close?.();
}

function isConnectionFailure(e: unknown): boolean {
  if (e instanceof Unavailable) return true;
  if (e instanceof FailedPrecondition) {
    const code = (e.cause as { code?: unknown } | undefined)?.code;
    return typeof code === 'string' && isTlsErrorCode(code);
  }
  return false;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw fromSystemError(e, path, 'checking the partial download');
  }
}

async function readSmall(res: StreamResponse): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const c of res.body) {
      chunks.push(c);
      total += c.length;
      if (total > 64 * 1024) break;
    }
  } catch {
    // The status is what matters.
  }
  return Buffer.concat(chunks);
}

/** `bytes START-END/TOTAL` (RFC 9110 section 14.4); TOTAL may be `*`. */
export function parseContentRange(value: string | undefined): { start: number; end: number; total: number | undefined } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (m === null) return undefined;
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) return undefined;
  return { start, end, total: m[3] === '*' ? undefined : Number(m[3]) };
}

/**
 * A failed status as an error, with the registry's own error codes (distribution-spec "Error
 * Codes": MANIFEST_UNKNOWN, NAME_UNKNOWN, DENIED ...) in the message.
 */
function statusError(status: number, body: Buffer, what: string, subject: string, repo: RepositoryLocation): AtomicError {
  const detail = registryErrors(body);
  const suffix = detail === '' ? '' : `: ${detail}`;
  if (status === 404) return new NotFound(`${what} not found${suffix}`, { subject });
  if (status === 401 || status === 403) {
    // Docker's wording: the registry cannot tell "no such repository" from "not yours".
    return new PermissionDenied(`pull access denied for ${repo.domain}/${repo.path}, repository does not exist or may require authorization${suffix}`, { subject });
  }
  if (status === 416) return new DataLoss(`${what}: range not satisfiable${suffix}`, { subject });
  const e = httpStatusError(status, what, subject);
  return detail === '' ? e : new (e.constructor as new (m: string, d: { subject: string }) => AtomicError)(`${e.message}${suffix}`, { subject });
}

function registryErrors(body: Buffer): string {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { errors?: { code?: unknown; message?: unknown }[] };
    if (!Array.isArray(doc.errors)) return '';
    return doc.errors
      .map((e) => [typeof e.code === 'string' ? e.code.toLowerCase().replace(/_/g, ' ') : '', typeof e.message === 'string' ? e.message : ''].filter((x) => x !== '').join(': '))
      .filter((x) => x !== '')
      .join('; ');
  } catch {
    return '';
  }
}

