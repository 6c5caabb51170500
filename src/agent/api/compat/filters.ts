// The Engine API's `filters` query parameter: JSON of `{"key": {"value": true}}`, or the older
// `{"key": ["value"]}` form that API clients before 1.22 send and some SDKs still do
// (moby api/types/filters: FromJSON). Unknown keys are refused with Docker's message, so a typo
// does not silently list everything.
import { InvalidArgument } from '../../../lib/errors.js';

export type Filters = ReadonlyMap<string, readonly string[]>;

export function parseFilters(text: string | null, allowed: readonly string[]): Filters {
  const out = new Map<string, string[]>();
  if (text === null || text === '') return out;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InvalidArgument(`filters: not JSON: ${JSON.stringify(text.slice(0, 80))}`, { cause: e });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new InvalidArgument('filters: expected a JSON object of filter names');
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (!allowed.includes(key)) throw new InvalidArgument(`invalid filter '${key}'`);
    let values: string[];
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) values = value as string[];
    else if (typeof value === 'object' && value !== null && !Array.isArray(value)) values = Object.entries(value as Record<string, unknown>).filter(([, on]) => on === true).map(([v]) => v);
    else throw new InvalidArgument(`filters: the value of '${key}' must be an object of strings to true, or a list of strings`);
    out.set(key, values);
  }
  return out;
}

/** A boolean filter (`dangling=true`): undefined when absent; several different values are refused. */
export function booleanFilter(filters: Filters, key: string): boolean | undefined {
  const values = filters.get(key);
  if (values === undefined || values.length === 0) return undefined;
  const parsed = new Set(values.map((v) => {
    const l = v.toLowerCase();
    if (l === 'true' || l === '1') return true;
    if (l === 'false' || l === '0') return false;
    throw new InvalidArgument(`invalid filter '${key}=${v}'`);
  }));
  if (parsed.size > 1) throw new InvalidArgument(`invalid filter '${key}': both true and false`);
  return [...parsed][0];
}

/** `label=k`, `label=k=v` values; `label!=` is a separate key in Docker's filters. */
export function labelsMatch(labels: Readonly<Record<string, string>>, wanted: readonly string[]): boolean {
  return wanted.every((l) => {
    const eq = l.indexOf('=');
    return eq < 0 ? l in labels : labels[l.slice(0, eq)] === l.slice(eq + 1);
  });
}
