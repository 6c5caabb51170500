// How cloud-init reads loosely typed config values (cloudinit/util.py), so that planners treat a
// value the way the Python code would: Python truthiness, util.translate_bool, util.is_true /
// is_false, util.uniq_merge.
import { isPlainObject } from '../cloud-config/merge-cloud-config.js';
import type { PlainValue } from '../cloud-config/yaml-document.js';

/** Python's bool(value) for what YAML gives: false, None, 0, '', [] and {} are false. */
export function truthy(v: PlainValue | undefined): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Uint8Array) return v.length > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  return true;
}

const TRUE_STRINGS = ['true', '1', 'on', 'yes'];
const FALSE_STRINGS = ['off', '0', 'no', 'false'];

function pyStr(v: PlainValue): string {
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null) return 'None';
  return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
}

/** util.is_true. */
export function isTrue(v: PlainValue | undefined, addons: readonly string[] = []): boolean {
  if (v === undefined) return false;
  if (typeof v === 'boolean') return v;
  return [...TRUE_STRINGS, ...addons].includes(pyStr(v).toLowerCase().trim());
}

/** util.is_false. */
export function isFalse(v: PlainValue | undefined, addons: readonly string[] = []): boolean {
  if (v === undefined) return false;
  if (typeof v === 'boolean') return !v;
  return [...FALSE_STRINGS, ...addons].includes(pyStr(v).toLowerCase().trim());
}

/** util.translate_bool: falsy is false, booleans are themselves, else is_true. */
export function translateBool(v: PlainValue | undefined, addons: readonly string[] = []): boolean {
  if (!truthy(v)) return false;
  if (typeof v === 'boolean') return v;
  return isTrue(v, addons);
}

/** util.get_cfg_option_bool. */
export function optionBool(obj: Readonly<Record<string, PlainValue>>, key: string, fallback: boolean): boolean {
  return Object.hasOwn(obj, key) ? translateBool(obj[key]) : fallback;
}

/**
 * util.uniq_merge: strings are split on commas (empty pieces dropped), lists taken as they are;
 * the first occurrence of each item is kept. Items are stripped (cloud-init keeps ' b' from
 * 'a, b' and then fails to find group ' b').
 */
export function uniqMerge(...lists: readonly (PlainValue | undefined)[]): string[] {
  const out: string[] = [];
  for (const l of lists) {
    const items = typeof l === 'string' ? l.split(',') : Array.isArray(l) ? l.filter((x): x is string => typeof x === 'string') : [];
    for (const raw of items) {
      const item = raw.trim();
      if (item !== '' && !out.includes(item)) out.push(item);
    }
  }
  return out;
}

/** Python's sorted() on strings: by code point. */
export function sortedStrings(items: readonly string[]): string[] {
  return [...items].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
