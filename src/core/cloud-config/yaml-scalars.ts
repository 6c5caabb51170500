// How PyYAML's SafeLoader reads a plain (unquoted) scalar: its implicit resolvers
// (yaml/resolver.py) and constructors (yaml/constructor.py), YAML 1.1. Shared by the yaml
// package's tags (yaml-document.ts) and the parser of the common block subset (yaml-subset.ts),
// so both read `yes`, `0644` and `22:30` the same way.
import type { YamlScalar } from './yaml-document.js';

// PyYAML 5/6 yaml/resolver.py, implicit resolvers of the SafeLoader.
export const PY_BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
export const PY_TRUE = new Set(['yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
export const PY_INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
export const PY_FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
export const PY_TIMESTAMP =
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/;

export const BOOL_TAG = 'tag:yaml.org,2002:bool';
export const INT_TAG = 'tag:yaml.org,2002:int';
export const FLOAT_TAG = 'tag:yaml.org,2002:float';
export const TIMESTAMP_TAG = 'tag:yaml.org,2002:timestamp';

/** Base-60 digits `a:b:c` -> a*3600 + b*60 + c (PyYAML construct_yaml_int/float). */
function sexagesimal(digits: string): number {
  return digits.split(':').reduce((acc, d) => acc * 60 + Number(d), 0);
}

export function resolveInt(text: string): number {
  let s = text.replace(/_/g, '');
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s.startsWith('-')) sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s.startsWith('0b')) return sign * parseInt(s.slice(2), 2);
  if (s.startsWith('0x')) return sign * parseInt(s.slice(2), 16);
  if (s.startsWith('0')) return sign * parseInt(s, 8);
  if (s.includes(':')) return sign * sexagesimal(s);
  return sign * Number(s);
}

export function resolveFloat(text: string): number {
  let s = text.replace(/_/g, '').toLowerCase();
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s.startsWith('-')) sign = -1;
    s = s.slice(1);
  }
  if (s === '.inf') return sign * Infinity;
  if (s === '.nan') return NaN;
  if (s.includes(':')) return sign * sexagesimal(s);
  return sign * Number(s);
}

export function resolveTimestamp(text: string): Date {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[Tt]|[ \t]+)(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d*))?(?:[ \t]*(Z|([-+])(\d{1,2})(?::(\d{2}))?))?)?$/.exec(text);
  if (m === null) return new Date(NaN);
  const [, y, mo, d, h, mi, s, frac, tz, tzSign, tzH, tzM] = m;
  const ms = frac === undefined ? 0 : Math.round(Number(`0.${frac}`) * 1000);
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0), ms);
  if (tz !== undefined && tz !== 'Z') t -= (tzSign === '-' ? -1 : 1) * (Number(tzH) * 60 + Number(tzM ?? 0)) * 60_000;
  return new Date(t);
}

// PyYAML's null resolver (the yaml package's 1.1 schema has the same pattern).
const PY_NULL = /^(?:~|null|Null|NULL)?$/;

/**
 * A plain scalar's value as PyYAML's SafeLoader constructs it, and whether it is a float; or
 * undefined for the two plain scalars that are not data (`<<`, the merge key, and `=`, the value
 * key), which only the full parser handles.
 */
export function resolvePlain(text: string): { readonly value: YamlScalar; readonly float: boolean } | undefined {
  // Each resolver's pattern can only match from some first characters; most words are tried
  // against none (V8 compiles a pattern when it is first run, which a short command feels).
  const first = text.charAt(0);
  if (first === '' || (NULL_FIRST.includes(first) && PY_NULL.test(text))) return { value: null, float: false };
  if (BOOL_FIRST.includes(first) && PY_BOOL.test(text)) return { value: PY_TRUE.has(text), float: false };
  if (NUMBER_FIRST.includes(first)) {
    if (PY_INT.test(text)) return { value: resolveInt(text), float: false };
    if (PY_FLOAT.test(text)) return { value: resolveFloat(text), float: true };
    if (PY_TIMESTAMP.test(text)) return { value: resolveTimestamp(text), float: false };
  }
  if (text === '<<' || text === '=') return undefined;
  return { value: text, float: false };
}

// The first characters PY_NULL, PY_BOOL and PY_INT/PY_FLOAT/PY_TIMESTAMP can match.
const NULL_FIRST = '~nN';
const BOOL_FIRST = 'yYnNtTfFoO';
const NUMBER_FIRST = '0123456789+-.';

/** Equal for keys PyYAML would take as equal (1 and 1.0 are, as in Python). */
export function keyId(k: YamlScalar): string {
  if (k === null) return 'null';
  if (k instanceof Date) return `date:${k.getTime()}`;
  if (k instanceof Uint8Array) return `bytes:${Buffer.from(k).toString('hex')}`;
  if (typeof k === 'boolean') return `number:${k ? 1 : 0}`;
  return `${typeof k}:${String(k)}`;
}
