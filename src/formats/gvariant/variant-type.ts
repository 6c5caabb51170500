// GVariant type strings, parsed into a tree that knows each type's alignment and fixed size.
//
// References: the GVariant specification 1.0 (Ryan Lortie, "GVariant Serialisation Format"),
// §2 "Types" (type strings), §3.1 "Alignment" and §3.2 "Fixed size"; GLib gvarianttype.c
// (g_variant_type_string_scan) and gvarianttypeinfo.c (alignment and fixed size of tuples).
import { DataLoss, InvalidArgument, type AtomicError } from '../../lib/errors.js';

/**
 * GLib's G_VARIANT_MAX_RECURSION_DEPTH (glib/gvariant-internal.h): the deepest nesting of
 * containers GLib accepts, in type strings and in serialised data (variants inside variants add
 * up). We use the same bound so a hostile input cannot make the decoder recurse without limit.
 */
export const GVARIANT_MAX_DEPTH = 128;

/** The basic (non-container) type codes of GVariant spec §2.1. */
export type GVariantBasicCode = 'b' | 'y' | 'n' | 'q' | 'i' | 'u' | 'x' | 't' | 'h' | 'd' | 's' | 'o' | 'g';

interface TypeCommon {
  /** The type string of this (sub)type, e.g. `a{sv}`. */
  readonly typeString: string;
  /** Spec §3.1: 1, 2, 4 or 8. */
  readonly alignment: number;
  /** Spec §3.2: the size every value of this type has, or undefined for variable-size types. */
  readonly fixedSize: number | undefined;
  /** Container nesting: 0 for basic types and `v`, 1 + the deepest child otherwise. */
  readonly depth: number;
}

export type GVariantType =
  | (TypeCommon & { readonly kind: 'basic'; readonly code: GVariantBasicCode })
  | (TypeCommon & { readonly kind: 'variant' })
  | (TypeCommon & { readonly kind: 'array'; readonly element: GVariantType })
  | (TypeCommon & { readonly kind: 'maybe'; readonly element: GVariantType })
  | (TypeCommon & { readonly kind: 'tuple'; readonly members: readonly GVariantType[] })
  | (TypeCommon & { readonly kind: 'dict-entry'; readonly members: readonly [GVariantType, GVariantType] });

/** Spec §3.1/§3.2: fixed-size basic types are naturally aligned; strings are 1-aligned. */
const BASIC_SIZE: Readonly<Record<GVariantBasicCode, number | undefined>> = {
  b: 1, y: 1, n: 2, q: 2, i: 4, u: 4, h: 4, x: 8, t: 8, d: 8, s: undefined, o: undefined, g: undefined,
};

function isBasicCode(c: string): c is GVariantBasicCode {
  return Object.prototype.hasOwnProperty.call(BASIC_SIZE, c);
}

export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

type ErrorFactory = (message: string) => AtomicError;

/**
 * Spec §3.2 (and gvarianttypeinfo.c tuple_set_base_info): a tuple or dict entry is fixed-size
 * when all members are; its size is the end of the last member rounded up to the tuple's
 * alignment, and the unit tuple `()` has size 1 so that arrays of it are not zero-size.
 */
function tupleLayout(members: readonly GVariantType[]): { alignment: number; fixedSize: number | undefined } {
  let alignment = 1;
  let offset = 0;
  let fixed = true;
  for (const m of members) {
    alignment = Math.max(alignment, m.alignment);
    if (m.fixedSize === undefined) fixed = false;
    else offset = alignUp(offset, m.alignment) + m.fixedSize;
  }
  if (!fixed) return { alignment, fixedSize: undefined };
  return { alignment, fixedSize: members.length === 0 ? 1 : alignUp(offset, alignment) };
}

/** Parse one complete type at `pos`; `depth` is the container nesting so far. */
function scan(s: string, pos: number, depth: number, err: ErrorFactory): { type: GVariantType; next: number } {
  if (depth > GVARIANT_MAX_DEPTH) throw err(`type string ${JSON.stringify(s)} nests deeper than ${GVARIANT_MAX_DEPTH}`);
  const c = s[pos];
  if (c === undefined) throw err(`type string ${JSON.stringify(s)} ends inside a type`);
  if (isBasicCode(c)) {
    const size = BASIC_SIZE[c];
    return { type: { kind: 'basic', code: c, typeString: c, alignment: size ?? 1, fixedSize: size, depth: 0 }, next: pos + 1 };
  }
  switch (c) {
    case 'v':
      // Spec §3.1: variants are 8-aligned (their content may be any type).
      return { type: { kind: 'variant', typeString: 'v', alignment: 8, fixedSize: undefined, depth: 0 }, next: pos + 1 };
    case 'a':
    case 'm': {
      const inner = scan(s, pos + 1, depth + 1, err);
      const e = inner.type;
      const common = { typeString: s.slice(pos, inner.next), alignment: e.alignment, fixedSize: undefined, depth: e.depth + 1 };
      return { type: c === 'a' ? { kind: 'array', element: e, ...common } : { kind: 'maybe', element: e, ...common }, next: inner.next };
    }
    case '(': {
      const members: GVariantType[] = [];
      let p = pos + 1;
      while (s[p] !== ')') {
        if (p >= s.length) throw err(`type string ${JSON.stringify(s)} has an unclosed '('`);
        const m = scan(s, p, depth + 1, err);
        members.push(m.type);
        p = m.next;
      }
      const layout = tupleLayout(members);
      const typeDepth = 1 + members.reduce((d, m) => Math.max(d, m.depth), 0);
      return { type: { kind: 'tuple', members, typeString: s.slice(pos, p + 1), ...layout, depth: typeDepth }, next: p + 1 };
    }
    case '{': {
      // Spec §2.3.5: a dict entry is exactly a basic key type and one value type.
      const key = scan(s, pos + 1, depth + 1, err);
      if (key.type.kind !== 'basic') throw err(`type string ${JSON.stringify(s)}: a dict entry key must be a basic type`);
      const value = scan(s, key.next, depth + 1, err);
      if (s[value.next] !== '}') throw err(`type string ${JSON.stringify(s)}: a dict entry holds exactly two types`);
      const members = [key.type, value.type] as const;
      const layout = tupleLayout(members);
      return {
        type: { kind: 'dict-entry', members, typeString: s.slice(pos, value.next + 1), ...layout, depth: 1 + value.type.depth },
        next: value.next + 1,
      };
    }
    default:
      // '*', '?' and 'r' are indefinite types (spec §2.2): no value has them, so they never
      // describe serialised data.
      throw err(`type string ${JSON.stringify(s)}: ${JSON.stringify(c)} at ${pos} is not a definite GVariant type`);
  }
}

/** Parse a single complete definite type string; `err` builds the error (caller's or data's fault). */
export function scanVariantType(s: string, err: ErrorFactory, depth = 0): GVariantType {
  const r = scan(s, 0, depth, err);
  if (r.next !== s.length) throw err(`type string ${JSON.stringify(s)} holds more than one type`);
  return r.type;
}

/**
 * Parse a type string given by a caller (`'a{sv}'`, `'(a{sv}aya(say)sstayay)'`). A malformed one is
 * the caller's bug: InvalidArgument.
 */
export function parseVariantType(typeString: string): GVariantType {
  return scanVariantType(typeString, (m) => new InvalidArgument(m));
}

/**
 * GLib g_variant_is_signature: zero or more complete types made only of the D-Bus type characters
 * (so no maybes and no indefinite types). Used to validate `g` values.
 */
export function isSignature(s: string): boolean {
  if (!/^[ybnqiuxthdvasog(){}]*$/.test(s)) return false;
  const err: ErrorFactory = (m) => new DataLoss(m);
  let pos = 0;
  try {
    while (pos < s.length) pos = scan(s, pos, 0, err).next;
  } catch (e) {
    if (e instanceof DataLoss) return false;
    throw e;
  }
  return true;
}
