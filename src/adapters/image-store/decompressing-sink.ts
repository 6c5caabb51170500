// The bytes of a layer blob in, its tar stream out: gzip detected by its magic bytes, as Docker's
// DecompressStream does (zstd refused for now, anything else taken as a plain tar). The writer
// (a download, or a read of the stored blob) pushes chunks in order and waits for each write: it
// resolves once the chunk has been consumed, so the writer may reuse the chunk's memory then, and
// a reader that is behind slows the writer down. Once the reader has stopped (finished, refused
// the layer, or failed), writes resolve at once, so a download can still finish and be verified.
import { PassThrough, type Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { AtomicError, DataLoss, Internal, Unimplemented } from '../../lib/errors.js';

/** Output chunks of gunzip: fewer, larger chunks than zlib's 16 KiB default for 50 MB layers. */
const GUNZIP_CHUNK_BYTES = 256 * 1024;

export class DecompressingSink {
  private stream: Transform | undefined;
  /** Set for a plain tar: its chunks are passed on as they are, so they must be copies. */
  private copyInput = false;
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private readonly ready: Promise<Transform>;
  private resolveReady!: (s: Transform) => void;
  private rejectReady!: (e: unknown) => void;
  private closed = false;
  /** Writes not yet consumed; resolved by the stream or, when it closes, all at once. */
  private readonly pending = new Set<() => void>();

  constructor(private readonly what: string) {
    this.ready = new Promise<Transform>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => undefined); // reported by output()
  }

  /** Queue `chunk`; resolves when it was consumed (or will never be: the reader stopped). */
  async write(chunk: Buffer): Promise<void> {
    if (this.closed || chunk.length === 0) return;
    if (this.stream === undefined) {
      if (this.headBytes + chunk.length < 4) {
        this.head.push(Buffer.from(chunk));
        this.headBytes += chunk.length;
        return;
      }
      const magic = Buffer.concat([...this.head, chunk.subarray(0, 4)]);
      if (!this.start(magic)) return;
      const held = this.head.splice(0);
      if (held.length > 0) await this.send(Buffer.concat(held));
    }
    await this.send(this.copyInput ? Buffer.from(chunk) : chunk);
  }

  /** No more bytes: the reader gets the end of the tar stream. */
  end(): void {
    if (this.closed) return;
    if (this.stream === undefined) {
      // Fewer than 4 bytes in all: not gzip; the tar reader says what is wrong with it.
      if (!this.start(Buffer.concat(this.head))) return;
      const held = this.head.splice(0);
      if (held.length > 0) void this.send(Buffer.concat(held));
    }
    this.stream!.end();
  }

  /** Stop: the reader throws `error` (unless it already stopped), pending writes resolve. */
  fail(error: unknown): void {
    if (this.stream === undefined) {
      this.closed = true;
      this.rejectReady(error);
      return;
    }
    this.stream.destroy(error instanceof Error ? error : new Internal(String(error)));
  }

  /** The tar stream. Iterate it once; stopping early stops the sink. */
  async *output(): AsyncGenerator<Buffer, void, undefined> {
    const stream = await this.ready;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
    } catch (e) {
      if (e instanceof AtomicError) throw e;
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('Z_')) throw new DataLoss(`${this.what}: the gzip stream is corrupt (${(e as Error).message})`, { cause: e });
      throw new Internal(`${this.what}: decompressing: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    } finally {
      stream.destroy();
    }
  }

  /** Choose the decoder from the first bytes; false if the layer is refused. */
  private start(magic: Buffer): boolean {
    if (magic[0] === 0x28 && magic[1] === 0xb5 && magic[2] === 0x2f && magic[3] === 0xfd) {
      this.closed = true;
      this.rejectReady(new Unimplemented(`${this.what} is zstd-compressed, which is not supported yet`));
      return false;
    }
    const gzip = magic[0] === 0x1f && magic[1] === 0x8b;
    this.copyInput = !gzip;
    const stream: Transform = gzip ? createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES }) : new PassThrough();
    stream.on('error', () => undefined); // reported by output()
    stream.once('close', () => {
      this.closed = true;
      for (const resolve of this.pending) resolve();
      this.pending.clear();
    });
    this.stream = stream;
    this.resolveReady(stream);
    return true;
  }

  private send(chunk: Buffer): Promise<void> {
    const stream = this.stream!;
    if (this.closed || stream.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        if (this.pending.delete(done)) resolve();
      };
      this.pending.add(done);
      // gunzip calls back once it has read the whole chunk (zlib's processCallback), and only
      // when its output was taken: that is the backpressure.
      stream.write(chunk, () => done());
    });
  }
}
