import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeTarHeader, tarPadding, TAR_TRAILER, type TarHeaderFields } from '../../../../src/formats/tar/tar-header.js';
import { readTarStream } from '../../../../src/formats/tar/tar-stream.js';
import { runOk, tempDir } from '../../../helpers.js';

function archive(entries: readonly (TarHeaderFields & { data?: string })[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    parts.push(encodeTarHeader({ ...e, ...(e.kind === 'file' ? { sizeBytes: data.length } : {}) }));
    if (e.kind === 'file') parts.push(data, tarPadding(data.length));
  }
  parts.push(TAR_TRAILER);
  return Buffer.concat(parts);
}

const long = `${'deep/'.repeat(30)}name-longer-than-a-hundred-bytes.txt`;
const entries: (TarHeaderFields & { data?: string })[] = [
  { path: 'dir', kind: 'directory', mode: 0o750, uid: 1000, gid: 1000, mtimeMs: 1_700_000_000_000 },
  { path: 'dir/file', kind: 'file', mode: 0o4755, data: 'hello\n', mtimeMs: 1_700_000_000_000, uname: 'alice', gname: 'staff' },
  { path: 'dir/link', kind: 'symlink', mode: 0o777, linkPath: '../etc/shadow', mtimeMs: 0 },
  { path: 'dir/hard', kind: 'hardlink', mode: 0o644, linkPath: 'dir/file', mtimeMs: 0 },
  { path: long, kind: 'file', mode: 0o644, data: 'long', mtimeMs: 0 },
  { path: 'dir/ünïcode', kind: 'file', mode: 0o600, data: 'u', mtimeMs: 0, uid: 3_000_000 },
  { path: 'dir/fifo', kind: 'fifo', mode: 0o600, mtimeMs: 0 },
];

test('headers round-trip through our reader: names, links, pax for long and non-ASCII names and big ids', async () => {
  const tar = archive(entries);
  const got: { path: string; kind: string; linkPath: string; mode: number; uid: number; data: string; uname: string }[] = [];
  for await (const e of readTarStream((async function* () { yield tar; })())) {
    let data = '';
    for await (const c of e.body) data += c.toString();
    got.push({ path: e.path, kind: e.kind, linkPath: e.linkPath, mode: e.mode, uid: e.uid, data, uname: e.uname });
  }
  assert.deepEqual(got.map((g) => g.path), ['dir/', 'dir/file', 'dir/link', 'dir/hard', long, 'dir/ünïcode', 'dir/fifo']);
  assert.equal(got[1]!.data, 'hello\n');
  assert.equal(got[1]!.mode, 0o4755);
  assert.equal(got[1]!.uname, 'alice');
  assert.equal(got[2]!.linkPath, '../etc/shadow');
  assert.equal(got[3]!.kind, 'hardlink');
  assert.equal(got[4]!.data, 'long');
  assert.equal(got[5]!.uid, 3_000_000);
});

test('GNU tar reads what we write (the oracle): listing with owners, modes and long names', () => {
  const dir = tempDir(undefined);
  const file = join(dir, 'a.tar');
  writeFileSync(file, archive(entries));
  const listing = runOk('tar', ['-tvf', file, '--numeric-owner']).stdout.split('\n').filter((l) => l !== '');
  assert.equal(listing.length, entries.length);
  assert.match(listing[0]!, /^drwxr-x--- 1000\/1000 .* dir\/$/);
  assert.match(listing[1]!, /^-rwsr-xr-x 0\/0 +6 .* dir\/file$/);
  assert.match(listing[2]!, /^lrwxrwxrwx .* dir\/link -> \.\.\/etc\/shadow$/);
  assert.match(listing[3]!, /^hrw-r--r-- .* dir\/hard link to dir\/file$/);
  assert.ok(listing[4]!.endsWith(long));
  assert.match(listing[5]!, / 3000000\/0 .* dir\/ünïcode$/);
  assert.match(listing[6]!, /^prw------- /);
  runOk('tar', ['-xf', file, '-C', dir, '--no-same-owner', 'dir/file', long]);
  assert.equal(readFileSync(join(dir, 'dir/file'), 'utf8'), 'hello\n');
  assert.equal(readFileSync(join(dir, long), 'utf8'), 'long');
});
