// parseVariant against GLib's own serialiser (python3-gi): GLib writes, we read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  lookupVardict,
  parseVariant,
  type GVariantValue,
} from '../../../../src/formats/gvariant/parse-variant.js';
import { parseVariantType } from '../../../../src/formats/gvariant/variant-type.js';
import { DataLoss, InvalidArgument } from '../../../../src/lib/errors.js';
import { glibEval, glibInspect, glibSerialise, tagged } from './glib-oracle.js';
import { typedValue } from './arbitrary-variant.js';

/** [type, Python expression building the GLib value, what parseVariant must return]. */
const CASES: readonly (readonly [string, string, GVariantValue])[] = [
  ['b', "V('b', True)", true],
  ['b', "V('b', False)", false],
  ['y', "V('y', 255)", 255],
  ['n', "V('n', -2)", -2],
  ['q', "V('q', 65535)", 65535],
  ['i', "V('i', -5)", -5],
  ['u', "V('u', 4294967295)", 4294967295],
  ['x', "V('x', -9223372036854775808)", -9223372036854775808n],
  ['t', "V('t', 18446744073709551615)", 18446744073709551615n],
  ['h', "V('h', 3)", 3],
  ['d', "V('d', -1.5)", -1.5],
  ['s', "V('s', 'héllo ✓ 😀')", 'héllo ✓ 😀'],
  ['s', "V('s', '')", ''],
  ['o', "V('o', '/org/freedesktop/x_1')", '/org/freedesktop/x_1'],
  ['o', "V('o', '/')", '/'],
  ['g', "V('g', 'a{sv}(ii)')", 'a{sv}(ii)'],
  ['g', "V('g', '')", ''],
  ['ay', "V('ay', b'\\x00\\x01\\xff')", Uint8Array.of(0, 1, 255)],
  ['ay', "V('ay', b'')", new Uint8Array()],
  ['as', "V('as', ['a', '', 'bc'])", ['a', '', 'bc']],
  ['as', "V('as', [])", []],
  ['aas', "V('aas', [['a'], [], ['b', 'cd']])", [['a'], [], ['b', 'cd']]],
  ['aay', "V('aay', [b'', b'x', b'yz'])", [new Uint8Array(), Uint8Array.of(0x78), Uint8Array.of(0x79, 0x7a)]],
  ['a(yt)', "V('a(yt)', [(1, 2), (3, 4)])", [[1, 2n], [3, 4n]]],
  ['an', "V('an', [1, -1, 300])", [1, -1, 300]],
  ['ab', "V('ab', [True, False])", [true, false]],
  ['ad', "V('ad', [0.5, -2.0])", [0.5, -2]],
  [
    'a{sv}',
    "V('a{sv}', {'a': V('i', 1), 'b': V('s', 'x'), 'c': V('as', ['p'])})",
    new Map<string, GVariantValue>([
      ['a', { type: 'i', value: 1 }],
      ['b', { type: 's', value: 'x' }],
      ['c', { type: 'as', value: ['p'] }],
    ]),
  ],
  ['a{sv}', "V('a{sv}', {})", new Map()],
  ['a{ys}', "V('a{ys}', {7: 'seven', 0: ''})", new Map<number, string>([[7, 'seven'], [0, '']])],
  ['a{tb}', "V('a{tb}', {2**64-1: True})", new Map([[18446744073709551615n, true]])],
  ['mi', "V.new_maybe(GLib.VariantType('i'), None)", null],
  ['mi', "V('mi', 5)", { just: 5 }],
  ['ms', "V('ms', '')", { just: '' }],
  ['mmi', "V.new_maybe(GLib.VariantType('mi'), V.new_maybe(GLib.VariantType('i'), None))", { just: null }],
  ['mmi', "V.new_maybe(GLib.VariantType('mi'), None)", null],
  ['mas', "V('mas', [])", { just: [] }],
  ['ams', "V('ams', ['a', None, ''])", [{ just: 'a' }, null, { just: '' }]],
  ['()', 'V.new_tuple()', []],
  ['(())', 'V.new_tuple(V.new_tuple())', [[]]],
  ['a()', 'V.new_array(GLib.VariantType("()"), [V.new_tuple(), V.new_tuple()])', [[], []]],
  ['(ia{sv}s)', "V('(ia{sv}s)', (1, {'k': V('b', True)}, 'end'))", [1, new Map([['k', { type: 'b', value: true }]]), 'end']],
  ['(sss)', "V('(sss)', ('a', '', 'ccc'))", ['a', '', 'ccc']],
  ['(ysay)', "V('(ysay)', (9, 'x', b'\\x01'))", [9, 'x', Uint8Array.of(1)]],
  ['(ayy)', "V('(ayy)', (b'', 1))", [new Uint8Array(), 1]],
  ['{sv}', "V.new_dict_entry(V('s', 'k'), V.new_variant(V('i', 1)))", ['k', { type: 'i', value: 1 }]],
  ['v', "V('v', V('v', V('i', 7)))", { type: 'v', value: { type: 'i', value: 7 } }],
  ['v', 'V.new_variant(V.new_tuple())', { type: '()', value: [] }],
  ['v', "V('v', V('ay', b''))", { type: 'ay', value: new Uint8Array() }],
  ['av', "V('av', [])", []],
  ['av', "V('av', [V('s', 'a'), V('t', 1)])", [{ type: 's', value: 'a' }, { type: 't', value: 1n }]],
  ['a(say)', "V('a(say)', [('n', bytes(32))])", [['n', new Uint8Array(32)]]],
];

test('decodes what GLib serialises, value by value (the mapping to JS values)', () => {
  const out = glibSerialise(CASES.map(([type, expr]) => ({ op: 'eval' as const, type, expr })));
  CASES.forEach(([type, expr, want], i) => {
    const g = out[i]!;
    assert.equal(g.normal, true, expr);
    assert.deepStrictEqual(parseVariant(type, g.bytes), want, `${type} from ${expr}`);
    assert.deepStrictEqual(tagged(type, parseVariant(type, g.bytes)), g.desc, `${type} from ${expr} (GLib's reading)`);
  });
});

test('a{sv} with a repeated key keeps the first entry, like g_variant_lookup_value', () => {
  const g = glibEval(
    'a{sv}',
    "V.new_array(GLib.VariantType('{sv}'), [V.new_dict_entry(V('s', 'k'), V.new_variant(V('i', 1))), V.new_dict_entry(V('s', 'k'), V.new_variant(V('s', 'later')))])",
  );
  const d = parseVariant('a{sv}', g.bytes);
  assert.deepStrictEqual(d, new Map([['k', { type: 'i', value: 1 }]]));
  assert.ok(d instanceof Map);
  assert.equal(lookupVardict(d, 'k', 'i'), 1);
  assert.equal(lookupVardict(d, 'k', 's'), undefined, 'wrong type under the key -> nothing, as GLib');
  assert.equal(lookupVardict(d, 'missing'), undefined);
});

test('framing offsets of 1, 2 and 4 bytes (containers over 255 and over 65535 bytes)', () => {
  const cases = [
    // [type, expression, the smallest and largest size we want, the offset width GLib must use]
    ['as', "V('as', ['x' * 10] * 20)", 0, 255, 1],
    ['as', "V('as', ['x' * 10] * 30)", 256, 65535, 2],
    ['as', "V('as', ['x' * 10] * 7000)", 65536, 2 ** 32, 4],
    ['aay', "V('aay', [bytes([i % 256]) * (i % 7) for i in range(3000)])", 256, 65535, 2],
    ['a{sv}', "V('a{sv}', {'key%05d' % i: V('s', 'v' * (i % 5)) for i in range(6000)})", 65536, 2 ** 32, 4],
    ['(sasay)', "V('(sasay)', ('head', ['y' * 50] * 1500, b'z' * 10))", 65536, 2 ** 32, 4],
    ['(sasay)', "V('(sasay)', ('head', ['y' * 50] * 3, b'z' * 10))", 0, 255, 1],
    ['(sasay)', "V('(sasay)', ('head', ['y' * 50] * 10, b'z' * 10))", 256, 65535, 2],
    ['av', "V('av', [V('as', ['q' * 100] * 700), V('s', 'tail')])", 65536, 2 ** 32, 4],
    ['aas', "V('aas', [['a' * 300], ['b'] * 300, []])", 256, 65535, 2],
  ] as const;
  const out = glibSerialise(cases.map(([type, expr]) => ({ op: 'eval' as const, type, expr })));
  cases.forEach(([type, expr, min, max], i) => {
    const g = out[i]!;
    assert.ok(g.bytes.length >= min && g.bytes.length <= max, `${expr}: ${g.bytes.length} bytes not in ${min}..${max}`);
    const started = process.hrtime.bigint();
    const v = parseVariant(type, g.bytes);
    assert.deepStrictEqual(tagged(type, v), g.desc, expr);
    assert.ok(process.hrtime.bigint() - started < 2_000_000_000n, `${expr}: decoding took too long`);
  });
});

test('random types and values: GLib serialises, we decode the same value (property, 400 cases)', () => {
  const samples = fc.sample(typedValue(3), { numRuns: 400, seed: 0x6a5e });
  const out = glibSerialise(samples.map((s) => ({ op: 'build' as const, tree: s.node })));
  samples.forEach((s, i) => {
    const g = out[i]!;
    assert.equal(g.type, s.t);
    assert.equal(g.normal, true);
    let v: GVariantValue;
    try {
      v = parseVariant(s.t, g.bytes);
    } catch (e) {
      assert.fail(`${s.t} ${g.bytes.toString('hex')}: ${String(e)}`);
    }
    assert.deepStrictEqual(tagged(s.t, v), g.desc, `${s.t} ${g.bytes.toString('hex')}`);
  });
});

/** Nested variants: an int32 in `depth` variants. */
function nestedVariants(depth: number): Buffer {
  const parts = [Buffer.from([7, 0, 0, 0]), Buffer.from('\0i')];
  for (let i = 1; i < depth; i++) parts.push(Buffer.from('\0v'));
  return Buffer.concat(parts);
}

test('malformed bytes are DataLoss, and GLib agrees they are not normal form', () => {
  const bad: readonly (readonly [string, Buffer, RegExp])[] = [
    ['i', Buffer.from([1, 2, 3]), /3 bytes for a 4-byte value/],
    ['b', Buffer.from([2]), /boolean byte is 2/],
    ['s', Buffer.from('abc'), /not NUL-terminated/],
    ['s', Buffer.from(''), /empty string value/],
    ['s', Buffer.from('a\0b\0'), /holds a NUL/],
    ['s', Buffer.from([0xff, 0xfe, 0]), /not valid UTF-8/],
    ['s', Buffer.from([0xed, 0xa0, 0x80, 0]), /not valid UTF-8/], // an encoded surrogate
    ['o', Buffer.from('a/b\0'), /not a valid object path/],
    ['o', Buffer.from('/a/\0'), /not a valid object path/],
    ['g', Buffer.from('m\0'), /not a valid signature/],
    ['g', Buffer.from('a\0'), /not a valid signature/],
    ['as', Buffer.from('ab\0\x09'), /framing offsets do not fit/],
    ['as', Buffer.from('ab\0c\0\x05\x03'), /out of order/],
    ['aay', Buffer.alloc(256), /wider than needed/], // GLib CVE-2023-29499: 128 empty arrays with 2-byte offsets
    // ('x' * 250, b'abc') fits 255 bytes with a 1-byte offset; here with a 2-byte one.
    ['(say)', Buffer.concat([Buffer.from('x'.repeat(250) + '\0abc'), Buffer.from([251, 0])]), /wider than needed/],
    ['ai', Buffer.from([1, 0, 0, 0, 2]), /not a multiple/],
    ['v', Buffer.from('abc'), /no type string separator/],
    ['v', Buffer.from('\0a'), /ends inside a type/],
    ['v', Buffer.from('\0\0\0\0\0ii'), /more than one type/],
    ['v', Buffer.from('\0*'), /not a definite GVariant type/],
    ['v', Buffer.from([1, 0, 0xc3, 0xa9]), /not ASCII/],
    ['v', Buffer.from([1, 0, 0, 0, 0, 0, 0x69]), /5 bytes for a 4-byte value/],
    ['mi', Buffer.from([1, 2]), /2 bytes for Just of a 4-byte value/],
    ['ms', Buffer.from('a\0b'), /does not end with a zero byte/],
    ['()', Buffer.from([1]), /non-zero padding/],
    ['()', Buffer.from([]), /0 bytes for a 1-byte value/],
    ['(yt)', Buffer.from([1, 9, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]), /non-zero padding/],
    ['(ss)', Buffer.from('a\0b\0\x09'), /does not fit/],
    ['(ss)', Buffer.from('a\0b\0\x01'), /string is not NUL-terminated/],
    ['(sy)', Buffer.from('a\0\x05\x07\x02'), /between the last member and the framing offsets/],
    ['a{sv}', Buffer.from([0x6b, 0, 1, 0, 0, 0, 0, 0, 0, 0]), /.+/],
    ['v', nestedVariants(200), /nested deeper than 128|nests deeper than 128/],
  ];
  for (const [type, bytes, re] of bad) {
    assert.throws(
      () => parseVariant(type, bytes),
      (e) => e instanceof DataLoss && re.test(e.message),
      `${type} ${bytes.toString('hex')}`,
    );
  }
  const glib = glibInspect(bad.map(([type, bytes]) => ({ type, bytes })));
  bad.forEach(([type, bytes], i) => assert.equal(glib[i]!.normal, false, `GLib calls ${type} ${bytes.toString('hex')} normal form`));
});

test('error messages name the subject and the byte', () => {
  assert.throws(
    () => parseVariant('(ss)', Buffer.from('a\0b\0\x09'), { subject: 'objects/ab/cd.commit' }),
    (e) => e instanceof DataLoss && e.subject === 'objects/ab/cd.commit' && /^objects\/ab\/cd\.commit: GVariant \(ss\) at byte \d+: /.test(e.message),
  );
});

test('nesting: the same depth limit as GLib (G_VARIANT_MAX_RECURSION_DEPTH = 128), at the boundary', () => {
  let v: GVariantValue = parseVariant('v', nestedVariants(127));
  let n = 0;
  while (typeof v === 'object' && v !== null && 'type' in v) {
    v = v.value;
    n++;
  }
  assert.equal(n, 127);
  assert.equal(v, 7);
  // [type, bytes]: nested variants, deep array types inside a variant at depth 0 and at depth 1.
  const inVariant = (d: number) => Buffer.from('\0' + 'a'.repeat(d) + 'y');
  const inAv = (d: number) => Buffer.concat([inVariant(d), Buffer.from([d + 2])]);
  const cases: [string, Buffer][] = [
    ['v', nestedVariants(127)],
    ['v', nestedVariants(128)],
    ['v', nestedVariants(200)],
    ['v', inVariant(126)],
    ['v', inVariant(127)],
    ['av', inAv(125)],
    ['av', inAv(126)],
    ['a'.repeat(128) + 'y', Buffer.alloc(0)],
  ];
  const glib = glibInspect(cases.map(([type, bytes]) => ({ type, bytes })));
  const ours = cases.map(([type, bytes]) => {
    try {
      parseVariant(type, bytes);
      return true;
    } catch (e) {
      if (e instanceof DataLoss) return false;
      throw e;
    }
  });
  assert.deepStrictEqual(ours, [true, false, false, true, false, true, false, true]);
  assert.deepStrictEqual(ours, glib.map((g) => g.normal));
  assert.throws(() => parseVariantType('a'.repeat(129) + 'y'), InvalidArgument);
});

test('a tuple whose members are all empty may be serialised as no bytes, as GLib accepts', () => {
  // GLib writes ([], []) as one byte (the framing offset 0) but its normal-form check also
  // accepts zero bytes: a size-0 container has 0-byte framing offsets, which read as 0.
  const g = glibEval('(asas)', "V('(asas)', ([], []))");
  assert.deepStrictEqual([...g.bytes], [0]);
  assert.deepStrictEqual(parseVariant('(asas)', g.bytes), [[], []]);
  assert.deepStrictEqual(parseVariant('(asas)', Buffer.alloc(0)), [[], []]);
  assert.throws(() => parseVariant('(sas)', Buffer.alloc(0)), DataLoss);
  assert.deepStrictEqual(glibInspect([{ type: '(asas)', bytes: Buffer.alloc(0) }, { type: '(sas)', bytes: Buffer.alloc(0) }]).map((x) => x.normal), [true, false]);
});

test('a malformed or indefinite type string from the caller is InvalidArgument', () => {
  for (const t of ['', 'a', '(i', 'i)', '{vs}', '{s}', '{sss}', 'r', '*', '?', 'ii', 'z', 'a'.repeat(200) + 'i']) {
    assert.throws(() => parseVariant(t, Buffer.alloc(0)), InvalidArgument, JSON.stringify(t));
  }
  const t = parseVariantType('(a{sv}aya(say)sstayay)');
  assert.equal(t.kind, 'tuple');
  assert.equal(t.alignment, 8);
  assert.equal(t.fixedSize, undefined);
  assert.equal(parseVariantType('(yt)').fixedSize, 16);
  assert.equal(parseVariantType('(ty)').fixedSize, 16);
  assert.equal(parseVariantType('(yy)').fixedSize, 2);
  assert.equal(parseVariantType('()').fixedSize, 1);
  assert.equal(parseVariantType('{yi}').fixedSize, 8);
});
