// `docker ps --filter` (GET /containers/json?filters=...): the filters name, label (key or
// key=value), status, ancestor and id, with Docker's matching rules (daemon/list.go): values of
// one key are alternatives (OR), different keys must all match (AND). `name` is a regular
// expression matched against the name without its "/", `id` a prefix, `ancestor` an image
// reference or ID (the caller resolves references to image IDs, which needs the image store).
import { InvalidArgument } from '../../lib/errors.js';
import { CONTAINER_STATUSES, type ContainerStatus } from './container-state.js';

export const PS_FILTER_KEYS = ['name', 'label', 'status', 'ancestor', 'id'] as const;
export type PsFilterKey = (typeof PS_FILTER_KEYS)[number];

export type PsFilters = Readonly<Partial<Record<PsFilterKey, readonly string[]>>>;

/** What a filter looks at. */
export interface FilterableContainer {
  readonly id: string;
  /** With the leading "/". */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly status: ContainerStatus;
  readonly imageId: string;
  /** Config.Image as given at create. */
  readonly imageRef: string;
}

/**
 * The `filters` query parameter: JSON `{"key":["v",...]}` or the older `{"key":{"v":true}}`.
 * Unknown keys and bad status values are InvalidArgument, with Docker's texts.
 */
export function parsePsFilters(json: string | undefined): PsFilters {
  if (json === undefined || json.trim() === '') return {};
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (e) {
    throw new InvalidArgument(`invalid filter: ${json} is not JSON`, { subject: 'filters', cause: e });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new InvalidArgument('invalid filter: expected a JSON object', { subject: 'filters' });
  const out: Partial<Record<PsFilterKey, string[]>> = {};
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    let values: string[];
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) values = v as string[];
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) values = Object.entries(v as Record<string, unknown>).filter(([, b]) => b === true).map(([x]) => x);
    else throw new InvalidArgument(`invalid filter '${k}': values must be a list of strings`, { subject: `filters/${k}` });
    out[checkKey(k)] = values;
  }
  return checkFilters(out);
}

function checkKey(k: string): PsFilterKey {
  if (!(PS_FILTER_KEYS as readonly string[]).includes(k)) throw new InvalidArgument(`invalid filter '${k}'`, { subject: `filters/${k}` });
  return k as PsFilterKey;
}

/** Check keys and values of filters built in code (the CLI's `--filter k=v` list). */
export function checkFilters(f: PsFilters): PsFilters {
  for (const k of Object.keys(f)) checkKey(k);
  for (const s of f.status ?? []) {
    if (!(CONTAINER_STATUSES as readonly string[]).includes(s)) {
      throw new InvalidArgument(`invalid filter 'status=${s}'`, { subject: 'filters/status' });
    }
  }
  for (const n of f.name ?? []) {
    try {
      new RegExp(n);
    } catch (e) {
      throw new InvalidArgument(`invalid filter 'name=${n}': not a regular expression`, { subject: 'filters/name', cause: e });
    }
  }
  return f;
}

function labelMatches(labels: Readonly<Record<string, string>>, want: string): boolean {
  const eq = want.indexOf('=');
  if (eq < 0) return Object.hasOwn(labels, want);
  const k = want.slice(0, eq);
  return Object.hasOwn(labels, k) && labels[k] === want.slice(eq + 1);
}

/**
 * Whether `c` passes every filter. `ancestorIds` are the image IDs the ancestor values resolved
 * to (the caller looks them up); a value matches also when it equals Config.Image as given.
 */
export function matchesPsFilters(c: FilterableContainer, f: PsFilters, ancestorIds: readonly string[] = []): boolean {
  const bare = c.name.replace(/^\//, '');
  if (f.name !== undefined && f.name.length > 0 && !f.name.some((n) => new RegExp(n).test(bare) || new RegExp(n).test(c.name))) return false;
  if (f.id !== undefined && f.id.length > 0 && !f.id.some((p) => p !== '' && c.id.startsWith(p))) return false;
  // label: every value must match (Docker: `--filter label=a --filter label=b` means both).
  if (f.label !== undefined && !f.label.every((l) => labelMatches(c.labels, l))) return false;
  if (f.status !== undefined && f.status.length > 0 && !f.status.includes(c.status)) return false;
  if (f.ancestor !== undefined && f.ancestor.length > 0) {
    const ids = new Set(ancestorIds);
    const refs = new Set(f.ancestor);
    if (!ids.has(c.imageId) && !refs.has(c.imageRef)) return false;
  }
  return true;
}
