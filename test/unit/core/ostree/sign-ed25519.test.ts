// verifyCommitEd25519 follows libostree's ed25519 engine (ostree-sign-ed25519.c); detached
// metadata is built by GLib (python3-gi), signatures by node:crypto. The end-to-end test with the
// real `ostree` and `openssl` is test/integration/ostree-ed25519.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import {
  parseEd25519PublicKey,
  parseTrustedKeys,
  verifyCommitEd25519,
  type Ed25519Verification,
} from '../../../../src/core/ostree/sign-ed25519.js';
import { DataLoss, InvalidArgument } from '../../../../src/lib/errors.js';
import { glibSerialise } from '../../formats/gvariant/glib-oracle.js';

interface Key {
  readonly priv: KeyObject;
  readonly raw: Uint8Array;
}

function newKey(): Key {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  return { priv: privateKey, raw: new Uint8Array(Buffer.from(jwk.x as string, 'base64url')) };
}

const commit = Buffer.from('pretend these are the bytes of a .commit object\0\x01\x02');
const k1 = newKey();
const k2 = newKey();
const k3 = newKey();
const sigBy = (k: Key, data: Uint8Array = commit): Buffer => sign(null, data, k.priv);

const py = (b: Uint8Array) => `bytes.fromhex('${Buffer.from(b).toString('hex')}')`;
const aay = (sigs: readonly Uint8Array[]) => `V('aay', [${sigs.map(py).join(', ')}])`;

/** The a{sv} `ostree sign` writes: other entries plus `ostree.sign.ed25519` -> aay. */
function metas(exprs: readonly string[]): Buffer[] {
  return glibSerialise(exprs.map((expr) => ({ op: 'eval' as const, type: 'a{sv}', expr }))).map((s) => s.bytes);
}
const signed = (sigs: readonly Uint8Array[]) => `V('a{sv}', {'other': V('s', 'x'), 'ostree.sign.ed25519': ${aay(sigs)}})`;

function invalid(r: Ed25519Verification): string {
  assert.equal(r.valid, false, JSON.stringify(r));
  return r.valid ? '' : r.reason;
}

test('verifies with the trusted key that signed; one good signature among bad ones is enough', () => {
  const [one, badThenGood] = metas([signed([sigBy(k1)]), signed([sigBy(k2), sigBy(k3, Buffer.from('other data')), sigBy(k1)])]);
  const r = verifyCommitEd25519({ commitBytes: commit, detachedMetadata: one, trustedKeys: [k1.raw] });
  assert.ok(r.valid);
  assert.equal(r.keyIndex, 0);
  assert.equal(r.signatureIndex, 0);
  assert.deepStrictEqual(r.publicKey, k1.raw);
  assert.match(r.message, new RegExp(Buffer.from(k1.raw).toString('hex')));

  const r2 = verifyCommitEd25519({ commitBytes: commit, detachedMetadata: badThenGood, trustedKeys: [k3.raw, k1.raw] });
  assert.ok(r2.valid);
  assert.equal(r2.keyIndex, 1);
  assert.equal(r2.signatureIndex, 2);
});

test('refuses: wrong key, tampered commit, tampered signature', () => {
  const good = sigBy(k1);
  const flipped = Buffer.from(good);
  flipped[10] = (flipped[10] ?? 0) ^ 1;
  const [meta, metaFlipped] = metas([signed([good]), signed([flipped])]);
  const wrong = verifyCommitEd25519({ commitBytes: commit, detachedMetadata: meta, trustedKeys: [k2.raw] });
  assert.equal(invalid(wrong), 'bad-signature');
  assert.ok(!wrong.valid && wrong.message.includes(Buffer.from(k2.raw).toString('hex')));

  const tampered = Buffer.from(commit);
  tampered[0] = (tampered[0] ?? 0) ^ 0x20;
  assert.equal(invalid(verifyCommitEd25519({ commitBytes: tampered, detachedMetadata: meta, trustedKeys: [k1.raw] })), 'bad-signature');
  assert.equal(invalid(verifyCommitEd25519({ commitBytes: commit, detachedMetadata: metaFlipped, trustedKeys: [k1.raw] })), 'bad-signature');
  assert.equal(invalid(verifyCommitEd25519({ commitBytes: commit.subarray(1), detachedMetadata: meta, trustedKeys: [k1.raw] })), 'bad-signature');
});

test('revoked keys never verify, even when also trusted', () => {
  const [meta] = metas([signed([sigBy(k1)])]);
  assert.equal(invalid(verifyCommitEd25519({ commitBytes: commit, detachedMetadata: meta, trustedKeys: [k1.raw], revokedKeys: [k1.raw] })), 'all-keys-revoked');
  assert.equal(
    invalid(verifyCommitEd25519({ commitBytes: commit, detachedMetadata: meta, trustedKeys: [k1.raw, k2.raw], revokedKeys: [Uint8Array.from(k1.raw)] })),
    'bad-signature',
  );
  assert.ok(verifyCommitEd25519({ commitBytes: commit, detachedMetadata: meta, trustedKeys: [k1.raw], revokedKeys: [k2.raw] }).valid);
});

test('no metadata, no entry, an entry of another type, an empty list, corrupt metadata', () => {
  const [noEntry, wrongType, asString, empty, dupFirstBad, dupFirstGood] = metas([
    "V('a{sv}', {'ostree.sign.dummy': V('aay', [b'x'])})",
    `V('a{sv}', {'ostree.sign.ed25519': V('ay', ${py(sigBy(k1))})})`,
    "V('a{sv}', {'ostree.sign.ed25519': V('as', ['x'])})",
    "V('a{sv}', {'ostree.sign.ed25519': V('aay', [])})",
    // Repeated key: GLib's lookup (and so libostree) sees only the first entry.
    `V.new_array(GLib.VariantType('{sv}'), [V.new_dict_entry(V('s', 'ostree.sign.ed25519'), V.new_variant(${aay([sigBy(k2)])})), V.new_dict_entry(V('s', 'ostree.sign.ed25519'), V.new_variant(${aay([sigBy(k1)])}))])`,
    `V.new_array(GLib.VariantType('{sv}'), [V.new_dict_entry(V('s', 'ostree.sign.ed25519'), V.new_variant(${aay([sigBy(k1)])})), V.new_dict_entry(V('s', 'ostree.sign.ed25519'), V.new_variant(${aay([sigBy(k2)])}))])`,
  ]);
  const v = (detachedMetadata: Uint8Array | undefined) => verifyCommitEd25519({ commitBytes: commit, detachedMetadata, trustedKeys: [k1.raw] });
  assert.equal(invalid(v(undefined)), 'no-detached-metadata');
  assert.equal(invalid(v(noEntry)), 'no-signatures');
  assert.equal(invalid(v(wrongType)), 'no-signatures');
  assert.equal(invalid(v(asString)), 'no-signatures');
  assert.equal(invalid(v(empty)), 'no-signatures');
  assert.equal(invalid(v(dupFirstBad)), 'bad-signature');
  assert.ok(v(dupFirstGood).valid);

  const corrupt = v(Buffer.from('definitely not an a{sv}'));
  assert.equal(invalid(corrupt), 'malformed-detached-metadata');
  assert.ok(!corrupt.valid && corrupt.cause instanceof DataLoss);
  assert.equal(invalid(v(new Uint8Array(0))), 'no-signatures', 'an empty a{sv} is a valid, empty dictionary');
});

test('a signature that is not 64 bytes fails at once, unless a good one came first (validate_length)', () => {
  const short = sigBy(k1).subarray(0, 63);
  const [shortFirst, goodFirst, long] = metas([signed([short, sigBy(k1)]), signed([sigBy(k1), short]), signed([Buffer.concat([sigBy(k1), Buffer.from([0])])])]);
  const v = (detachedMetadata: Uint8Array | undefined) => verifyCommitEd25519({ commitBytes: commit, detachedMetadata, trustedKeys: [k1.raw] });
  assert.equal(invalid(v(shortFirst)), 'malformed-signature');
  assert.ok(v(goodFirst).valid);
  assert.equal(invalid(v(long)), 'malformed-signature');
});

test('keys: none trusted is a failure; a key that is not 32 bytes is the caller\'s bug', () => {
  const [meta] = metas([signed([sigBy(k1)])]);
  assert.equal(invalid(verifyCommitEd25519({ commitBytes: commit, detachedMetadata: meta, trustedKeys: [] })), 'no-trusted-keys');
  assert.throws(() => verifyCommitEd25519({ commitBytes: commit, detachedMetadata: meta, trustedKeys: [k1.raw.subarray(1)] }), InvalidArgument);
  assert.throws(() => verifyCommitEd25519({ commitBytes: commit, detachedMetadata: meta, trustedKeys: [k1.raw], revokedKeys: [new Uint8Array(33)] }), InvalidArgument);
});

test('many failing keys: the message is capped like upstream ("tried N keys")', () => {
  const [meta] = metas([signed([sigBy(k1)])]);
  const others = Array.from({ length: 5 }, () => newKey().raw);
  const r = verifyCommitEd25519({ commitBytes: commit, detachedMetadata: meta, trustedKeys: others });
  assert.ok(!r.valid && /tried 5 keys/.test(r.message));
});

test('random 64-byte signatures never verify and never throw (property)', () => {
  // Build the metadata by hand (a{sv} with one aay entry) so the property needs no python: the
  // layout is checked against GLib by the tests above, which produce the same bytes.
  const [reference] = metas([`V('a{sv}', {'ostree.sign.ed25519': ${aay([new Uint8Array(64)])}})`]);
  const zeroSigAt = reference!.indexOf(Buffer.alloc(64));
  assert.ok(zeroSigAt >= 0);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (sig) => {
      const meta = Buffer.from(reference!);
      Buffer.from(sig).copy(meta, zeroSigAt);
      const r = verifyCommitEd25519({ commitBytes: commit, detachedMetadata: meta, trustedKeys: [k1.raw, k2.raw] });
      assert.equal(r.valid, false);
    }),
    { numRuns: 300, seed: 5 },
  );
});

test('parseTrustedKeys: one base64 key per line, file:line for every bad line', () => {
  const b64 = (k: Key) => Buffer.from(k.raw).toString('base64');
  assert.deepStrictEqual(parseTrustedKeys(`${b64(k1)}\n${b64(k2)}\n`, 'trusted.ed25519'), [k1.raw, k2.raw]);
  assert.deepStrictEqual(parseTrustedKeys(`${b64(k1)}\r\n  ${b64(k2).replace(/=$/, '')}  `, 'f'), [k1.raw, k2.raw], 'CRLF, blanks around, no padding');
  assert.deepStrictEqual(parseTrustedKeys('', 'empty'), []);
  assert.throws(
    () => parseTrustedKeys(`${b64(k1)}\n\n# comment\n${Buffer.alloc(33).toString('base64')}\n${b64(k2)}\n`, '/etc/ostree/trusted.ed25519'),
    (e) =>
      e instanceof InvalidArgument &&
      e.subject === '/etc/ostree/trusted.ed25519' &&
      /^\/etc\/ostree\/trusted\.ed25519:2: /.test(e.message) &&
      e.problems.length === 3 &&
      /:3: /.test(e.problems[1] ?? '') &&
      /:4: /.test(e.problems[2] ?? ''),
  );
  // 'B' as the 43rd character sets bits a canonical encoding of 32 bytes leaves zero.
  assert.throws(() => parseEd25519PublicKey('A'.repeat(42) + 'B=', 'verification-ed25519-key'), (e) => e instanceof InvalidArgument && /canonical/.test(e.message));
  assert.throws(() => parseEd25519PublicKey('_'.repeat(43) + '=', 'k'), InvalidArgument, 'base64url is not accepted');
  assert.deepStrictEqual(parseEd25519PublicKey(b64(k3), 'k'), k3.raw);
});
