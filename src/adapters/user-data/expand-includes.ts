// #include and x-include-url parts replaced by what their URLs hold, as cloud-init's
// UserDataProcessor does (_do_include): each URL is fetched, its content processed as user-data
// in its own right, and its parts take the include part's place. `#include-once` content is
// fetched once per instance and then read from the instance's cache (cloud-init keeps it under
// the instance's urlcache). A URL that cannot be fetched drops only its own content, with an error.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { displayUrl } from '../http/display-url.js';
import { parseUserData, type Problem, type UserDataPart } from '../../core/cloud-config/validate.js';
import { writeFileAtomically } from '../../lib/atomic-file.js';
import { requireCrypto } from '../../lib/builtin.js';
import { isAtomicError } from '../../lib/errors.js';

export interface ExpandOptions {
  /** Host directory for #include-once content, per instance. */
  readonly cacheDir: string;
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

/** Includes inside included content are followed this deep; cloud-init has no limit, a loop would hang it. */
const MAX_DEPTH = 5;

export async function expandIncludes(parts: readonly UserDataPart[], opts: ExpandOptions): Promise<{ parts: UserDataPart[]; problems: Problem[] }> {
  const problems: Problem[] = [];
  const out: UserDataPart[] = [];
  const walk = async (list: readonly UserDataPart[], depth: number): Promise<void> => {
    for (const part of list) {
      if (part.includes === undefined) {
        out.push(part);
        continue;
      }
      for (const inc of part.includes) {
        const at = { file: part.label, path: '', line: inc.line, column: inc.column };
        if (depth >= MAX_DEPTH) {
          problems.push({ ...at, severity: 'error', message: `${inc.url}: includes nested deeper than ${MAX_DEPTH} levels are not followed` });
          continue;
        }
        let body: Uint8Array;
        try {
          body = await fetchInclude(inc.url, inc.once, opts);
        } catch (e) {
          const why = isAtomicError(e) ? e.message : e instanceof Error ? e.message : String(e);
          problems.push({ ...at, severity: 'error', message: `could not include ${safeUrl(inc.url)}: ${why}; its content is left out` });
          continue;
        }
        const parsed = parseUserData(body, `${part.label}#include(${safeUrl(inc.url)})`);
        problems.push(...parsed.problems);
        await walk(parsed.parts, depth + 1);
      }
    }
  };
  await walk(parts, 0);
  // Renumber so part-NNN script names and problem order follow the expanded sequence.
  return { parts: out.map((p, i) => ({ ...p, index: i + 1 })), problems };
}

async function fetchInclude(url: string, once: boolean, opts: ExpandOptions): Promise<Uint8Array> {
  const cached = once ? join(opts.cacheDir, requireCrypto().createHash('sha256').update(url).digest('hex')) : undefined;
  if (cached !== undefined) {
    const hit = await readFile(cached).catch(() => undefined);
    if (hit !== undefined) return hit;
  }
  // The HTTP client (node:http, node:https and TLS) is loaded only for user-data that includes URLs.
  const { fetchCapped, httpStatusError } = await import('../http/fetch-capped.js');
  const res = await fetchCapped({ url: new URL(url), maxBytes: opts.maxBytes, timeoutMs: opts.timeoutMs, signal: opts.signal, maxRedirects: 5, what: 'included user-data' });
  if (res.status !== 200) throw httpStatusError(res.status, 'included user-data', displayUrl(res.url));
  if (cached !== undefined) {
    await mkdir(opts.cacheDir, { recursive: true, mode: 0o700 });
    await writeFileAtomically(cached, res.body, { mode: 0o600 });
  }
  return res.body;
}

function safeUrl(url: string): string {
  try {
    return displayUrl(new URL(url));
  } catch {
    return url;
  }
}
