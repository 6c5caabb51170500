// Properties of parseVariant on hostile input:
//   1. any byte string, for any of several types, decodes or throws DataLoss: never another
//      error class (RangeError, TypeError), never a hang;
//   2. on mutations of valid GLib serialisations, we accept exactly what GLib calls normal form
//      (g_variant_is_normal_form on untrusted bytes), and then read the same value GLib reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseVariant } from '../../../../src/formats/gvariant/parse-variant.js';
import { parseVariantType } from '../../../../src/formats/gvariant/variant-type.js';
import { DataLoss } from '../../../../src/lib/errors.js';
import { glibInspect, glibSerialise, tagged, type Tagged } from './glib-oracle.js';
import { typedValue } from './arbitrary-variant.js';

const TYPES = [
  'a{sv}',
  '(a{sv}aya(say)sstayay)',
  'aay',
  'v',
  'av',
  'as',
  'a(yt)',
  'mmas',
  '(sasv)',
  '{sv}',
  'a{s(ayv)}',
  'a(sms)',
  '(ybnqiuxthdsog)',
  'ag',
  'ao',
];

test('random bytes: a value or DataLoss, never another error, and fast (property)', () => {
  const parsed = TYPES.map((t) => parseVariantType(t));
  let slowestNs = 0n;
  fc.assert(
    fc.property(fc.nat({ max: TYPES.length - 1 }), fc.uint8Array({ maxLength: 600 }), (ti, bytes) => {
      const started = process.hrtime.bigint();
      try {
        parseVariant(parsed[ti]!, bytes);
      } catch (e) {
        if (!(e instanceof DataLoss)) throw e;
      }
      const ns = process.hrtime.bigint() - started;
      if (ns > slowestNs) slowestNs = ns;
    }),
    { numRuns: 20000, seed: 42 },
  );
  // A bound for blow-ups (a super-linear decode of 600 bytes takes seconds), not a speed check:
  // a scheduling or GC pause on a loaded machine stays far below it.
  assert.ok(slowestNs < 2_000_000_000n, `slowest decode took ${slowestNs} ns`);
});

test('random bytes with a plausible shape (trailing small offsets, NULs, type strings) stay DataLoss-only', () => {
  // Random bytes rarely get past the framing-offset checks; bias them towards structure.
  const shaped = fc
    .tuple(
      fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 16 }), fc.integer({ min: 0, max: 255 })), { maxLength: 64 }),
      fc.constantFrom('', 'v', 's', 'i', 'as', 'a{sv}', '(sv)', 'mv', 'ay', 'aay'),
    )
    .map(([body, typeString]) => Uint8Array.from([...body, ...(typeString === '' ? [] : [0, ...Buffer.from(typeString)])]));
  fc.assert(
    fc.property(fc.constantFrom(...TYPES), shaped, (t, bytes) => {
      try {
        parseVariant(t, bytes);
      } catch (e) {
        if (!(e instanceof DataLoss)) throw e;
      }
    }),
    { numRuns: 20000, seed: 7 },
  );
});

/** A bomb of nested empty containers and variants must cost time linear in its size. */
test('deeply nested and wide inputs are refused or decoded quickly', () => {
  const deepArrays = 'a'.repeat(127) + 'y';
  assert.deepStrictEqual(parseVariant(deepArrays, new Uint8Array(0)), []);
  const t0 = process.hrtime.bigint();
  // `aay` of 200000 zero bytes: 50000 empty arrays with 4-byte offsets, which is normal form
  // (2-byte offsets would need 100000 > 65535 bytes). 70000 zero bytes are 17500 empty arrays
  // with 4-byte offsets where 2-byte ones (35000 bytes) would do: not normal form.
  const empties = parseVariant('aay', new Uint8Array(200_000));
  assert.ok(Array.isArray(empties) && empties.length === 50_000);
  assert.throws(() => parseVariant('aay', new Uint8Array(70_000)), (e) => e instanceof DataLoss && /wider than needed/.test(e.message));
  assert.throws(() => parseVariant('v', new Uint8Array(1_000_000).fill(0x61)), DataLoss);
  assert.throws(() => parseVariant('as', new Uint8Array(1_000_000).fill(0x61)), DataLoss);
  // Linear work is milliseconds; quadratic work on these sizes is minutes. The bound only
  // separates the two, with room for a loaded machine.
  assert.ok(process.hrtime.bigint() - t0 < 15_000_000_000n);
});

type Mutation = { kind: 'set'; at: number; byte: number } | { kind: 'truncate'; at: number } | { kind: 'insert'; at: number; byte: number } | { kind: 'delete'; at: number };

function mutate(bytes: Buffer, ms: readonly Mutation[]): Buffer {
  let b = Buffer.from(bytes);
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % (b.length + (m.kind === 'insert' ? 1 : 0));
    if (m.kind === 'set' && b.length > 0) b[at] = m.byte;
    else if (m.kind === 'truncate') b = b.subarray(0, at);
    else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from([m.byte]), b.subarray(at)]);
    else if (m.kind === 'delete' && b.length > 0) b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
  }
  return b;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.oneof(fc.constant(0), fc.nat({ max: 255 }), fc.nat({ max: 8 })) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.nat({ max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }) },
);

test('mutated GLib serialisations: we accept exactly GLib normal form, and read what GLib reads (differential)', () => {
  const values = fc.sample(typedValue(3), { numRuns: 400, seed: 0xbad5eed });
  const serialised = glibSerialise(values.map((v) => ({ op: 'build' as const, tree: v.node })));
  const mutations = fc.sample(fc.array(mutation, { minLength: 1, maxLength: 3 }), { numRuns: values.length * 5, seed: 99 });
  const cases = mutations.map((ms, i) => {
    const k = i % values.length;
    return { type: values[k]!.t, bytes: mutate(serialised[k]!.bytes, ms) };
  });
  const glib = glibInspect(cases);
  let accepted = 0;
  cases.forEach((c, i) => {
    let ours: Tagged | undefined;
    try {
      ours = tagged(c.type, parseVariant(c.type, c.bytes));
    } catch (e) {
      if (!(e instanceof DataLoss)) throw e;
    }
    const g = glib[i]!;
    const label = `${c.type} ${c.bytes.toString('hex')}`;
    assert.equal(ours !== undefined, g.normal, `${label}: we ${ours === undefined ? 'refuse' : 'accept'}, GLib normal form = ${g.normal}`);
    if (ours !== undefined) {
      accepted++;
      assert.deepStrictEqual(ours, g.desc, label);
    }
  });
  // The property is only worth something if both outcomes occur often.
  assert.ok(accepted > cases.length / 10 && accepted < cases.length * 0.9, `accepted ${accepted} of ${cases.length}`);
});
