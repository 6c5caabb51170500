// fast-check arbitraries of GVariant types with values, as GLib construction trees (BuildNode).
// The type strings are generated here independently of our type parser.
import fc from 'fast-check';
import type { BuildNode } from './glib-oracle.js';

export interface TypedValue {
  readonly t: string;
  readonly node: BuildNode;
}

interface Gen {
  readonly t: string;
  readonly value: fc.Arbitrary<BuildNode>;
}

const int = (min: number, max: number) => fc.integer({ min, max });

function leaf(t: string, a: fc.Arbitrary<boolean | number | string>): Gen {
  return { t, value: a.map((v) => ({ t, v })) };
}

const objectPath = fc
  .array(fc.stringMatching(/^[A-Za-z0-9_]{1,6}$/), { maxLength: 4 })
  .map((segs) => '/' + segs.join('/'));
const signature = fc.constantFrom('', 'i', 'a{sv}', '(ia{sv})', 'aay', 'v', 'a(say)', 'sstayay', '()', 'ybnqiuxthdsog');
const text = fc.string({ unit: 'binary', maxLength: 12 }).filter((s) => !s.includes('\0'));

function doubleHex(d: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(d);
  return b.toString('hex');
}

export const basicGens: readonly Gen[] = [
  leaf('b', fc.boolean()),
  leaf('y', int(0, 255)),
  leaf('n', int(-32768, 32767)),
  leaf('q', int(0, 65535)),
  leaf('i', int(-(2 ** 31), 2 ** 31 - 1)),
  leaf('u', int(0, 2 ** 32 - 1)),
  leaf('h', int(-(2 ** 31), 2 ** 31 - 1)),
  leaf('x', fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n).map(String)),
  leaf('t', fc.bigInt(0n, 2n ** 64n - 1n).map(String)),
  leaf('d', fc.double().map(doubleHex)),
  leaf('s', text),
  leaf('o', objectPath),
  leaf('g', signature),
];

/** Dict keys: basic types except doubles (whose 0/-0/NaN key identity differs between languages). */
const keyGens = basicGens.filter((g) => g.t !== 'd');

function arrayOf(c: Gen, maxLength: number): Gen {
  const t = `a${c.t}`;
  return { t, value: fc.array(c.value, { maxLength }).map((items) => ({ t, items })) };
}

function genType(depth: number): fc.Arbitrary<Gen> {
  const basic = fc.constantFrom(...basicGens);
  if (depth <= 0) return basic;
  const sub = fc.constant(null).chain(() => genType(depth - 1));
  return fc.oneof(
    { weight: 3, arbitrary: basic },
    { weight: 2, arbitrary: sub.map((c) => arrayOf(c, 5)) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom(...keyGens), sub).map(([k, c]): Gen => {
        const et = `{${k.t}${c.t}}`;
        const t = `a${et}`;
        const entry = fc.tuple(k.value, c.value).map(([key, value]) => ({ t: et, key, value }));
        return { t, value: fc.array(entry, { maxLength: 4 }).map((items) => ({ t, items })) };
      }),
    },
    {
      weight: 1,
      arbitrary: sub.map((c): Gen => {
        const t = `m${c.t}`;
        return { t, value: fc.option(c.value, { nil: undefined }).map((just) => (just === undefined ? { t } : { t, just })) };
      }),
    },
    {
      weight: 2,
      arbitrary: fc.array(sub, { maxLength: 4 }).map((members): Gen => {
        const t = `(${members.map((m) => m.t).join('')})`;
        return { t, value: fc.tuple(...members.map((m) => m.value)).map((items) => ({ t, items })) };
      }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom(...keyGens), sub).map(([k, c]): Gen => {
        const t = `{${k.t}${c.t}}`;
        return { t, value: fc.tuple(k.value, c.value).map(([key, value]) => ({ t, key, value })) };
      }),
    },
    {
      weight: 1,
      arbitrary: fc.constant<Gen>({
        t: 'v',
        value: genType(depth - 1).chain((inner) => inner.value.map((child) => ({ t: 'v', child }))),
      }),
    },
  );
}

/** A random type (nesting up to `depth`) with a random value of it. */
export function typedValue(depth = 3): fc.Arbitrary<TypedValue> {
  return genType(depth).chain((g) => g.value.map((node) => ({ t: g.t, node })));
}
