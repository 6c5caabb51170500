// GLib's GVariant (python3-gi, /usr/bin/python3) as the independent producer and judge of
// serialised bytes, and the tagged description both sides are compared in.
import { join } from 'node:path';
import { REPO, runOk } from '../../../helpers.js';
import {
  isGVariantDict,
  isGVariantJust,
  isGVariantVariant,
  type GVariantValue,
} from '../../../../src/formats/gvariant/parse-variant.js';
import { parseVariantType, type GVariantType } from '../../../../src/formats/gvariant/variant-type.js';

/** A value for GLib's low-level constructors (see glib-oracle.py). */
export type BuildNode =
  | { readonly t: string; readonly v: boolean | number | string }
  | { readonly t: string; readonly items: readonly BuildNode[] }
  | { readonly t: string; readonly just?: BuildNode }
  | { readonly t: string; readonly key: BuildNode; readonly value: BuildNode }
  | { readonly t: string; readonly child: BuildNode };

/** JSON-able description of a value (see describe() in glib-oracle.py). */
export type Tagged = null | boolean | number | string | readonly Tagged[] | { readonly dict: readonly (readonly [Tagged, Tagged])[] } | { readonly type: string; readonly value: Tagged };

export type OracleRequest =
  | { readonly op: 'build'; readonly tree: BuildNode }
  | { readonly op: 'eval'; readonly type: string; readonly expr: string }
  | { readonly op: 'inspect'; readonly type: string; readonly hex: string };

export interface Serialised {
  readonly type: string;
  readonly bytes: Buffer;
  readonly normal: boolean;
  readonly desc: Tagged;
}

export interface Inspection {
  readonly normal: boolean;
  readonly desc: Tagged | null;
}

const SCRIPT = join(REPO, 'test', 'unit', 'formats', 'gvariant', 'glib-oracle.py');

function ask(requests: readonly OracleRequest[]): unknown[] {
  const r = runOk('/usr/bin/python3', [SCRIPT], { input: JSON.stringify(requests) });
  return JSON.parse(r.stdout) as unknown[];
}

/** Serialise each request's value with GLib; one python3 process for the whole batch. */
export function glibSerialise(requests: readonly (OracleRequest & { op: 'build' | 'eval' })[]): Serialised[] {
  return ask(requests).map((a) => {
    const x = a as { type: string; hex: string; normal: boolean; desc: Tagged };
    return { type: x.type, bytes: Buffer.from(x.hex, 'hex'), normal: x.normal, desc: x.desc };
  });
}

/** One GLib value from a Python expression, e.g. `GLib.Variant('as', ['a'])`. */
export function glibEval(type: string, expr: string): Serialised {
  return glibSerialise([{ op: 'eval', type, expr }])[0] as Serialised;
}

/** Ask GLib whether untrusted bytes are the normal form of a `type` value, and what it reads. */
export function glibInspect(items: readonly { type: string; bytes: Uint8Array }[]): Inspection[] {
  return ask(items.map((i) => ({ op: 'inspect' as const, type: i.type, hex: Buffer.from(i.bytes).toString('hex') }))) as Inspection[];
}

function doubleHex(d: number): string {
  if (Number.isNaN(d)) return 'nan';
  const b = Buffer.alloc(8);
  b.writeDoubleLE(d);
  return b.toString('hex');
}

/** Our decoded value in the oracle's tagged form, guided by the type. */
export function tagged(type: GVariantType | string, v: GVariantValue): Tagged {
  const t = typeof type === 'string' ? parseVariantType(type) : type;
  switch (t.kind) {
    case 'basic':
      if (t.code === 'x' || t.code === 't') return String(v as bigint);
      if (t.code === 'd') return doubleHex(v as number);
      return v as boolean | number | string;
    case 'variant': {
      if (!isGVariantVariant(v)) throw new Error('not a variant value');
      return { type: v.type, value: tagged(v.type, v.value) };
    }
    case 'maybe':
      if (v === null) return null;
      if (!isGVariantJust(v)) throw new Error('not a maybe value');
      return [tagged(t.element, v.just)];
    case 'array': {
      if (t.element.kind === 'basic' && t.element.code === 'y') return Buffer.from(v as Uint8Array).toString('hex');
      if (t.element.kind === 'dict-entry') {
        if (!isGVariantDict(v)) throw new Error('not a dict value');
        const [kt, vt] = t.element.members;
        return { dict: [...v.entries()].map(([k, val]) => [tagged(kt, k), tagged(vt, val)] as const) };
      }
      return (v as readonly GVariantValue[]).map((x) => tagged(t.element, x));
    }
    case 'tuple':
    case 'dict-entry':
      return (v as readonly GVariantValue[]).map((x, i) => tagged(t.members[i] as GVariantType, x));
  }
}
