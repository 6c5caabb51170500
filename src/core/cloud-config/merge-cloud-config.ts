// Merging several cloud-config parts into one, with cloud-init's semantics
// (https://cloudinit.readthedocs.io/en/latest/reference/merging.html, cloudinit/mergers/).
//
// Each part is merged into the result so far with its own mergers: those named by `merge_how`
// (or, only when it is absent, `merge_type`) in the part, then those in its `Merge-Type` /
// `X-Merge-Type` MIME header; with neither, `dict(replace)+list()+str()`, so a later part's
// top-level keys replace earlier ones. For each kind of value the first merger for that kind
// applies; values of other kinds (numbers, booleans, null) keep the earlier value when merged.
import type { PlainValue } from './yaml-document.js';

export type PlainObject = { [key: string]: PlainValue };

export type MergerName = 'dict' | 'list' | 'str';

export interface MergerSpec {
  readonly name: MergerName;
  readonly options: readonly string[];
}

export type MergeSpecResult = { readonly ok: true; readonly mergers: readonly MergerSpec[]; readonly ignoredOptions: readonly string[] } | { readonly ok: false; readonly message: string };

/** cloud-init's handlers/cloud_config.py default for cloud-config parts. */
export const DEFAULT_CLOUD_CONFIG_MERGE = 'dict(replace)+list()+str()';

const OPTIONS: Readonly<Record<MergerName, readonly string[]>> = {
  dict: ['replace', 'no_replace', 'recurse_str', 'recurse_array', 'recurse_list', 'recurse_dict', 'allow_delete'],
  list: ['append', 'prepend', 'replace', 'no_replace', 'recurse_str', 'recurse_dict', 'recurse_array', 'recurse_list'],
  str: ['append'],
};

function merger(rawName: string, options: readonly string[]): MergerSpec | string {
  // cloud-init imports module `m_<name>` from cloudinit.mergers; only these three exist.
  const name = rawName.replace(/^m_/, '');
  if (name !== 'dict' && name !== 'list' && name !== 'str') return `unknown merger '${rawName}' (cloud-init has dict, list and str)`;
  return { name, options };
}

function collect(specs: readonly (MergerSpec | string)[]): MergeSpecResult {
  const bad = specs.find((s): s is string => typeof s === 'string');
  if (bad !== undefined) return { ok: false, message: bad };
  const mergers = specs as MergerSpec[];
  const ignoredOptions = mergers.flatMap((m) => m.options.filter((o) => !OPTIONS[m.name].includes(o)).map((o) => `${m.name}(${o})`));
  return { ok: true, mergers, ignoredOptions };
}

/** `list(append)+dict(no_replace,recurse_list)+str()`, cloud-init's string_extract_mergers. */
export function parseMergeString(text: string): MergeSpecResult {
  const specs: (MergerSpec | string)[] = [];
  for (const piece of text.split('+')) {
    const p = piece.toLowerCase().trim().replace(/-/g, '_');
    if (p === '') continue;
    const m = /^([a-zA-Z_][A-Za-z0-9_]*)\((.*?)\)$/.exec(p);
    if (m === null) return { ok: false, message: `merger '${p}' is not in the form name(option,...)` };
    const opts = (m[2] ?? '').split(',').map((o) => o.trim().toLowerCase()).filter((o) => o !== '');
    specs.push(merger(m[1] ?? '', opts));
  }
  return collect(specs);
}

/** The value of `merge_how` / `merge_type`: a string, or a list of {name, settings} or [name, option...]. */
export function parseMergeHow(value: PlainValue): MergeSpecResult {
  if (typeof value === 'string') return parseMergeString(value);
  if (!Array.isArray(value)) return { ok: false, message: 'expected a merge string like "list(append)+dict(recurse_array)+str()" or a list of mergers' };
  const specs: (MergerSpec | string)[] = [];
  for (const m of value) {
    if (Array.isArray(m)) {
      const [name, ...opts] = m;
      if (typeof name !== 'string' || !opts.every((o): o is string => typeof o === 'string')) return { ok: false, message: 'a merger list is [name, option, ...] of strings' };
      if (name !== '') specs.push(merger(name, opts));
    } else if (isPlainObject(m)) {
      const name = m['name'];
      const settings = m['settings'];
      // cloud-init indexes both keys without a default: a missing one fails the whole part.
      if (typeof name !== 'string') return { ok: false, message: "a merger mapping needs 'name' (a string)" };
      if (!Array.isArray(settings) || !settings.every((o): o is string => typeof o === 'string')) return { ok: false, message: "a merger mapping needs 'settings' (a list of strings)" };
      const n = name.replace(/-/g, '_').trim();
      if (n !== '') specs.push(merger(n, settings));
    } else {
      return { ok: false, message: 'each merger is a mapping {name, settings} or a list [name, option, ...]' };
    }
  }
  return collect(specs);
}

export function isPlainObject(v: PlainValue | undefined): v is PlainObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Uint8Array);
}

function first<T>(candidates: readonly T[], opts: readonly string[], fallback: T): T {
  return candidates.find((c) => opts.includes(String(c))) ?? fallback;
}

/** Merge `next` into `base` with `mergers` (cloudinit/mergers/m_dict, m_list, m_str). */
export function mergeValues(base: PlainValue, next: PlainValue, mergers: readonly MergerSpec[]): PlainValue {
  const find = (name: MergerName): MergerSpec | undefined => mergers.find((m) => m.name === name);
  const merge = (value: PlainValue, withValue: PlainValue): PlainValue => {
    if (isPlainObject(value)) {
      const m = find('dict');
      return m === undefined ? value : onDict(value, withValue, m.options);
    }
    if (Array.isArray(value)) {
      const m = find('list');
      return m === undefined ? value : onList(value, withValue, m.options);
    }
    if (typeof value === 'string') {
      const m = find('str');
      if (m === undefined) return value;
      return m.options.includes('append') && typeof withValue === 'string' ? value + withValue : withValue;
    }
    return value;
  };
  const onDict = (value: PlainObject, withValue: PlainValue, opts: readonly string[]): PlainValue => {
    if (!isPlainObject(withValue)) return value;
    const replace = first(['replace', 'no_replace'], opts, 'no_replace') === 'replace';
    const recurseStr = opts.includes('recurse_str');
    const recurseArray = opts.includes('recurse_array') || opts.includes('recurse_list');
    const allowDelete = opts.includes('allow_delete');
    const out: PlainObject = { ...value };
    for (const [k, v] of Object.entries(withValue)) {
      if (!Object.hasOwn(out, k)) {
        Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
        continue;
      }
      if (v === null && allowDelete) {
        delete out[k];
        continue;
      }
      const old = out[k] as PlainValue;
      let merged: PlainValue = old;
      if (replace) merged = v;
      else if (Array.isArray(v) && recurseArray) merged = merge(old, v);
      else if (typeof v === 'string' && recurseStr) merged = merge(old, v);
      else if (isPlainObject(v)) merged = merge(old, v);
      out[k] = merged;
    }
    return out;
  };
  const onList = (value: PlainValue[], withValue: PlainValue, opts: readonly string[]): PlainValue => {
    const method = first(['append', 'prepend', 'replace', 'no_replace'], opts, 'replace');
    if (!Array.isArray(withValue)) return method === 'replace' ? withValue : value;
    if (method === 'prepend') return [...withValue, ...value];
    if (method === 'append') return [...value, ...withValue];
    const recurseStr = opts.includes('recurse_str');
    const recurseDict = opts.includes('recurse_dict');
    const recurseArray = opts.includes('recurse_array') || opts.includes('recurse_list');
    const out = [...value];
    for (let i = 0; i < Math.min(out.length, withValue.length); i++) {
      if (method === 'no_replace') continue;
      const old = out[i] as PlainValue;
      const v = withValue[i] as PlainValue;
      if (Array.isArray(v) && recurseArray) out[i] = merge(old, v);
      else if (typeof v === 'string' && recurseStr) out[i] = merge(old, v);
      else if (isPlainObject(v) && recurseDict) out[i] = merge(old, v);
      else out[i] = v;
    }
    return out;
  };
  return merge(base, next);
}

/**
 * Fold one cloud-config part into the merged config as cloud-init's CloudConfigPartHandler does:
 * `merge_how` (else `merge_type`) is taken out of the part, header mergers follow it.
 */
export function mergeCloudConfigPart(merged: PlainObject, part: PlainObject, headerMergeType: string | undefined): { merged: PlainObject; error?: string } {
  const payload: PlainObject = { ...part };
  let fromPayload: MergeSpecResult = { ok: true, mergers: [], ignoredOptions: [] };
  let raw: PlainValue | undefined;
  for (const key of ['merge_how', 'merge_type']) {
    if (raw !== undefined && raw !== null) break;
    if (Object.hasOwn(payload, key)) {
      raw = payload[key];
      delete payload[key];
    }
  }
  if (raw !== undefined && raw !== null) fromPayload = parseMergeHow(raw);
  const fromHeader = headerMergeType === undefined ? ({ ok: true, mergers: [], ignoredOptions: [] } as MergeSpecResult) : parseMergeString(headerMergeType);
  if (!fromPayload.ok) return { merged, error: fromPayload.message };
  if (!fromHeader.ok) return { merged, error: fromHeader.message };
  let mergers = [...fromPayload.mergers, ...fromHeader.mergers];
  if (mergers.length === 0) {
    const d = parseMergeString(DEFAULT_CLOUD_CONFIG_MERGE);
    mergers = d.ok ? [...d.mergers] : [];
  }
  const out = mergeValues(merged, payload, mergers);
  return { merged: isPlainObject(out) ? out : merged };
}
