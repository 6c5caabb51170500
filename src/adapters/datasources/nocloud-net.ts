// cloud-init's NoCloud-net: a seedfrom URL (`ds=nocloud-net;s=http://10.0.2.2:8000/`) the seed
// files are fetched from. cloud-init's util.read_seeded appends each file name to the URL (or
// puts it in place of a `%s`), so the URL must end with '/'. `file://` and `/` seedfroms are
// local seeds (NoCloud's supported_seed_starts) and are read like a seed directory.
//
// Files: meta-data and user-data are required (cloud-init's readurl raises on their 404, and the
// docs say both must exist, even if empty); vendor-data and network-config are optional, a 404
// means absent. `__dmi.<name>__` in the URL is replaced from /sys/class/dmi/id (cloud-init 23.1
// dmi.sub_dmi_vars; later than Debian's 22.4, documented for NoCloud since).
import { retryWithBackoff, withDeadline } from '../../lib/backoff.js';
import { InvalidArgument, NotFound } from '../../lib/errors.js';
import { DMI_SYSFS_NAMES, dmiVariablesIn, seedfromKind, substituteDmiVariables } from '../../core/provision/ds-hint.js';
import type { SeedFileName } from '../../core/seed/seed-files.js';
import { notFound, type DatasourceLog, type DatasourceResult, type NetworkReadOptions } from './datasource-result.js';
import { displayUrl, fetchCapped, httpStatusError, isRetryableFetchError } from '../http/fetch-capped.js';
import { MAX_SEED_FILE_BYTES, instanceFromSeed, isDisabled } from './instance-from-seed.js';
import { readNoCloudSeed } from './nocloud-local.js';
import { DEFAULT_DMI_DIR, readDmiValue } from './read-dmi.js';

/** Timeouts default to 10 s a request and 60 s in all. */
export interface NoCloudNetOptions extends NetworkReadOptions {
  /** `http(s)://host/path/`, `file:///path/` or `/path/`; may hold `__dmi.<name>__` variables. */
  readonly seedfrom: string;
  /** Meta-data from the `ds=` hint; its keys win over the fetched meta-data. */
  readonly overrides?: Readonly<Record<string, string | null>>;
  readonly dmiDir?: string;
  readonly maxFileBytes?: number;
}

export const NOCLOUD_NET_DEFAULTS = Object.freeze({ requestTimeoutMs: 10_000, totalTimeoutMs: 60_000 });

/** The seedfrom with its `__dmi.<name>__` variables replaced (values read from `dmiDir`). */
export async function expandSeedfrom(seedfrom: string, dmiDir: string, log: DatasourceLog): Promise<string> {
  const names = dmiVariablesIn(seedfrom);
  if (names.length === 0) return seedfrom;
  const values = new Map<string, string | undefined>();
  for (const name of names) {
    const sysfs = DMI_SYSFS_NAMES[name];
    if (sysfs !== undefined) values.set(name, await readDmiValue(dmiDir, sysfs));
  }
  const { value, ignored } = substituteDmiVariables(seedfrom, values);
  if (ignored.length > 0) log.warn({ ignored, known: Object.keys(DMI_SYSFS_NAMES) }, 'seedfrom has __dmi variables that are not DMI keys; left as written');
  return value;
}

/** util.read_seeded: the URL of one seed file. */
export function seedFileUrl(base: string, name: SeedFileName): string {
  return base.includes('%s') ? base.replace('%s', name) : `${base}${name}`;
}

export async function readNoCloudNet(opts: NoCloudNetOptions): Promise<DatasourceResult> {
  const seedfrom = await expandSeedfrom(opts.seedfrom, opts.dmiDir ?? DEFAULT_DMI_DIR, opts.log);
  const kind = seedfromKind(seedfrom);
  if (kind === undefined) {
    throw new InvalidArgument('seedfrom is neither an http(s) URL nor a local path (file:// or /)', { subject: redactSeedfrom(seedfrom) });
  }
  if (kind === 'local') {
    // url_helper.read_file_or_url: the path is what follows file://, taken as it is.
    const path = seedfrom.startsWith('file://') ? seedfrom.slice('file://'.length) : seedfrom;
    const instance = await readNoCloudSeed(path, {
      ...(opts.overrides === undefined ? {} : { overrides: opts.overrides }),
      ...(opts.maxFileBytes === undefined ? {} : { maxFileBytes: opts.maxFileBytes }),
      signal: opts.signal,
      log: opts.log,
    });
    return isDisabled(instance) ? notFound(`${path}: dsmode is disabled`) : { found: true, instance };
  }
  return readOverHttp(seedfrom, opts);
}

/** A seedfrom for messages: URLs through displayUrl (no credentials, no query), paths as they are. */
function redactSeedfrom(seedfrom: string): string {
  try {
    return displayUrl(new URL(seedfrom));
  } catch {
    return seedfrom.replace(/\?.*$/, '?…');
  }
}

async function readOverHttp(base: string, opts: NoCloudNetOptions): Promise<DatasourceResult> {
  let baseUrl: URL;
  try {
    baseUrl = new URL(base.replace('%s', ''));
  } catch (e) {
    throw new InvalidArgument('seedfrom is not a valid URL', { subject: redactSeedfrom(base), cause: e });
  }
  const source = displayUrl(baseUrl);
  if (!base.endsWith('/') && !base.includes('%s')) {
    opts.log.warn({ seedfrom: source }, "seedfrom does not end with '/': file names are appended to it as they are (as cloud-init does)");
  }
  const requestTimeoutMs = opts.requestTimeoutMs ?? NOCLOUD_NET_DEFAULTS.requestTimeoutMs;
  const totalTimeoutMs = opts.totalTimeoutMs ?? NOCLOUD_NET_DEFAULTS.totalTimeoutMs;
  const maxBytes = opts.maxFileBytes ?? MAX_SEED_FILE_BYTES;
  const startedAt = Date.now();

  return withDeadline({ timeoutMs: totalTimeoutMs, signal: opts.signal, what: `reading the NoCloud-net seed`, subject: source }, async (signal) => {
    const get = async (name: SeedFileName, required: boolean): Promise<Buffer | undefined> => {
      let url: URL;
      try {
        url = new URL(seedFileUrl(base, name));
      } catch (e) {
        throw new InvalidArgument(`seedfrom gives no valid URL for ${name}`, { subject: source, cause: e });
      }
      const subject = displayUrl(url);
      const body = await retryWithBackoff(
        async ({ remainingMs }) => {
          const res = await fetchCapped({ url, maxBytes, timeoutMs: Math.max(1, Math.min(requestTimeoutMs, remainingMs)), signal, maxRedirects: 5, what: name });
          if (res.status >= 200 && res.status < 300) return res.body;
          if (res.status === 404 || res.status === 410) return undefined;
          throw httpStatusError(res.status, name, subject);
        },
        {
          ...(opts.retry === undefined ? {} : { policy: opts.retry }),
          totalTimeoutMs: Math.max(0, totalTimeoutMs - (Date.now() - startedAt)),
          signal,
          retryable: isRetryableFetchError,
          onRetry: ({ attempt, delayMs, error }) => opts.log.warn({ url: subject, attempt, delayMs, error: error instanceof Error ? error.message : String(error) }, 'seed request failed; retrying'),
          ...(opts.clock === undefined ? {} : { clock: opts.clock }),
          ...(opts.random === undefined ? {} : { random: opts.random }),
        },
      );
      if (body === undefined && required) {
        throw new NotFound(`${name} is missing (404): NoCloud needs both meta-data and user-data at the seedfrom URL, even if empty`, { subject });
      }
      opts.log.debug({ url: subject, sizeBytes: body?.length ?? null }, body === undefined ? 'seed file absent' : 'seed file fetched');
      return body;
    };
    const files: Partial<Record<SeedFileName, Uint8Array>> = {};
    // One after the other: a seed server on a laptop, and meta-data first so its problems come first.
    for (const [name, required] of [['meta-data', true], ['user-data', true], ['vendor-data', false], ['network-config', false]] as const) {
      const data = await get(name, required);
      if (data !== undefined) files[name] = data;
    }
    const instance = await instanceFromSeed({
      datasource: 'NoCloudNet',
      source,
      files,
      ...(opts.overrides === undefined ? {} : { overrides: opts.overrides }),
      maxFileBytes: maxBytes,
      log: opts.log,
    });
    return isDisabled(instance) ? notFound(`${source}: dsmode is disabled`) : { found: true, instance };
  });
}
