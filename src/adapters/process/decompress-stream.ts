// A byte stream that may be compressed, taken the way Docker's archive.DecompressStream takes
// `docker load` input: the format is told by its magic bytes (gzip 1f 8b, bzip2 "BZh", xz
// fd "7zXZ" 00, zstd 28 b5 2f fd), anything else passes through as it is (a plain tar).
//
// gzip goes through Node's zlib. Node has no bzip2, xz or zstd (zstd only from Node 22), so those
// stream through the system tools (`bzip2 -dc`, `xz -dc`, `zstd -dc`) as child processes: input
// fed with backpressure, output read as it comes, nothing held whole in memory. A corrupt or
// truncated stream is an InvalidArgument naming the format and quoting the tool.
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { AtomicError, InvalidArgument, Unavailable } from '../../lib/errors.js';

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

/** Bytes enough to tell every format apart. */
const MAGIC_BYTES = 6;

/** The compression of a stream from its first bytes (fewer than 6 bytes: whatever they allow). */
export function detectCompression(head: Uint8Array): Compression {
  const starts = (...magic: number[]): boolean => head.length >= magic.length && magic.every((b, i) => head[i] === b);
  if (starts(0x1f, 0x8b)) return 'gzip';
  // "BZh" and the block size '1'..'9' (bzip2's file format).
  if (starts(0x42, 0x5a, 0x68) && head.length >= 4 && (head[3] ?? 0) >= 0x31 && (head[3] ?? 0) <= 0x39) return 'bzip2';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  return 'none';
}

/** The system tool of each format, and its Debian package (for the message when it is missing). */
const TOOLS: Readonly<Record<'bzip2' | 'xz' | 'zstd', { readonly command: string; readonly args: readonly string[]; readonly debianPackage: string }>> = {
  bzip2: { command: 'bzip2', args: ['-dc'], debianPackage: 'bzip2' },
  xz: { command: 'xz', args: ['-dc'], debianPackage: 'xz-utils' },
  zstd: { command: 'zstd', args: ['-dc', '-q'], debianPackage: 'zstd' },
};

export interface DecompressOptions {
  /** What the stream is, for messages ("the archive"). */
  readonly what: string;
  /** consumeDecompressed: how long decoding on for the decompressor's verdict may take (default 10 s). */
  readonly verdictMs?: number;
}

/** How much further a stream is decoded, after its consumer failed, for the decompressor's verdict. */
const VERDICT_BYTES = 256 * 1024 * 1024;
const VERDICT_MS = 10_000;

/**
 * `consume` the `source`, decompressed when its magic bytes say it is compressed, as it is
 * otherwise. A corrupt stream decodes to garbage for a while before the
 * decompressor notices (an xz block's check comes at its end, and a tool writes what it decoded
 * before it reads on), so the consumer, a tar reader, often fails first, on a header of garbage.
 * When the consumer fails on a compressed stream, the stream is decoded on (the output dropped,
 * at most VERDICT_BYTES or VERDICT_MS more), and the decompressor's own error, if it finds one,
 * is the one thrown: "the xz stream is corrupt or truncated", not "a bad tar header".
 */
export async function consumeDecompressed<T>(source: AsyncIterable<Uint8Array>, o: DecompressOptions, consume: (data: AsyncIterable<Uint8Array>) => Promise<T>): Promise<T> {
  const { compression, data } = await openDecompressed(source, o);
  // The consumer's for-await closes its iterator as it fails; this view leaves it open for the verdict.
  const view: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({ next: () => data.next(), return: () => Promise.resolve({ done: true as const, value: undefined }) }),
  };
  let settled = true;
  try {
    return await consume(view);
  } catch (e) {
    if (compression === 'none') throw e;
    const verdict = await decoderVerdict(data, o.verdictMs ?? VERDICT_MS);
    settled = verdict.settled;
    throw verdict.error ?? e;
  } finally {
    // Stops the tool. After a verdict that timed out a read is still pending, and the generator
    // takes the return after it: not awaited then, so a stalled client does not hold the answer.
    const closing = data.return(undefined).catch(() => undefined);
    if (settled) await closing;
  }
}

async function decoderVerdict(data: AsyncGenerator<Uint8Array>, ms: number): Promise<{ error?: AtomicError; settled: boolean }> {
  const deadline = Date.now() + ms;
  let bytes = 0;
  try {
    for (;;) {
      const left = deadline - Date.now();
      let timer: NodeJS.Timeout | undefined;
      const next = data.next();
      next.catch(() => undefined);
      const r = await Promise.race([next, new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(0, left))))]);
      clearTimeout(timer);
      if (r === 'late') return { settled: false };
      if (r.done === true) return { settled: true };
      bytes += r.value.length;
      if (bytes > VERDICT_BYTES) return { settled: true };
    }
  } catch (e) {
    // Only the decompressor's finding replaces the consumer's error (not, say, the client going away).
    return e instanceof InvalidArgument ? { error: e, settled: true } : { settled: true };
  }
}

async function openDecompressed(source: AsyncIterable<Uint8Array>, o: DecompressOptions): Promise<{ compression: Compression; data: AsyncGenerator<Uint8Array> }> {
  const it = source[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < MAGIC_BYTES) {
    const r = await it.next();
    if (r.done === true) {
      ended = true;
      break;
    }
    head.push(r.value);
    headBytes += r.value.length;
  }
  const first = Buffer.concat(head);
  const all = async function* (): AsyncGenerator<Uint8Array> {
    if (first.length > 0) yield first;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done === true) return;
      yield r.value;
    }
  };
  const compression = detectCompression(first);
  const data = compression === 'none' ? all() : compression === 'gzip' ? gunzip(all(), o.what) : throughTool(compression, all(), o.what);
  return { compression, data };
}

async function* gunzip(input: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
  try {
    yield* Readable.from(input).pipe(createGunzip()) as AsyncIterable<Buffer>;
  } catch (e) {
    // zlib's errors carry a Z_* code (Z_DATA_ERROR, Z_BUF_ERROR for a truncated stream).
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('Z_')) throw new InvalidArgument(`${what}: the gzip stream is corrupt or truncated (${(e as Error).message})`, { subject: what, cause: e });
    throw e;
  }
}

async function* throughTool(format: 'bzip2' | 'xz' | 'zstd', input: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
  const tool = TOOLS[format];
  const child = spawn(tool.command, tool.args as string[], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    if (stderr.length < 4096) stderr += b.toString('utf8');
  });
  let spawnError: NodeJS.ErrnoException | undefined;
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (e: NodeJS.ErrnoException) => {
      spawnError = e;
      resolve({ code: null, signal: null });
    });
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  // The tool quits early on bad input: the rest of our writes then meet EPIPE, which is no news.
  child.stdin.on('error', () => undefined);
  let inputError: unknown;
  const pump = (async (): Promise<void> => {
    try {
      for await (const chunk of input) {
        if (child.stdin.destroyed || child.exitCode !== null) break;
        if (!child.stdin.write(chunk)) {
          await new Promise<void>((resolve) => {
            child.stdin.once('drain', resolve);
            child.stdin.once('close', resolve);
          });
        }
      }
      child.stdin.end();
    } catch (e) {
      // The client went away mid-upload: the tool is stopped, the error is the reader's.
      inputError = e;
      child.kill('SIGKILL');
    }
  })();
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) yield chunk;
    const { code, signal } = await closed;
    await pump;
    if (inputError !== undefined) throw inputError;
    if (spawnError !== undefined) {
      if (spawnError.code === 'ENOENT') throw new Unavailable(`${what} is ${format}-compressed and ${tool.command} is not installed (Debian package ${tool.debianPackage})`, { subject: tool.command, cause: spawnError });
      throw new Unavailable(`${what}: starting ${tool.command}: ${spawnError.message}`, { subject: tool.command, cause: spawnError });
    }
    if (code !== 0) {
      const said = stderr.trim().split('\n').slice(-2).join('; ');
      throw new InvalidArgument(`${what}: the ${format} stream is corrupt or truncated (${tool.command}: ${said !== '' ? said : signal !== null ? `killed by ${signal}` : `exit status ${code}`})`, { subject: what });
    }
  } catch (e) {
    if (e instanceof AtomicError || inputError !== undefined) throw e;
    throw new InvalidArgument(`${what}: reading the ${format} stream: ${(e as Error).message}`, { subject: what, cause: e });
  } finally {
    // A reader that stops early (a refused tar entry) leaves no tool behind.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
