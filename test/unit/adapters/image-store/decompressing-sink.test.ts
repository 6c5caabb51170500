// The layer-bytes-in, tar-out sink that lets a layer unpack while it downloads: format detection
// from the first bytes (even when they come one at a time), reuse of the writer's buffers, the
// errors of a corrupt or unsupported stream, and writers never left hanging by a reader that
// stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { DecompressingSink } from '../../../../src/adapters/image-store/decompressing-sink.js';
import { DataLoss, Unimplemented } from '../../../../src/lib/errors.js';

/** Write `data` in chunks of `size` through ONE reused buffer, as the blob downloader does; returns what the reader got. */
async function roundTrip(data: Buffer, size: number): Promise<Buffer> {
  const sink = new DecompressingSink('layer test');
  const reading = (async (): Promise<Buffer> => {
    const out: Buffer[] = [];
    for await (const c of sink.output()) out.push(Buffer.from(c));
    return Buffer.concat(out);
  })();
  const reused = Buffer.alloc(size);
  for (let i = 0; i < data.length; i += size) {
    const n = data.copy(reused, 0, i, i + size);
    await sink.write(reused.subarray(0, n));
    reused.fill(0xee); // the sink must be done with it once the write resolved
  }
  sink.end();
  return reading;
}

test('gzip is decompressed; chunks reused by the writer after each write do not corrupt the output', async () => {
  const plain = Buffer.concat([randomBytes(300_000), Buffer.alloc(300_000, 'text ')]);
  const got = await roundTrip(gzipSync(plain), 64 * 1024);
  assert.ok(got.equals(plain));
});

test('an uncompressed stream is passed through as copies, also with the magic split over one-byte writes', async () => {
  const plain = randomBytes(100_000);
  plain[0] = 0x75; // not a gzip or zstd magic
  assert.ok((await roundTrip(plain, 4096)).equals(plain));
  assert.ok((await roundTrip(plain.subarray(0, 10), 1)).equals(plain.subarray(0, 10)));
  const small = plain.subarray(0, 3000);
  assert.ok((await roundTrip(gzipSync(small), 1)).equals(small), 'gzip magic arriving byte by byte');
});

test('zstd is refused as Unimplemented; a corrupt gzip stream is DataLoss naming the layer', async () => {
  await assert.rejects(roundTrip(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]), 2), (e: unknown) => e instanceof Unimplemented && /layer test is zstd-compressed/.test(e.message));
  const gz = gzipSync(randomBytes(200_000));
  const broken = Buffer.from(gz);
  broken.fill(0x55, 100, 4000);
  await assert.rejects(roundTrip(broken, 8192), (e: unknown) => e instanceof DataLoss && /layer test: the gzip stream is corrupt/.test(e.message));
});

test('a reader that stops early, or a failure, leaves no write pending', async () => {
  const sink = new DecompressingSink('layer test');
  const gz = gzipSync(randomBytes(4 * 1024 * 1024));
  const reading = (async (): Promise<void> => {
    for await (const _ of sink.output()) break; // refuses the layer at the first chunk
  })();
  // Far more than the sink buffers: would hang if writes waited for a reader that is gone.
  for (let i = 0; i < gz.length; i += 65_536) await sink.write(gz.subarray(i, i + 65_536));
  sink.end();
  await reading;

  const failed = new DecompressingSink('layer test');
  const err = new DataLoss('download failed');
  const r2 = (async (): Promise<void> => {
    for await (const _ of failed.output()) {
      // drain
    }
  })();
  await failed.write(gz.subarray(0, 65_536));
  failed.fail(err);
  await failed.write(gz.subarray(65_536, 131_072));
  await assert.rejects(r2, (e: unknown) => e === err);
});
