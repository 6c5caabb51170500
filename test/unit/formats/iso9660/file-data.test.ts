import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WINDOW_BYTES, dataWindows, isAllZero, writeDataWindows } from '../../../../src/formats/iso9660/file-data.js';
import type { SourceFile } from '../../../../src/formats/iso9660/writer.js';
import { FailedPrecondition } from '../../../../src/lib/errors.js';

const file = (name: string, data: Buffer): SourceFile => ({ type: 'file', name, mode: 0o644, uid: 0, gid: 0, mtimeMs: 0, sizeBytes: data.length, data });

/** Lay files out one after another from `lba`, each padded to 2048 bytes, as the writer does. */
function layout(files: SourceFile[], lba: number): Map<SourceFile, number> {
  const m = new Map<SourceFile, number>();
  for (const f of files) {
    m.set(f, lba);
    lba += Math.ceil(f.sizeBytes / 2048);
  }
  return m;
}

test('windows cover the data area exactly: small files gathered, big files split, padding zero', async () => {
  const big = Buffer.alloc(WINDOW_BYTES * 2 + 5000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
  const files = [file('a', Buffer.from('alpha')), file('b', big), file('c', Buffer.from('gamma!')), file('d', Buffer.alloc(3000, 0x44))];
  const at = layout(files, 19);
  const windows = dataWindows(files, (f) => at.get(f)!);
  assert.equal(windows[0]!.imagePosition, 19 * 2048);
  for (let i = 1; i < windows.length; i++) assert.equal(windows[i]!.imagePosition, windows[i - 1]!.imagePosition + windows[i - 1]!.lengthBytes);
  assert.ok(windows.every((w) => w.lengthBytes <= WINDOW_BYTES));

  // Copy into an in-memory image and compare with the expected bytes.
  const end = (at.get(files[3]!)! * 2048) + 3000;
  const image = Buffer.alloc(end, 0xee);
  const expected = Buffer.from(image);
  expected.fill(0, 19 * 2048);
  for (const f of files) Buffer.from(f.data!).copy(expected, at.get(f)! * 2048);
  await writeDataWindows(windows, { write: (d, p) => { d.copy(image, p); return Promise.resolve(); } }, {});
  assert.ok(image.equals(expected));
});

test('all-zero windows are skipped (holes stay holes)', async () => {
  const files = [file('zeros', Buffer.alloc(WINDOW_BYTES * 3)), file('tail', Buffer.from('end'))];
  const at = layout(files, 20);
  const written: number[] = [];
  await writeDataWindows(dataWindows(files, (f) => at.get(f)!), { write: (_d, p) => { written.push(p); return Promise.resolve(); } }, {});
  assert.deepEqual(written, [20 * 2048 + 3 * WINDOW_BYTES]);
  assert.equal(isAllZero(Buffer.alloc(200_000)), true);
  const one = Buffer.alloc(200_000);
  one[199_999] = 1;
  assert.equal(isAllZero(one), false);
});

test('a file that is shorter than planned is a FailedPrecondition naming it', async () => {
  const f: SourceFile = { type: 'file', name: 'shrinking', source: '/data/shrinking', mode: 0o644, uid: 0, gid: 0, mtimeMs: 0, sizeBytes: 10_000 };
  const windows = dataWindows([f], () => 30);
  await assert.rejects(
    writeDataWindows(windows, { write: () => Promise.resolve() }, {
      openContent: () => Promise.resolve({ read: (_b, _o, len, pos) => Promise.resolve(pos >= 4000 ? 0 : Math.min(len, 4000 - pos)), close: () => Promise.resolve() }),
    }),
    (e) => e instanceof FailedPrecondition && e.subject === '/data/shrinking' && /shrank/.test(e.message),
  );
});
