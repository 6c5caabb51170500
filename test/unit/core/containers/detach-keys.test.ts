import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_DETACH_KEYS, DetachKeyScanner, parseDetachKeys } from '../../../../src/core/containers/detach-keys.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

test("detach keys in moby/term's notation: ctrl-<a-z @ [ \\ ] ^ _> and single characters", () => {
  assert.deepEqual([...parseDetachKeys(DEFAULT_DETACH_KEYS)], [0x10, 0x11]);
  assert.deepEqual([...parseDetachKeys('ctrl-a,x,ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_,ctrl-Z')], [1, 0x78, 0, 27, 28, 29, 30, 31, 26]);
  for (const bad of ['ctrl-1', 'ab', 'ctrl-', '', 'ctrl-p,,ctrl-q']) {
    assert.throws(() => parseDetachKeys(bad, '--detach-keys'), (e: unknown) => e instanceof InvalidArgument && /^--detach-keys: invalid detach key/.test(e.message), bad);
  }
});

test('the scanner detaches on the sequence typed key by key and gives back a broken-off prefix', () => {
  const s = new DetachKeyScanner(parseDetachKeys('ctrl-p,ctrl-q'));
  assert.deepEqual(s.push(Buffer.from('ls\r')), { data: Buffer.from('ls\r'), detach: false });
  assert.equal(s.push(Uint8Array.of(0x10)).data.length, 0, 'held back');
  assert.deepEqual([...s.push(Uint8Array.of(0x61)).data], [0x10, 0x61], 'not the sequence: both go through');
  assert.equal(s.push(Uint8Array.of(0x10)).detach, false);
  assert.equal(s.push(Uint8Array.of(0x11)).detach, true);
});

test('bulk input (reads of more than one byte) passes untouched, whatever it holds', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 2, maxLength: 64 }), { maxLength: 20 }), (chunks) => {
      const s = new DetachKeyScanner(parseDetachKeys(DEFAULT_DETACH_KEYS));
      for (const c of chunks) {
        const r = s.push(c);
        assert.equal(r.detach, false);
        assert.deepEqual([...r.data], [...c]);
      }
    }),
  );
});
