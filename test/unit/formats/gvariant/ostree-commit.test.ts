// parseOstreeCommit on commit objects built by GLib (python3-gi). The real `ostree` CLI as the
// oracle is in test/integration/ostree-ed25519.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OSTREE_COMMIT_GVARIANT_FORMAT, parseOstreeCommit } from '../../../../src/formats/gvariant/ostree-commit.js';
import { DataLoss } from '../../../../src/lib/errors.js';
import { glibSerialise } from './glib-oracle.js';

/** A Python expression for a commit; `ts` is stored big-endian, as ostree_repo_write_commit does. */
function commitExpr(o: { meta?: string; parent?: string; related?: string; ts?: string; contents?: string; dirmeta?: string; subject?: string }): string {
  const ts = o.ts ?? '1700000000';
  return (
    `V('${OSTREE_COMMIT_GVARIANT_FORMAT}', (` +
    `${o.meta ?? "{'version': V('s', '1.2'), 'n': V('i', 3)}"}, ${o.parent ?? 'bytes(range(32))'}, ${o.related ?? "[('rel', bytes([1] * 32))]"}, ` +
    `${o.subject ?? "'Subject ✓'"}, 'line 1\\nline 2', int.from_bytes((${ts}).to_bytes(8, 'big'), 'little'), ` +
    `${o.contents ?? 'bytes([0xaa] * 32)'}, ${o.dirmeta ?? 'bytes([0xbb] * 32)'}))`
  );
}

test('decodes every field of a commit, with the big-endian timestamp', () => {
  const [full, root, late, noVersion] = glibSerialise([
    { op: 'eval', type: OSTREE_COMMIT_GVARIANT_FORMAT, expr: commitExpr({}) },
    { op: 'eval', type: OSTREE_COMMIT_GVARIANT_FORMAT, expr: commitExpr({ parent: "b''", related: '[]', meta: '{}' }) },
    { op: 'eval', type: OSTREE_COMMIT_GVARIANT_FORMAT, expr: commitExpr({ ts: '2**63 + 5' }) },
    { op: 'eval', type: OSTREE_COMMIT_GVARIANT_FORMAT, expr: commitExpr({ meta: "{'version': V('i', 2)}" }) },
  ]);
  const c = parseOstreeCommit(full!.bytes);
  assert.equal(c.subject, 'Subject ✓');
  assert.equal(c.body, 'line 1\nline 2');
  assert.equal(c.timestampSec, 1700000000n);
  assert.equal(c.parent, Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('hex'));
  assert.deepStrictEqual(c.related, [{ name: 'rel', csum: '01'.repeat(32) }]);
  assert.equal(c.rootContentsCsum, 'aa'.repeat(32));
  assert.equal(c.rootMetadataCsum, 'bb'.repeat(32));
  assert.equal(c.version, '1.2');
  assert.deepStrictEqual(c.metadata, new Map([['version', { type: 's', value: '1.2' }], ['n', { type: 'i', value: 3 }]]));

  const r = parseOstreeCommit(root!.bytes);
  assert.equal(r.parent, undefined);
  assert.deepStrictEqual(r.related, []);
  assert.equal(r.version, undefined);
  assert.equal(r.metadata.size, 0);

  assert.equal(parseOstreeCommit(late!.bytes).timestampSec, 2n ** 63n + 5n);
  assert.equal(parseOstreeCommit(noVersion!.bytes).version, undefined, 'a non-string version is not a version');
});

test('refuses checksums that ostree_validate_structureof_commit refuses, and non-commits', () => {
  const [shortParent, shortRoot, longMeta, other] = glibSerialise([
    { op: 'eval', type: OSTREE_COMMIT_GVARIANT_FORMAT, expr: commitExpr({ parent: 'bytes(31)' }) },
    { op: 'eval', type: OSTREE_COMMIT_GVARIANT_FORMAT, expr: commitExpr({ contents: "b''" }) },
    { op: 'eval', type: OSTREE_COMMIT_GVARIANT_FORMAT, expr: commitExpr({ dirmeta: 'bytes(33)' }) },
    { op: 'eval', type: '(a{sv}ay)', expr: "V('(a{sv}ay)', ({}, b'x'))" },
  ]);
  assert.throws(() => parseOstreeCommit(shortParent!.bytes, 'c1'), (e) => e instanceof DataLoss && /^c1: parent checksum is 31 bytes/.test(e.message));
  assert.throws(() => parseOstreeCommit(shortRoot!.bytes), (e) => e instanceof DataLoss && /root dirtree checksum is 0 bytes/.test(e.message));
  assert.throws(() => parseOstreeCommit(longMeta!.bytes), (e) => e instanceof DataLoss && /root dirmeta checksum is 33 bytes/.test(e.message));
  assert.throws(() => parseOstreeCommit(other!.bytes), DataLoss);
  assert.throws(() => parseOstreeCommit(new Uint8Array(0)), DataLoss);
});
