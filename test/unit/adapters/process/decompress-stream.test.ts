// consumeDecompressed against the real compressors (gzip via zlib; bzip2, xz and zstd via their
// Debian tools, which also write the test inputs): the format told from magic bytes even when
// they arrive one byte at a time, a plain stream passed through, corrupt and truncated streams
// refused with a message naming the format, and no tool left running by a reader that stops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { consumeDecompressed, detectCompression } from '../../../../src/adapters/process/decompress-stream.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

const compress = (tool: string, data: Buffer): Buffer => {
  const r = spawnSync(tool, ['-c'], { input: data, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `${tool}: ${r.stderr?.toString()}`);
  return r.stdout;
};

async function* chunks(data: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

/** The whole decompressed stream, as a consumer that reads to the end sees it. */
const decompressed = (source: AsyncIterable<Uint8Array>, what: string): Promise<Buffer> => consumeDecompressed(source, { what }, drain);

async function drain(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of source) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

// Compressible but not trivial: 3 MiB, more than any pipe buffer, so backpressure is exercised.
const DATA = Buffer.concat(Array.from({ length: 48 }, (_, i) => Buffer.concat([randomBytes(32 * 1024), Buffer.alloc(32 * 1024, i)])));

test('magic bytes: gzip, bzip2, xz, zstd and anything else as plain', () => {
  assert.equal(detectCompression(gzipSync(Buffer.from('x'))), 'gzip');
  assert.equal(detectCompression(compress('bzip2', Buffer.from('x'))), 'bzip2');
  assert.equal(detectCompression(compress('xz', Buffer.from('x'))), 'xz');
  assert.equal(detectCompression(compress('zstd', Buffer.from('x'))), 'zstd');
  for (const plain of [Buffer.from('BZ'), Buffer.from('BZhx'), Buffer.from('ustar'), Buffer.alloc(0), Buffer.from([0xfd, 0x37, 0x7a])]) assert.equal(detectCompression(plain), 'none', plain.toString('hex'));
});

test('every format round-trips through the real tools, its head fed byte by byte or in 64 KiB chunks', async () => {
  const inputs: [string, Buffer][] = [['plain', DATA], ['gzip', gzipSync(DATA)], ['bzip2', compress('bzip2', DATA)], ['xz', compress('xz', DATA)], ['zstd', compress('zstd', DATA)]];
  for (const [name, input] of inputs) {
    // One byte at a time for the head (the magic must still be recognised), then the rest at once.
    const byteWise = async function* (): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 8; i++) yield input.subarray(i, i + 1);
      yield input.subarray(8);
    };
    assert.ok((await decompressed(byteWise(), 'test')).equals(DATA), `${name}, byte-wise head`);
    assert.ok((await decompressed(chunks(input, 65536), 'test')).equals(DATA), `${name}, 64 KiB chunks`);
  }
});

test('corrupt and truncated streams are InvalidArgument naming the format; the tool is gone after', async () => {
  for (const [format, packed] of [['gzip', gzipSync(DATA)], ['bzip2', compress('bzip2', DATA)], ['xz', compress('xz', DATA)], ['zstd', compress('zstd', DATA)]] as const) {
    const truncated = packed.subarray(0, Math.floor(packed.length / 2));
    const corrupt = Buffer.from(packed);
    for (let i = 64; i < corrupt.length; i += 997) corrupt[i] = (corrupt[i] ?? 0) ^ 0x5a;
    for (const [kind, bad] of [['truncated', truncated], ['corrupt', corrupt]] as const) {
      await assert.rejects(decompressed(chunks(bad, 65536), 'the archive'), (e: unknown) =>
        e instanceof InvalidArgument && new RegExp(`^the archive: the ${format} stream is corrupt or truncated`).test(e.message), `${format} ${kind}`);
    }
  }
  // A reader that stops after the first chunk: consumeDecompressed kills the tool as it returns.
  let read = 0;
  await consumeDecompressed(chunks(compress('xz', DATA), 4096), { what: 'early' }, async (data) => {
    for await (const c of data) {
      read += c.length;
      break;
    }
  });
  assert.ok(read > 0);
  // SIGKILL is asynchronous: poll (bounded) until the child has been reaped.
  const xzChildren = (): string => spawnSync('pgrep', ['-P', String(process.pid), '-x', 'xz']).stdout.toString().trim();
  for (let i = 0; i < 100 && xzChildren() !== ''; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(xzChildren(), '', 'no xz child left running');
});

test('consumeDecompressed: a consumer that fails on what a corrupt stream decoded to gets the decompressor\'s error; otherwise its own', async () => {
  // The consumer fails on its first chunk, as a tar reader does on a header of garbage: the race
  // that a tool's error otherwise loses, made certain.
  const failsAtOnce = async (data: AsyncIterable<Uint8Array>): Promise<void> => {
    for await (const c of data) if (c.length > 0) throw new InvalidArgument('bad tar header');
  };
  for (const [format, packed] of [['gzip', gzipSync(DATA)], ['bzip2', compress('bzip2', DATA)], ['xz', compress('xz', DATA)], ['zstd', compress('zstd', DATA)]] as const) {
    const corrupt = Buffer.from(packed);
    for (let i = 512; i < corrupt.length; i += 4099) corrupt[i] = (corrupt[i] ?? 0) ^ 0xff;
    await assert.rejects(consumeDecompressed(chunks(corrupt, 65536), { what: 'the archive' }, failsAtOnce), (e: unknown) =>
      e instanceof InvalidArgument && new RegExp(`^the archive: the ${format} stream is corrupt or truncated`).test(e.message), `${format} corrupt`);
    // A sound stream: the consumer's error stands, and the stream was decoded to its end to learn so.
    await assert.rejects(consumeDecompressed(chunks(packed, 65536), { what: 'the archive' }, failsAtOnce), /^InvalidArgument: bad tar header$|bad tar header/, `${format} sound`);
  }
  // Plain input: nothing to decode, the consumer's error at once.
  await assert.rejects(consumeDecompressed(chunks(DATA, 65536), { what: 'the archive' }, failsAtOnce), /bad tar header/);
  // What the consumer returns comes back; nothing is replaced on success.
  assert.equal(await consumeDecompressed(chunks(compress('xz', DATA), 4096), { what: 'x' }, async (data) => (await drain(data)).length), DATA.length);

  // A client that stalls mid-upload: the verdict gives up after verdictMs, the consumer's error is
  // the answer, and the tool goes once the source ends.
  let release!: () => void;
  const stalled = async function* (): AsyncGenerator<Uint8Array> {
    yield compress('xz', DATA).subarray(0, 200_000);
    await new Promise<void>((r) => (release = r));
  };
  const started = Date.now();
  await assert.rejects(consumeDecompressed(stalled(), { what: 'the archive', verdictMs: 300 }, failsAtOnce), /bad tar header/);
  assert.ok(Date.now() - started < 5_000, 'the stalled source did not hold the answer');
  release();
  const xzChildren = (): string => spawnSync('pgrep', ['-P', String(process.pid), '-x', 'xz']).stdout.toString().trim();
  for (let i = 0; i < 100 && xzChildren() !== ''; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(xzChildren(), '', 'no xz child left running');
});
