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
}

/** `source` decompressed when its magic bytes say it is compressed, as it is otherwise. */
export async function* decompressStream(source: AsyncIterable<Uint8Array>, o: DecompressOptions): AsyncGenerator<Uint8Array> {
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
  if (compression === 'none') yield* all();
  else if (compression === 'gzip') yield* gunzip(all(), o.what);
  else yield* throughTool(compression, all(), o.what);
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
