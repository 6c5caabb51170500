import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { readTarStream, type TarStreamEntry } from '../../../../src/formats/tar/tar-stream.js';
import { DataLoss, Internal, ResourceExhausted, Unimplemented } from '../../../../src/lib/errors.js';
import { buildTar, paxRecords } from '../../../fixtures/tar-builder.js';
import { runOk, tempDir } from '../../../helpers.js';

interface Read {
  readonly entry: Omit<TarStreamEntry, 'body'>;
  readonly data: Buffer;
}

async function* chunks(buf: Buffer, sizes: readonly number[] = [65536]): AsyncGenerator<Buffer> {
  let at = 0;
  let i = 0;
  while (at < buf.length) {
    const n = Math.max(1, sizes[i++ % sizes.length]!);
    yield buf.subarray(at, at + n);
    at += n;
  }
}

async function readAll(buf: Buffer, sizes?: readonly number[]): Promise<Read[]> {
  const out: Read[] = [];
  for await (const e of readTarStream(chunks(buf, sizes), { what: 'test.tar' })) {
    const parts: Buffer[] = [];
    for await (const c of e.body) parts.push(Buffer.from(c));
    const { body: _b, ...entry } = e;
    out.push({ entry, data: Buffer.concat(parts) });
  }
  return out;
}

test('pax records override the ustar fields: long path and link, size, mtime, ids, names, xattrs', async () => {
  const longPath = `${'d'.repeat(150)}/${'f'.repeat(120)}`;
  const longLink = `/${'t'.repeat(200)}`;
  const tar = buildTar([
    { path: longPath, data: 'hello', mode: 0o4755, pax: { mtime: '1700000000.25', uid: '3000000', gid: '70000', uname: 'ünïcode', 'SCHILY.xattr.user.bin': Buffer.from([0, 1, 255]), 'SCHILY.xattr.security.capability': Buffer.from('cap') } },
    { path: 'link', type: 'symlink', linkPath: longLink },
    { path: 'dir/', type: 'dir', mode: 0o1777 },
  ]);
  const [file, link, dir] = await readAll(tar);
  assert.equal(file!.entry.path, longPath);
  assert.equal(file!.entry.kind, 'file');
  assert.equal(file!.entry.mode, 0o4755);
  assert.equal(file!.entry.mtimeMs, 1_700_000_000_250);
  assert.equal(file!.entry.uid, 3_000_000);
  assert.equal(file!.entry.gid, 70_000);
  assert.equal(file!.entry.uname, 'ünïcode');
  assert.equal(file!.data.toString(), 'hello');
  assert.deepEqual(file!.entry.xattrs.get('user.bin'), Buffer.from([0, 1, 255]));
  assert.deepEqual(file!.entry.xattrs.get('security.capability'), Buffer.from('cap'));
  assert.equal(file!.entry.headerOffset, 0, 'the offset is that of the pax header');
  assert.equal(link!.entry.linkPath, longLink);
  assert.equal(link!.entry.kind, 'symlink');
  assert.equal(link!.entry.xattrs.size, 0, 'pax records apply to one entry only');
  assert.equal(dir!.entry.kind, 'directory');
  assert.equal(dir!.entry.mode, 0o1777);
});

test('GNU long names and links; base-256 numbers; devices and fifos', async () => {
  const longPath = `x/${'n'.repeat(300)}`;
  const tar = buildTar([
    { path: longPath, data: 'gnu', gnuLongNames: true, uid: 8 ** 8 + 5 },
    { path: 'hl', type: 'hardlink', linkPath: `y/${'k'.repeat(200)}`, gnuLongNames: true },
    { path: 'dev/null', type: 'char', devMajor: 1, devMinor: 3, mode: 0o666 },
    { path: 'dev/sda', type: 'block', devMajor: 8, devMinor: 0 },
    { path: 'run/fifo', type: 'fifo' },
  ]);
  const r = await readAll(tar);
  assert.equal(r[0]!.entry.path, longPath);
  assert.equal(r[0]!.entry.uid, 8 ** 8 + 5);
  assert.equal(r[0]!.data.toString(), 'gnu');
  assert.deepEqual([r[1]!.entry.kind, r[1]!.entry.linkPath], ['hardlink', `y/${'k'.repeat(200)}`]);
  assert.deepEqual([r[2]!.entry.kind, r[2]!.entry.devMajor, r[2]!.entry.devMinor], ['char-device', 1, 3]);
  assert.deepEqual([r[3]!.entry.kind, r[3]!.entry.devMajor], ['block-device', 8]);
  assert.equal(r[4]!.entry.kind, 'fifo');
});

test('reads what GNU tar writes (pax with xattrs, gnu with long names), chunked any way', async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  const deep = join(src, 'a'.repeat(90), 'b'.repeat(90));
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, `${'c'.repeat(120)}.txt`), 'deep content\n');
  writeFileSync(join(src, 'x'), Buffer.alloc(70_000, 7));
  symlinkSync(`../${'l'.repeat(150)}`, join(src, 'longlink'));
  runOk('setfattr', ['-n', 'user.note', '-v', 'hello', join(src, 'x')]);
  for (const format of ['pax', 'gnu'] as const) {
    const out = join(dir, `${format}.tar`);
    runOk('tar', ['--format', format, ...(format === 'pax' ? ['--xattrs', '--xattrs-include=user.*'] : []), '-C', src, '-cf', out, '.']);
    const buf = (await import('node:fs')).readFileSync(out);
    const entries = await readAll(buf, [1, 7, 511, 513, 4096]);
    const byPath = new Map(entries.map((e) => [e.entry.path.replace(/^\.\//, ''), e]));
    const deepFile = byPath.get(`${'a'.repeat(90)}/${'b'.repeat(90)}/${'c'.repeat(120)}.txt`);
    assert.equal(deepFile?.data.toString(), 'deep content\n', format);
    assert.deepEqual(byPath.get('x')?.data, Buffer.alloc(70_000, 7));
    assert.equal(byPath.get('longlink')?.entry.linkPath, `../${'l'.repeat(150)}`);
    if (format === 'pax') assert.equal(byPath.get('x')?.entry.xattrs.get('user.note')?.toString(), 'hello');
  }
});

test('chunk boundaries do not matter (property)', async () => {
  const tar = buildTar([
    { path: `${'p'.repeat(130)}`, data: Buffer.alloc(1500, 1) },
    { path: 'g', data: 'x', gnuLongNames: true, pax: { 'SCHILY.xattr.user.a': 'b' } },
    { path: 'e', data: '' },
    { path: 'l', type: 'symlink', linkPath: 'e' },
  ]);
  const reference = await readAll(tar);
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 2000 }), { minLength: 1, maxLength: 20 }), async (sizes) => {
      assert.deepEqual(await readAll(tar, sizes), reference);
    }),
    { numRuns: 60 },
  );
});

test('content is streamed: the reader holds at most one source chunk beyond what was handed out', async () => {
  const size = 64 * 1024 * 1024;
  const chunk = 256 * 1024;
  const header = buildTar([{ path: 'big', claimSize: size }], { end: false });
  let produced = 0;
  let consumed = header.length;
  let worst = 0;
  async function* source(): AsyncGenerator<Buffer> {
    yield header;
    produced += header.length;
    const zeros = Buffer.alloc(chunk);
    for (let n = 0; n < size; n += chunk) {
      produced += chunk;
      yield zeros;
    }
    produced += 1024;
    yield Buffer.alloc(1024);
  }
  for await (const e of readTarStream(source())) {
    for await (const c of e.body) {
      consumed += c.length;
      worst = Math.max(worst, produced - consumed);
    }
  }
  assert.equal(consumed, header.length + size);
  assert.ok(worst <= chunk, `buffered ${worst} bytes`);
});

test('unread content is skipped; content read after the next entry is refused', async () => {
  const tar = buildTar([
    { path: 'a', data: Buffer.alloc(3000, 1) },
    { path: 'b', data: 'bee' },
  ]);
  const it = readTarStream(chunks(tar, [100]));
  const a = (await it.next()).value as TarStreamEntry;
  const b = (await it.next()).value as TarStreamEntry;
  assert.equal(b.path, 'b');
  const parts: Buffer[] = [];
  for await (const c of b.body) parts.push(c);
  assert.equal(Buffer.concat(parts).toString(), 'bee');
  await assert.rejects(async () => {
    for await (const _ of a.body) void _;
  }, Internal);
  assert.equal((await it.next()).done, true);
});

test('the rest of the source is read after the end-of-archive blocks (so a digest covers it)', async () => {
  const tar = Buffer.concat([buildTar([{ path: 'a', data: 'x' }]), Buffer.alloc(10_240)]);
  let finished = false;
  async function* source(): AsyncGenerator<Buffer> {
    yield* chunks(tar, [1000]);
    finished = true;
  }
  for await (const _ of readTarStream(source())) void _;
  assert.ok(finished);
});

test('a stream ending cleanly at a header boundary is a complete archive (as Go archive/tar reads it)', async () => {
  const noEnd = buildTar([{ path: 'a', data: 'x' }], { end: false });
  assert.deepEqual((await readAll(noEnd)).map((r) => r.entry.path), ['a']);
});

test('corrupt input is DataLoss with the byte offset', async () => {
  const bad = async (buf: Buffer, re: RegExp, cls: new (...a: never[]) => Error = DataLoss): Promise<void> => {
    await assert.rejects(readAll(buf), (e: unknown) => e instanceof cls && re.test((e as Error).message), re.source);
  };
  const two = buildTar([{ path: 'a', data: Buffer.alloc(600) }, { path: 'b', data: 'b', badChecksum: true }]);
  await bad(two, /^test\.tar: header at byte 1536 has a bad checksum/);
  const notTar = Buffer.alloc(1024, 0x41);
  await bad(notTar, /header at byte 0 has no valid checksum field/);
  await bad(buildTar([{ path: 'a', data: Buffer.alloc(5000) }]).subarray(0, 3000), /truncated: "a" \(header at byte 0\) claims 5000 bytes; the stream ended at byte 3000/);
  await bad(buildTar([{ path: 'a', data: 'x' }]).subarray(0, 300), /truncated: the stream ended at byte 300, inside a header/);
  // A size claimed in a pax header far beyond the data (a "10 GB" entry in a small blob).
  await bad(buildTar([{ path: 'huge', data: 'tiny', pax: { size: String(10 * 1024 ** 3) } }], { end: false }), /"huge" \(header at byte 0\) claims 10737418240 bytes; the stream ended at byte 2048/);
  await bad(Buffer.concat([Buffer.alloc(512), buildTar([{ path: 'a' }])]), /zero block at byte 0 is followed by data/);
  const badPax = buildTar([{ path: 'a', pax: { path: 'x' } }]);
  badPax.write('99', 512, 'latin1'); // the record length now overruns the pax data
  await bad(badPax, /pax header at byte 0: /);
  await bad(buildTar([{ path: 'a', pax: { mtime: 'yesterday' } }]), /pax header at byte 0: mtime is not a decimal time/);
  const paxOnly = buildTar([{ path: 'a', pax: { path: 'b' } }]).subarray(0, 1024);
  await bad(paxOnly, /ended after the extended header at byte 0/);
  await bad(buildTar([{ path: 'a', data: 'x', pax: { comment: 'c'.repeat(2 * 1024 * 1024) } }]), /pax header at byte 0 is \d+ bytes, more than the limit/, ResourceExhausted);
  await bad(buildTar([{ path: 'sparse', flag: 'S', claimSize: 10 * 1024 ** 3 }]), /GNU sparse file at byte 0 is not supported/, Unimplemented);
  await bad(buildTar([{ path: 's', pax: { 'GNU.sparse.size': '99999999999' } }]), /GNU sparse/, Unimplemented);
  await bad(buildTar([{ path: 'odd', flag: 'Q' }]), /entry type "Q" at byte 0 is not supported/, Unimplemented);
});

test('pax record syntax: the length counts itself', () => {
  assert.equal(paxRecords({ path: 'a' }).toString(), '9 path=a\n');
  assert.equal(paxRecords({ k: 'v'.repeat(94) }).toString().split(' ')[0], '101'); // 98 bytes + 3 digits, not 2
});
