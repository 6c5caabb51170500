// Upstream ostree's ed25519 commit signatures, end to end with real components:
//   - a real archive repo and commits made by the `ostree` CLI;
//   - signatures made by `openssl pkeyutl -sign -rawin` over the `.commit` object file, which is
//     what libostree's `ostree sign` signs (ostree_sign_commit: g_variant_get_data_as_bytes);
//   - the `.commitmeta` a{sv} { 'ostree.sign.ed25519': aay } built by GLib (python3-gi) and put
//     where ostree_repo_write_commit_detached_metadata puts it, which `ostree show
//     --print-detached-metadata-key` then reads back (Debian's ostree cannot sign: built without
//     ed25519);
//   - our decoder checked against `ostree show` / `ostree log` / `ostree ls` as oracles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTrustedKeys, verifyCommitEd25519 } from '../../src/core/ostree/sign-ed25519.js';
import { parseOstreeCommit } from '../../src/formats/gvariant/ostree-commit.js';
import { runOk, tempDir } from '../helpers.js';
import { commitmeta, ed25519Entry, newKey, objectPath, signFile } from '../fixtures/ed25519-sign.js';

const BRANCH = 'os/x86_64/stable';

interface Repo {
  readonly dir: string;
  readonly repo: string;
  /** Newest first: [second, first]. */
  readonly revs: readonly string[];
}

function makeRepo(dir: string): Repo {
  const repo = join(dir, 'repo');
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'usr', 'bin'), { recursive: true });
  writeFileSync(join(tree, 'usr', 'bin', 'hello'), '#!/bin/sh\necho hello\n', { mode: 0o755 });
  runOk('ostree', ['init', '--mode=archive', `--repo=${repo}`]);
  runOk('ostree', ['commit', `--repo=${repo}`, '-b', BRANCH, '--subject', 'First build', '--body', 'Body line one\nBody line two',
    '--timestamp=2024-01-02 03:04:05Z', '--add-metadata-string', 'version=1', tree]);
  writeFileSync(join(tree, 'usr', 'bin', 'second'), 'x');
  runOk('ostree', ['commit', `--repo=${repo}`, '-b', BRANCH, '--subject', "Second 'quoted' ✓", '--timestamp=2025-06-07 08:09:10Z',
    '--add-metadata-string', 'version=2.0-rc1', '--add-metadata-string', 'foo=bar', tree]);
  const second = runOk('ostree', ['rev-parse', `--repo=${repo}`, BRANCH]).stdout.trim();
  const first = runOk('ostree', ['rev-parse', `--repo=${repo}`, `${BRANCH}^`]).stdout.trim();
  return { dir, repo, revs: [second, first] };
}

/** What an adapter does: read the objects and key files, then ask the pure verifier. */
function verifyOnDisk(repo: string, rev: string, trustedFile: string, revokedFile?: string, commitBytes?: Buffer) {
  const metaPath = objectPath(repo, rev, 'commitmeta');
  return verifyCommitEd25519({
    commitBytes: commitBytes ?? readFileSync(objectPath(repo, rev, 'commit')),
    detachedMetadata: existsSync(metaPath) ? readFileSync(metaPath) : undefined,
    trustedKeys: parseTrustedKeys(readFileSync(trustedFile, 'utf8'), trustedFile),
    revokedKeys: revokedFile === undefined ? [] : parseTrustedKeys(readFileSync(revokedFile, 'utf8'), revokedFile),
    subject: rev,
  });
}

/**
 * `ostree show --print-detached-metadata-key=ostree.sign.ed25519`: `[[byte 0x01, 0x02, ...], ...]`.
 * GLib prints a byte array that ends in its only 0x00 as a bytestring instead, `b"..."` with C
 * and octal escapes and the final nul left implicit (a signature ending in 0x00: 1 run in 256).
 */
function ostreeReadsSignatures(repo: string, rev: string): Buffer[] {
  const out = runOk('ostree', ['show', `--repo=${repo}`, '--print-detached-metadata-key=ostree.sign.ed25519', rev]).stdout;
  return [...out.matchAll(/\[(?:byte )?((?:0x[0-9a-f]{2}(?:, )?)+)\]|b"((?:[^"\\]|\\.)*)"|b'((?:[^'\\]|\\.)*)'/g)].map((m) =>
    m[1] !== undefined ? Buffer.from(m[1].split(', ').map((h) => Number.parseInt(h, 16))) : glibBytestring(m[2] ?? m[3] ?? ''),
  );
}

/** The bytes of a GLib bytestring literal's body (between the quotes), with its implicit final nul. */
function glibBytestring(body: string): Buffer {
  const named: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11 };
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== '\\') {
      bytes.push(body.charCodeAt(i));
      continue;
    }
    const octal = /^[0-7]{1,3}/.exec(body.slice(i + 1))?.[0];
    if (octal !== undefined) {
      bytes.push(Number.parseInt(octal, 8));
      i += octal.length;
    } else {
      const c = body[++i] ?? '';
      bytes.push(named[c] ?? c.charCodeAt(0));
    }
  }
  return Buffer.from([...bytes, 0]);
}

test("ostree show's bytestring form of a nul-terminated signature reads back as the same bytes", () => {
  // What GLib printed for bytes a7 37 01 22 27 5c 7f 0a 80 ff 00 (python3-gi, g_variant_print).
  assert.deepEqual(glibBytestring('\\2477\\001\\"\'\\\\\\177\\n\\200\\377'), Buffer.from([0xa7, 0x37, 0x01, 0x22, 0x27, 0x5c, 0x7f, 0x0a, 0x80, 0xff, 0x00]));
});

test('ed25519: a commit signed with openssl verifies with the right key only, as libostree would decide', (t) => {
  const dir = tempDir(t, 'atomic-ed25519-');
  const { repo, revs } = makeRepo(dir);
  const [rev, parentRev] = revs as [string, string];
  const commitFile = objectPath(repo, rev, 'commit');
  // The `.commit` file is the object itself: its SHA-256 is the commit checksum.
  assert.equal(createHash('sha256').update(readFileSync(commitFile)).digest('hex'), rev);

  const key = newKey(dir, 'release');
  const other = newKey(dir, 'other');
  const sig = signFile(dir, key, commitFile);
  writeFileSync(objectPath(repo, rev, 'commitmeta'), commitmeta(ed25519Entry([sig])));
  // The real ostree finds and reads our detached metadata: it is upstream's on-disk format.
  assert.deepStrictEqual(ostreeReadsSignatures(repo, rev), [sig]);

  const trusted = join(dir, 'trusted.ed25519');
  writeFileSync(trusted, `${other.publicBase64}\n${key.publicBase64}\n`);
  const wrongOnly = join(dir, 'wrong.ed25519');
  writeFileSync(wrongOnly, `${other.publicBase64}\n`);
  const revoked = join(dir, 'revoked.ed25519');
  writeFileSync(revoked, `${key.publicBase64}\n`);

  const ok = verifyOnDisk(repo, rev, trusted);
  assert.ok(ok.valid, JSON.stringify(ok));
  assert.equal(ok.keyIndex, 1);
  assert.equal(Buffer.from(ok.publicKey).toString('base64'), key.publicBase64);

  const wrong = verifyOnDisk(repo, rev, wrongOnly);
  assert.ok(!wrong.valid && wrong.reason === 'bad-signature', JSON.stringify(wrong));

  const revokedResult = verifyOnDisk(repo, rev, trusted, revoked);
  assert.ok(!revokedResult.valid && revokedResult.reason === 'bad-signature', 'the other trusted key was tried and failed');
  const onlyRevoked = join(dir, 'only-release.ed25519');
  writeFileSync(onlyRevoked, `${key.publicBase64}\n`);
  const allRevoked = verifyOnDisk(repo, rev, onlyRevoked, revoked);
  assert.ok(!allRevoked.valid && allRevoked.reason === 'all-keys-revoked', JSON.stringify(allRevoked));

  // One byte of the commit object changed (the subject's first letter).
  const tampered = readFileSync(commitFile);
  const at = tampered.indexOf(Buffer.from("Second 'quoted'"));
  assert.ok(at > 0);
  tampered[at] = 0x73;
  assert.equal(parseOstreeCommit(tampered).subject, "second 'quoted' ✓", 'still a well-formed commit');
  const t1 = verifyOnDisk(repo, rev, trusted, undefined, tampered);
  assert.ok(!t1.valid && t1.reason === 'bad-signature');

  // One bit of the signature changed.
  const badSig = Buffer.from(sig);
  badSig[63] = (badSig[63] ?? 0) ^ 0x01;
  writeFileSync(objectPath(repo, rev, 'commitmeta'), commitmeta(ed25519Entry([badSig])));
  assert.deepStrictEqual(ostreeReadsSignatures(repo, rev), [badSig]);
  const t2 = verifyOnDisk(repo, rev, trusted);
  assert.ok(!t2.valid && t2.reason === 'bad-signature');

  // Bytes that end in their only 0x00 are printed by ostree (GLib) as a bytestring: read back the same.
  const nulEnded = Buffer.from(sig.map((x) => (x === 0 ? 1 : x)));
  nulEnded[63] = 0;
  writeFileSync(objectPath(repo, rev, 'commitmeta'), commitmeta(ed25519Entry([nulEnded])));
  assert.match(runOk('ostree', ['show', `--repo=${repo}`, '--print-detached-metadata-key=ostree.sign.ed25519', rev]).stdout, /\[b["']/);
  assert.deepStrictEqual(ostreeReadsSignatures(repo, rev), [nulEnded]);

  // A bad signature next to a good one: one valid signature is enough (ostree_sign_ed25519_data_verify).
  writeFileSync(objectPath(repo, rev, 'commitmeta'), commitmeta(ed25519Entry([badSig, sig])));
  const both = verifyOnDisk(repo, rev, trusted);
  assert.ok(both.valid && both.signatureIndex === 1);

  // Detached metadata without an ed25519 entry (ostree reads it; we find no signatures).
  writeFileSync(objectPath(repo, rev, 'commitmeta'), commitmeta("'xa.note': GLib.Variant('s', 'unsigned')"));
  assert.equal(runOk('ostree', ['show', `--repo=${repo}`, '--print-detached-metadata-key=xa.note', rev]).stdout.trim(), "'unsigned'");
  const none = verifyOnDisk(repo, rev, trusted);
  assert.ok(!none.valid && none.reason === 'no-signatures', JSON.stringify(none));

  // The parent commit has no `.commitmeta` at all.
  assert.equal(existsSync(objectPath(repo, parentRev, 'commitmeta')), false);
  const noMeta = verifyOnDisk(repo, parentRev, trusted);
  assert.ok(!noMeta.valid && noMeta.reason === 'no-detached-metadata', JSON.stringify(noMeta));

  // A signature over the parent's bytes does not verify the child.
  writeFileSync(objectPath(repo, rev, 'commitmeta'), commitmeta(ed25519Entry([signFile(dir, key, objectPath(repo, parentRev, 'commit'))])));
  const crossed = verifyOnDisk(repo, rev, trusted);
  assert.ok(!crossed.valid && crossed.reason === 'bad-signature');
});

/** `ostree show` prints `Date:  2024-01-02 03:04:05 +0000` (UTC). */
function showDateSec(show: string): bigint {
  const m = /^Date:\s+(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) \+0000$/m.exec(show);
  assert.ok(m, show);
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return BigInt(Date.UTC(y, mo - 1, d, h, mi, s) / 1000);
}

test('ostree commit objects decode to what `ostree show`, `ostree log` and `ostree ls` report', (t) => {
  const dir = tempDir(t, 'atomic-ostree-commit-');
  const { repo, revs } = makeRepo(dir);
  const [second, first] = revs as [string, string];
  const c2 = parseOstreeCommit(readFileSync(objectPath(repo, second, 'commit')), second);
  const c1 = parseOstreeCommit(readFileSync(objectPath(repo, first, 'commit')), first);

  for (const [rev, c] of [[second, c2], [first, c1]] as const) {
    const show = runOk('ostree', ['show', `--repo=${repo}`, rev]).stdout;
    assert.equal(c.timestampSec, showDateSec(show), `${rev} date`);
    assert.match(show, new RegExp(`^Version: ${c.version?.replace(/[.]/g, '\\.') ?? 'none'}$`, 'm'));
    // The subject and body, indented by four spaces, after the headers.
    const text = show.split('\n').filter((l) => l.startsWith('    ')).map((l) => l.slice(4));
    assert.deepStrictEqual(text, [c.subject, ...(c.body === '' ? [] : c.body.split('\n'))]);
    assert.equal(runOk('ostree', ['show', `--repo=${repo}`, '--print-metadata-key=version', rev]).stdout.trim(), `'${c.version ?? ''}'`);
    // `--raw -B` prints the stored uint64 without ostree's big-endian conversion: our value swapped.
    const raw = runOk('ostree', ['show', `--repo=${repo}`, '--raw', '-B', rev]).stdout;
    const rawTs = /uint64 (\d+)/.exec(raw)?.[1];
    const swapped = Buffer.alloc(8);
    swapped.writeBigUInt64BE(c.timestampSec);
    assert.equal(BigInt(rawTs ?? '-1'), swapped.readBigUInt64LE(), `${rev} raw timestamp`);
    // `ostree ls -d -C REV /`: d00755 uid gid size DIRTREE DIRMETA /
    const ls = runOk('ostree', ['ls', `--repo=${repo}`, '-d', '-C', rev, '/']).stdout.trim().split(/\s+/);
    assert.deepStrictEqual([ls[4], ls[5]], [c.rootContentsCsum, c.rootMetadataCsum]);
  }
  assert.equal(c1.timestampSec, BigInt(Date.UTC(2024, 0, 2, 3, 4, 5) / 1000));
  assert.equal(c1.subject, 'First build');
  assert.equal(c1.body, 'Body line one\nBody line two');
  assert.equal(c1.version, '1');
  assert.equal(c1.parent, undefined);
  assert.equal(c2.parent, first);
  assert.equal(c2.subject, "Second 'quoted' ✓");
  assert.equal(c2.version, '2.0-rc1');
  assert.deepStrictEqual(c2.metadata.get('foo'), { type: 's', value: 'bar' });
  // ostree commit -b records the branch it wrote (ostree.ref-binding, an `as`).
  assert.deepStrictEqual(c2.metadata.get('ostree.ref-binding'), { type: 'as', value: [BRANCH] });

  // `ostree log` walks the parents newest first: the same chain our decoder gives.
  const log = runOk('ostree', ['log', `--repo=${repo}`, BRANCH]).stdout;
  assert.deepStrictEqual([...log.matchAll(/^commit ([0-9a-f]{64})$/gm)].map((m) => m[1]), [second, first]);
  assert.deepStrictEqual([...log.matchAll(/^Parent:\s+([0-9a-f]{64})$/gm)].map((m) => m[1]), [c2.parent]);
});
