// The two ways writeIsoFile copies file data into an image: in the kernel (copy_file_range through
// native/fs-tree.cjs) and through user-space buffers (read/write, the path without the addon).
// Both must write the same bytes, keep holes, and fail with the file named and no output left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, statfsSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runOk, tempDir } from '../helpers.js';
import { makeAwkwardTree } from '../fixtures/make-tree.js';
import { sha256File, snapshotTree } from '../tree-snapshot.js';
import { scanTree } from '../../src/adapters/fs-tree/scan-tree.js';
import { writeIsoFile } from '../../src/adapters/fs-tree/image-file.js';
import { loadFsTreeAddon } from '../../src/adapters/fs-tree/fs-tree-addon.js';
import { FailedPrecondition, NotFound } from '../../src/lib/errors.js';

const opts = { volumeId: 'COPIERS', sourceDateEpoch: 1_700_000_000 };

/** Files of several sizes, some spanning many 1 MiB windows, one not a multiple of a sector. */
function addMixedFiles(root: string): void {
  mkdirSync(join(root, 'mixed'), { recursive: true });
  for (let i = 0; i < 40; i++) {
    const size = i % 10 === 0 ? 3 * 1024 * 1024 + i : 1000 + i * 7919;
    const b = Buffer.alloc(size);
    for (let k = 0; k < size; k += 4096) b.writeUInt32LE((i * 2654435761 + k) >>> 0, k);
    writeFileSync(join(root, 'mixed', `f${i}.bin`), b);
  }
}

test('the kernel copier is built here and writes the same bytes as the read/write copier', async (t) => {
  assert.ok(loadFsTreeAddon() !== undefined, 'native/build/Release/atomic_fs_tree.node loads (npm run build:native)');
  const dir = tempDir(t);
  const src = join(dir, 'src');
  makeAwkwardTree(src, { sparseGiB: true, depth: 3 });
  addMixedFiles(src);
  const { root } = await scanTree(src);
  const kernel = join(dir, 'kernel.iso');
  const plain = join(dir, 'plain.iso');
  const a = await writeIsoFile(kernel, root, { ...opts, copier: 'kernel' });
  const b = await writeIsoFile(plain, root, { ...opts, copier: 'read-write' });
  assert.deepEqual(a, b);
  assert.equal(await sha256File(kernel), await sha256File(plain));
  // The 1 GiB sparse file's holes are not written by either copier.
  for (const iso of [kernel, plain]) assert.ok(statSync(iso).blocks * 512 < 64 * 1024 * 1024, `${iso} is sparse`);
  const out = join(dir, 'x');
  runOk('xorriso', ['-osirrox', 'on', '-indev', kernel, '-extract', '/', out]);
  // SOURCE_DATE_EPOCH clamps the new files' times: compare everything else.
  assert.deepEqual(await snapshotTree(out, { mtimes: false }), await snapshotTree(src, { mtimes: false }));
});

const TMPFS_MAGIC = 0x01021994;

test('sources on another file system type (tmpfs -> the image\'s) copy the same bytes', async (t) => {
  // copy_file_range across file system types fails with EXDEV: this is the fallback's test, so it
  // needs a tmpfs beside the temp dir's file system (Debian mounts one at /dev/shm). No skip: a
  // machine without one fails here, saying so.
  assert.ok(existsSync('/dev/shm') && statfsSync('/dev/shm').type === TMPFS_MAGIC, 'this test needs a tmpfs at /dev/shm (the cross-file-system copy fallback)');
  const dir = tempDir(t);
  assert.notEqual(statfsSync(dir).type, TMPFS_MAGIC, 'the temp dir must not be on tmpfs too: the copy would not cross file system types');
  const src = mkdtempSync('/dev/shm/atomic-test-');
  t.after(() => rmSync(src, { recursive: true, force: true }));
  addMixedFiles(src);
  const { root } = await scanTree(src);
  const kernel = join(dir, 'kernel.iso');
  const plain = join(dir, 'plain.iso');
  await writeIsoFile(kernel, root, { ...opts, copier: 'kernel' });
  await writeIsoFile(plain, root, { ...opts, copier: 'read-write' });
  assert.equal(await sha256File(kernel), await sha256File(plain));
});

for (const copier of ['kernel', 'read-write'] as const) {
  test(`${copier} copier: a file that shrank or vanished after the scan is named; no output is left`, async (t) => {
    const dir = tempDir(t);
    const src = join(dir, 'src');
    addMixedFiles(src);
    const out = join(dir, 'out');
    mkdirSync(out);
    const iso = join(out, 'out.iso');

    const shrunk = join(src, 'mixed', 'f20.bin');
    let { root } = await scanTree(src);
    truncateSync(shrunk, 100);
    await assert.rejects(writeIsoFile(iso, root, { ...opts, copier }), (e: unknown) => e instanceof FailedPrecondition && e.subject === shrunk);
    assert.deepEqual(readdirSync(out), []);

    const gone = join(src, 'mixed', 'f30.bin');
    ({ root } = await scanTree(src));
    rmSync(gone);
    await assert.rejects(writeIsoFile(iso, root, { ...opts, copier }), (e: unknown) => e instanceof NotFound && e.subject === gone);
    assert.deepEqual(readdirSync(out), []);
  });
}

test('scanning with the addon (lstatDirectory) and with Node\'s fs gives the same tree', async (t) => {
  assert.ok(loadFsTreeAddon() !== undefined, 'native/build/Release/atomic_fs_tree.node loads (npm run build:native)');
  const dir = tempDir(t);
  const src = join(dir, 'src');
  makeAwkwardTree(src, { depth: 4 });
  addMixedFiles(src);
  linkSync(join(src, 'README'), join(src, 'modes', 'README-hardlink'));
  runOk('mkfifo', [join(src, 'a-fifo')]);
  for (const root of [src, `${src}/`, `${src}/./mixed/..`]) {
    const native = await scanTree(root);
    const node = await scanTree(root, { useAddon: false });
    assert.deepEqual(native, node);
    assert.equal(native.skipped.length, 1, native.skipped.join('\n'));
  }
  const missing = join(dir, 'nope');
  for (const useAddon of [true, false]) {
    await assert.rejects(scanTree(missing, { useAddon }), (e: unknown) => e instanceof NotFound && e.subject === missing);
  }
});
