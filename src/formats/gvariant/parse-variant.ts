// A strict decoder for GVariant serialised data in normal form, little-endian (what ostree writes
// for commits, dirtrees, dirmeta, detached metadata and summaries on every host it supports).
//
// References: the GVariant specification 1.0 ("GVariant Serialisation Format", Ryan Lortie),
// §3 "Serialisation" and §4 "Normal form"; GLib gvariant-serialiser.c, whose *_is_normal checks
// this decoder mirrors. GLib itself never fails on untrusted bytes: it substitutes default values
// for malformed parts. We refuse instead (DataLoss): ostree only ever writes normal form
// (ostree_validate_structureof_commit requires g_variant_is_normal_form), so anything else is
// corruption or an attack, and a signature check must not run on a guessed interpretation.
//
// Value mapping (documented contract of GVariantValue):
//   b -> boolean; y n q i u h d -> number; x t -> bigint; s o g -> string
//   ay -> Uint8Array (a copy, never a view of the input)
//   a{KV} -> ReadonlyMap; when a key repeats, the first entry wins, as g_variant_lookup_value
//            (GLib gvariant.c) returns the first match
//   other arrays -> readonly array; tuples -> readonly array of members (`()` -> []);
//   a dict entry {KV} outside an array -> readonly [key, value]
//   m T -> null (Nothing) or { just: value } (so `mmi` keeps Just(Nothing) apart from Nothing)
//   v -> { type: 'type string', value }
import { TextDecoder } from 'node:util';
import { DataLoss } from '../../lib/errors.js';
import { alignUp, GVARIANT_MAX_DEPTH, isSignature, parseVariantType, scanVariantType, type GVariantType } from './variant-type.js';

export type GVariantDictKey = boolean | number | bigint | string;

export interface GVariantJust {
  readonly just: GVariantValue;
}

export interface GVariantVariant {
  /** The type string carried inside the variant (spec §3.2.5). */
  readonly type: string;
  readonly value: GVariantValue;
}

export type GVariantValue =
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | readonly GVariantValue[]
  | ReadonlyMap<GVariantDictKey, GVariantValue>
  | GVariantJust
  | GVariantVariant
  | null;

export interface ParseVariantOptions {
  /** Names the bytes in error messages (a file path, `commit 4f1a…`). */
  readonly subject?: string;
}

interface Ctx {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly utf8: TextDecoder;
  readonly subject: string | undefined;
}

function fail(ctx: Ctx, type: GVariantType | string, at: number, message: string): DataLoss {
  const t = typeof type === 'string' ? type : type.typeString;
  const where = ctx.subject === undefined ? '' : `${ctx.subject}: `;
  return new DataLoss(`${where}GVariant ${t} at byte ${at}: ${message}`, ctx.subject === undefined ? {} : { subject: ctx.subject });
}

/**
 * Spec §3.2.4 "Framing offsets": the offset size is fixed by the container's total size: 0 for
 * an empty container, else the smallest of 1/2/4/8 bytes whose range holds the size.
 */
function offsetSize(size: number): number {
  if (size === 0) return 0;
  if (size <= 0xff) return 1;
  if (size <= 0xffff) return 2;
  if (size <= 0xffffffff) return 4;
  return 8;
}

/**
 * Spec §3.2.4 and GLib gvs_calculate_total_size: the size a writer produces for `bodySize` bytes
 * plus `nOffsets` framing offsets, using the smallest offset size that fits. Normal form requires
 * this size; a larger offset than needed is a different, non-normal encoding of the same value
 * (GLib CVE-2023-29499 was a checker that missed this).
 */
function normalTotalSize(bodySize: number, nOffsets: number): number {
  if (bodySize + nOffsets <= 0xff) return bodySize + nOffsets;
  if (bodySize + 2 * nOffsets <= 0xffff) return bodySize + 2 * nOffsets;
  if (bodySize + 4 * nOffsets <= 0xffffffff) return bodySize + 4 * nOffsets;
  return bodySize + 8 * nOffsets;
}

function readOffset(ctx: Ctx, type: GVariantType, at: number, size: number): number {
  switch (size) {
    case 1:
      return ctx.view.getUint8(at);
    case 2:
      return ctx.view.getUint16(at, true);
    case 4:
      return ctx.view.getUint32(at, true);
    case 8: {
      const v = ctx.view.getBigUint64(at, true);
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(ctx, type, at, 'framing offset beyond any buffer');
      return Number(v);
    }
    default:
      // Only an empty container has 0-byte offsets; GLib reads each of them as 0
      // (gvs_read_unaligned_le with size 0), so a tuple whose members may all be empty can be
      // serialised as no bytes at all, and GLib's g_variant_is_normal_form accepts that.
      return 0;
  }
}

/** Spec §4: padding bytes are zero in normal form. */
function checkZero(ctx: Ctx, type: GVariantType, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    if (ctx.bytes[i] !== 0) throw fail(ctx, type, i, 'non-zero padding byte');
  }
}

/** D-Bus/GVariant object path rule (spec §2.1.5, g_variant_is_object_path). */
function isObjectPath(s: string): boolean {
  return /^\/(?:[A-Za-z0-9_]+(?:\/[A-Za-z0-9_]+)*)?$/.test(s);
}

function decodeString(ctx: Ctx, type: GVariantType & { kind: 'basic' }, start: number, end: number): string {
  // Spec §3.2.2: the bytes of the string, then one NUL. Normal form: exactly one NUL, at the end,
  // and valid UTF-8 (GLib g_variant_serialiser_is_string).
  if (end === start) throw fail(ctx, type, start, 'empty string value (missing its NUL terminator)');
  const nul = ctx.bytes.subarray(start, end).indexOf(0);
  if (nul !== end - start - 1) throw fail(ctx, type, start, nul === -1 ? 'string is not NUL-terminated' : 'string holds a NUL byte');
  let s: string;
  try {
    s = ctx.utf8.decode(ctx.bytes.subarray(start, end - 1));
  } catch (e) {
    throw fail(ctx, type, start, `string is not valid UTF-8 (${e instanceof Error ? e.message : String(e)})`);
  }
  if (type.code === 'o' && !isObjectPath(s)) throw fail(ctx, type, start, `${JSON.stringify(s)} is not a valid object path`);
  if (type.code === 'g' && !isSignature(s)) throw fail(ctx, type, start, `${JSON.stringify(s)} is not a valid signature`);
  return s;
}

function decodeBasic(ctx: Ctx, type: GVariantType & { kind: 'basic' }, start: number, end: number): GVariantValue {
  if (type.fixedSize === undefined) return decodeString(ctx, type, start, end);
  if (end - start !== type.fixedSize) throw fail(ctx, type, start, `${end - start} bytes for a ${type.fixedSize}-byte value`);
  const v = ctx.view;
  switch (type.code) {
    case 'b': {
      // Normal form: a boolean byte is 0 or 1 (gvariant-serialiser.c, g_variant_serialised_is_normal).
      const b = v.getUint8(start);
      if (b > 1) throw fail(ctx, type, start, `boolean byte is ${b}, not 0 or 1`);
      return b === 1;
    }
    case 'y':
      return v.getUint8(start);
    case 'n':
      return v.getInt16(start, true);
    case 'q':
      return v.getUint16(start, true);
    case 'i':
    case 'h':
      return v.getInt32(start, true);
    case 'u':
      return v.getUint32(start, true);
    case 'x':
      return v.getBigInt64(start, true);
    case 't':
      return v.getBigUint64(start, true);
    case 'd':
      return v.getFloat64(start, true);
    default:
      throw fail(ctx, type, start, 'not a fixed-size basic type');
  }
}

function decodeVariant(ctx: Ctx, type: GVariantType, start: number, end: number, depth: number): GVariantVariant {
  // Spec §3.2.5: the child value, a NUL byte, then the child's type string (no terminator). The
  // separator is the last NUL: type strings never contain one.
  let sep = end - 1;
  while (sep >= start && ctx.bytes[sep] !== 0) sep--;
  if (sep < start) throw fail(ctx, type, start, 'variant has no type string separator');
  let typeString = '';
  for (let i = sep + 1; i < end; i++) {
    const c = ctx.bytes[i] as number;
    if (c >= 0x80) throw fail(ctx, type, i, 'variant type string is not ASCII');
    typeString += String.fromCharCode(c);
  }
  // The nesting inside the variant counts towards the same limit as the nesting around it.
  // GLib (gvariant-core.c, g_variant_get_child_value) refuses a variant child whose type depth
  // (1 for a basic type) is >= G_VARIANT_MAX_RECURSION_DEPTH minus the variant's own depth, so
  // the deepest leaf below a variant sits at depth 127 at most.
  const childType = scanVariantType(typeString, (m) => fail(ctx, type, sep + 1, m), depth + 1);
  if (depth + 1 + childType.depth >= GVARIANT_MAX_DEPTH) {
    throw fail(ctx, type, sep + 1, `variant of ${typeString} nested deeper than ${GVARIANT_MAX_DEPTH}`);
  }
  return { type: typeString, value: decode(ctx, childType, start, sep, depth + 1) };
}

function decodeMaybe(ctx: Ctx, type: GVariantType & { kind: 'maybe' }, start: number, end: number, depth: number): GVariantJust | null {
  // Spec §3.2.3: Nothing is empty. Just of a fixed-size child is the child's bytes; Just of a
  // variable-size child is the child's bytes plus one zero byte (so Just("") is not empty).
  if (end === start) return null;
  const e = type.element;
  if (e.fixedSize !== undefined) {
    if (end - start !== e.fixedSize) throw fail(ctx, type, start, `${end - start} bytes for Just of a ${e.fixedSize}-byte value`);
    return { just: decode(ctx, e, start, end, depth + 1) };
  }
  if (ctx.bytes[end - 1] !== 0) throw fail(ctx, type, end - 1, 'Just of a variable-size value does not end with a zero byte');
  return { just: decode(ctx, e, start, end - 1, depth + 1) };
}

function decodeArray(ctx: Ctx, type: GVariantType & { kind: 'array' }, start: number, end: number, depth: number): GVariantValue {
  const e = type.element;
  const size = end - start;
  if (e.kind === 'basic' && e.code === 'y') return new Uint8Array(ctx.bytes.subarray(start, end));
  const items: GVariantValue[] = [];
  if (e.fixedSize !== undefined) {
    // Spec §3.2.4 "Fixed-size elements": back to back, no framing; the size is a multiple of
    // the element size (which already includes the element's trailing padding).
    if (size % e.fixedSize !== 0) throw fail(ctx, type, start, `${size} bytes is not a multiple of the ${e.fixedSize}-byte element`);
    for (let p = start; p < end; p += e.fixedSize) items.push(decode(ctx, e, p, p + e.fixedSize, depth + 1));
  } else if (size > 0) {
    // Spec §3.2.4 "Variable-size elements": each element aligned, then one framing offset per
    // element (the end of that element), in order, at the end of the array. The last offset
    // is the end of the last element, which is where the offset table starts.
    const os = offsetSize(size);
    const tableStart = readOffset(ctx, type, end - os, os);
    if (tableStart > size || (size - tableStart) % os !== 0) throw fail(ctx, type, start, 'framing offsets do not fit the array');
    const n = (size - tableStart) / os;
    if (n === 0) throw fail(ctx, type, start, 'a non-empty array with no framing offsets');
    if (normalTotalSize(tableStart, n) !== size) throw fail(ctx, type, start, `framing offsets are wider than needed (${os} bytes)`);
    let pos = 0;
    for (let i = 0; i < n; i++) {
      const s = alignUp(pos, e.alignment);
      const eEnd = readOffset(ctx, type, start + tableStart + i * os, os);
      if (s > eEnd || eEnd > tableStart) throw fail(ctx, type, start + tableStart + i * os, `element ${i} framing offset ${eEnd} is out of order or out of bounds`);
      checkZero(ctx, type, start + pos, start + s);
      items.push(decode(ctx, e, start + s, start + eEnd, depth + 1));
      pos = eEnd;
    }
  }
  if (e.kind !== 'dict-entry') return items;
  const dict = new Map<GVariantDictKey, GVariantValue>();
  for (const entry of items) {
    const [k, v] = entry as readonly [GVariantDictKey, GVariantValue];
    if (!dict.has(k)) dict.set(k, v);
  }
  return dict;
}

function decodeTuple(ctx: Ctx, type: GVariantType & { kind: 'tuple' | 'dict-entry' }, start: number, end: number, depth: number): GVariantValue[] {
  const size = end - start;
  const members = type.members;
  if (type.fixedSize !== undefined && size !== type.fixedSize) throw fail(ctx, type, start, `${size} bytes for a ${type.fixedSize}-byte value`);
  if (members.length === 0) {
    // Spec §3.2.6: the unit tuple is one zero byte.
    checkZero(ctx, type, start, end);
    return [];
  }
  // Spec §3.2.6 "Tuples": members in order, each aligned; a framing offset (the member's end)
  // for every variable-size member except the last, stored back to front at the end.
  const os = offsetSize(size);
  let nOffsets = 0;
  for (let i = 0; i < members.length - 1; i++) if ((members[i] as GVariantType).fixedSize === undefined) nOffsets++;
  const tableStart = size - nOffsets * os;
  if (tableStart < 0) throw fail(ctx, type, start, 'too small for its framing offsets');
  const out: GVariantValue[] = [];
  let pos = 0;
  let k = 0;
  members.forEach((m, i) => {
    const s = alignUp(pos, m.alignment);
    let mEnd: number;
    if (m.fixedSize !== undefined) mEnd = s + m.fixedSize;
    else if (i === members.length - 1) mEnd = tableStart;
    else {
      k++;
      mEnd = readOffset(ctx, type, end - k * os, os);
    }
    if (s > mEnd || mEnd > tableStart) throw fail(ctx, type, start + s, `member ${i} (${m.typeString}) does not fit: ${s}..${mEnd} of ${tableStart}`);
    checkZero(ctx, type, start + pos, start + s);
    out.push(decode(ctx, m, start + s, start + mEnd, depth + 1));
    pos = mEnd;
  });
  if (type.fixedSize !== undefined) {
    // Trailing padding up to the tuple's alignment.
    checkZero(ctx, type, start + pos, end);
  } else {
    if (pos !== tableStart) throw fail(ctx, type, start + pos, 'bytes between the last member and the framing offsets');
    // The writer's form has one byte per offset even when everything is empty, but GLib also
    // calls the empty serialisation normal (see readOffset); so do we.
    if (size > 0 && normalTotalSize(tableStart, nOffsets) !== size) throw fail(ctx, type, start, `framing offsets are wider than needed (${os} bytes)`);
  }
  return out;
}

function decode(ctx: Ctx, type: GVariantType, start: number, end: number, depth: number): GVariantValue {
  if (depth > GVARIANT_MAX_DEPTH) throw fail(ctx, type, start, `nested deeper than ${GVARIANT_MAX_DEPTH}`);
  switch (type.kind) {
    case 'basic':
      return decodeBasic(ctx, type, start, end);
    case 'variant':
      return decodeVariant(ctx, type, start, end, depth);
    case 'maybe':
      return decodeMaybe(ctx, type, start, end, depth);
    case 'array':
      return decodeArray(ctx, type, start, end, depth);
    case 'tuple':
    case 'dict-entry':
      return decodeTuple(ctx, type, start, end, depth);
  }
}

/**
 * Decode `bytes` as a GVariant of type `type` (a type string such as `'a{sv}'`, or a parsed
 * type). Throws InvalidArgument for a malformed type string (the caller's bug) and DataLoss for
 * bytes that are not the normal-form serialisation of a value of that type.
 */
export function parseVariant(type: string | GVariantType, bytes: Uint8Array, options: ParseVariantOptions = {}): GVariantValue {
  const t = typeof type === 'string' ? parseVariantType(type) : type;
  const ctx: Ctx = {
    bytes,
    view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    // fatal: malformed UTF-8 is an error, not U+FFFD; ignoreBOM: a leading U+FEFF is content.
    utf8: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }),
    subject: options.subject,
  };
  return decode(ctx, t, 0, bytes.length, 0);
}

// --- narrowing helpers for callers that know the type they asked for ------------------------------

export function isGVariantVariant(v: GVariantValue): v is GVariantVariant {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !(v instanceof Map) && !Array.isArray(v) && 'type' in v;
}

export function isGVariantJust(v: GVariantValue): v is GVariantJust {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !(v instanceof Map) && !Array.isArray(v) && 'just' in v;
}

export function isGVariantDict(v: GVariantValue): v is ReadonlyMap<GVariantDictKey, GVariantValue> {
  return v instanceof Map;
}

export function isGVariantArray(v: GVariantValue): v is readonly GVariantValue[] {
  return Array.isArray(v);
}

/**
 * g_variant_lookup_value on an `a{sv}`: the value inside the variant stored under `key`, if
 * there is one and it has `expectedType`; undefined otherwise (GLib returns NULL for both).
 */
export function lookupVardict(dict: ReadonlyMap<GVariantDictKey, GVariantValue>, key: string, expectedType?: string): GVariantValue | undefined {
  const entry = dict.get(key);
  if (entry === undefined || !isGVariantVariant(entry)) return undefined;
  if (expectedType !== undefined && entry.type !== expectedType) return undefined;
  return entry.value;
}
