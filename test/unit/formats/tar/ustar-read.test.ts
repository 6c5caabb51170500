import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTar } from '../../../../src/formats/tar/ustar-read.js';
import { writeUstar } from '../../../../src/formats/tar/ustar-write.js';
import { DataLoss, InvalidArgument } from '../../../../src/lib/errors.js';

const t0 = Date.UTC(2024, 0, 2, 3, 4, 5);

test('reads back what writeUstar writes, long paths through the ustar prefix included', () => {
  const long = `${'d'.repeat(120)}/${'f'.repeat(90)}`;
  const archive = writeUstar([
    { path: 'var', type: 'directory', mode: 0o755, mtimeMs: t0 },
    { path: 'var/user-data', type: 'file', mode: 0o644, mtimeMs: t0, data: Buffer.from('#cloud-config\n') },
    { path: 'var/empty', type: 'file', mode: 0o600, mtimeMs: t0, data: new Uint8Array() },
    { path: long, type: 'file', mode: 0o640, mtimeMs: t0, data: Buffer.alloc(1025, 7) },
  ]);
  const entries = readTar(archive);
  assert.deepEqual(entries.map((e) => [e.path, e.type, e.mode, e.sizeBytes]), [
    ['var', 'directory', 0o755, 0],
    ['var/user-data', 'file', 0o644, 14],
    ['var/empty', 'file', 0o600, 0],
    [long, 'file', 0o640, 1025],
  ]);
  assert.equal(entries[1]!.mtimeMs, Math.floor(t0 / 1000) * 1000);
  assert.equal(Buffer.from(entries[1]!.data!).toString(), '#cloud-config\n');
  assert.deepEqual(Buffer.from(entries[3]!.data!), Buffer.alloc(1025, 7));
});

/** A single-entry archive with a hand-set name (bypassing the writer's checks). */
function archiveNamed(name: string, body = 'x'): Buffer {
  const a = writeUstar([{ path: 'placeholder', type: 'file', mode: 0o644, mtimeMs: t0, data: Buffer.from(body) }]);
  a.fill(0, 0, 100);
  a.write(name, 0, 'utf8');
  a.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += a[i]!;
  a.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return a;
}

test('refuses entries that would escape the archive root', () => {
  assert.throws(() => readTar(archiveNamed('../etc/passwd')), (e) => e instanceof InvalidArgument && /outside the archive/.test(e.message));
  assert.throws(() => readTar(archiveNamed('a/../../b')), InvalidArgument);
  assert.throws(() => readTar(archiveNamed('/etc/shadow')), (e) => e instanceof InvalidArgument && /absolute path/.test(e.message));
  assert.equal(readTar(archiveNamed('./a/./b'))[0]!.path, 'a/b');
});

test('corrupt archives are DataLoss with the byte offset', () => {
  const good = archiveNamed('ok');
  const badSum = Buffer.from(good);
  badSum[0] = 0x41;
  assert.throws(() => readTar(badSum, 'seed.tar'), (e) => e instanceof DataLoss && /seed\.tar: header at byte 0 has a bad checksum/.test(e.message));
  assert.throws(() => readTar(good.subarray(0, 700)), (e) => e instanceof DataLoss && /truncated|beyond the end/.test(e.message));
  assert.throws(() => readTar(Buffer.alloc(100)), DataLoss);
});
