// A streaming tar reader for image layers: an async iterator of entries over a byte stream, with
// file content handed to the consumer as it arrives, so memory stays bounded by one source chunk
// plus the capped metadata records, whatever the layer size. It reads what container layers are
// written in (POSIX.1-2001 pax, POSIX ustar, GNU long names and links, old v7 headers) with the
// behaviour of Go's archive/tar, which Docker and containerd use: pax records override ustar
// fields, GNU base-256 numbers, `SCHILY.xattr.*` extended attributes, a clean end of stream at a
// header boundary accepted as the end. Every header's checksum is checked; corrupt or truncated
// input is DataLoss naming the byte offset of the header.
import { DataLoss, Internal, ResourceExhausted, Unimplemented } from '../../lib/errors.js';

const BLOCK = 512;
const DEFAULT_MAX_METADATA_BYTES = 1024 * 1024; // Go archive/tar maxSpecialFileSize

export type TarStreamEntryKind = 'file' | 'directory' | 'symlink' | 'hardlink' | 'char-device' | 'block-device' | 'fifo';

export interface TarStreamHeader {
  /** The name as recorded (pax `path`, GNU long name or ustar prefix + name), not cleaned. */
  readonly path: string;
  readonly kind: TarStreamEntryKind;
  /** Target of symlinks and hard links ('' otherwise), as recorded. */
  readonly linkPath: string;
  /** Permission bits with setuid, setgid and sticky (0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly uname: string;
  readonly gname: string;
  /** Bytes of content that follow (0 for every kind but 'file'). */
  readonly sizeBytes: number;
  readonly mtimeMs: number;
  readonly devMajor: number;
  readonly devMinor: number;
  /** Extended attributes from pax `SCHILY.xattr.NAME` records; values are raw bytes. */
  readonly xattrs: ReadonlyMap<string, Buffer>;
  /** Offset in the stream of the entry's first header (its pax or GNU header, if any). */
  readonly headerOffset: number;
}

export interface TarStreamEntry extends TarStreamHeader {
  /**
   * The content, to be read before the next entry is asked for (what is left unread is skipped).
   * Chunks may be views of the source's buffers: copy them to keep them.
   */
  readonly body: AsyncIterable<Buffer>;
}

export interface TarStreamOptions {
  /** Names the archive in messages: `layer sha256:…`. */
  readonly what?: string;
  /** Cap on one pax header or GNU long name/link record. */
  readonly maxMetadataBytes?: number;
}

/** Consumed-byte bookkeeping over an async source of chunks. */
class ByteReader {
  private readonly chunks: Buffer[] = [];
  private head = 0; // read position inside chunks[0]
  private buffered = 0;
  private ended = false;
  /** Bytes handed out or skipped so far: the stream offset of the next byte. */
  offset = 0;

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    for (;;) {
      const r = await this.source.next();
      if (r.done === true) {
        this.ended = true;
        return false;
      }
      if (r.value.byteLength === 0) continue;
      this.chunks.push(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength));
      this.buffered += r.value.byteLength;
      return true;
    }
  }

  /** Exactly `n` bytes, or fewer only when the stream ended first. */
  async read(n: number): Promise<Buffer> {
    while (this.buffered < n && (await this.fill()));
    const take = Math.min(n, this.buffered);
    const first = this.chunks[0];
    let out: Buffer;
    if (first !== undefined && first.length - this.head >= take) {
      out = first.subarray(this.head, this.head + take);
      this.advance(take);
    } else {
      out = Buffer.allocUnsafe(take);
      let filled = 0;
      while (filled < take) {
        const c = this.chunks[0]!;
        const k = Math.min(take - filled, c.length - this.head);
        c.copy(out, filled, this.head, this.head + k);
        filled += k;
        this.advance(k);
      }
    }
    return out;
  }

  /** Up to `max` bytes (at least one unless the stream ended): a view, no copy. */
  async next(max: number): Promise<Buffer> {
    if (this.buffered === 0 && !(await this.fill())) return Buffer.alloc(0);
    const c = this.chunks[0]!;
    const k = Math.min(max, c.length - this.head);
    const out = c.subarray(this.head, this.head + k);
    this.advance(k);
    return out;
  }

  /** Skip `n` bytes; returns how many could be skipped before the end. */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      const c = await this.next(left);
      if (c.length === 0) break;
      left -= c.length;
    }
    return n - left;
  }

  /** Read and drop everything left in the source. */
  async drain(): Promise<void> {
    this.advance(this.buffered);
    while (await this.fill()) this.advance(this.buffered);
  }

  private advance(k: number): void {
    this.buffered -= k;
    this.offset += k;
    this.head += k;
    while (this.chunks.length > 0 && this.head >= this.chunks[0]!.length) {
      this.head -= this.chunks[0]!.length;
      this.chunks.shift();
    }
  }

  async close(): Promise<void> {
    await this.source.return?.();
  }
}

interface PaxOverrides {
  path?: string;
  linkPath?: string;
  size?: number;
  mtimeMs?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  xattrs: Map<string, Buffer>;
}

/**
 * The entries of the tar stream `source`. After the end-of-archive blocks the rest of the source is
 * read and dropped, so a digest computed over the source covers every byte (diff_id). Breaking out
 * of the loop closes the source.
 */
export async function* readTarStream(source: AsyncIterable<Uint8Array>, opts: TarStreamOptions = {}): AsyncGenerator<TarStreamEntry, void, undefined> {
  const what = opts.what ?? 'tar stream';
  const maxMeta = opts.maxMetadataBytes ?? DEFAULT_MAX_METADATA_BYTES;
  const reader = new ByteReader(source[Symbol.asyncIterator]());
  // The unread content and padding of the entry handed out last.
  const pending = { remaining: 0, padding: 0, generation: 0 };
  let finished = false;
  try {
    let pax: PaxOverrides = { xattrs: new Map() };
    let longName: string | undefined;
    let longLink: string | undefined;
    let entryStart: number | undefined;
    for (;;) {
      const toSkip = pending.remaining + pending.padding;
      pending.generation++;
      if (toSkip > 0) {
        const at = reader.offset;
        const skipped = await reader.skip(toSkip);
        if (skipped < pending.remaining) throw new DataLoss(`${what}: truncated: the stream ended at byte ${at + skipped}, inside the content of an entry`);
        pending.remaining = 0;
        pending.padding = 0;
      }
      const headerAt = reader.offset;
      const h = await reader.read(BLOCK);
      if (h.length === 0) {
        // Go's archive/tar (and so Docker) takes a clean end at a header boundary as the end.
        if (entryStart !== undefined) throw new DataLoss(`${what}: truncated: the stream ended after the extended header at byte ${entryStart}, before its entry`);
        finished = true;
        return;
      }
      if (h.length < BLOCK) throw new DataLoss(`${what}: truncated: the stream ended at byte ${headerAt + h.length}, inside a header`);
      if (isZero(h)) {
        const second = await reader.read(BLOCK);
        if (second.length > 0 && !isZero(second)) throw new DataLoss(`${what}: a zero block at byte ${headerAt} is followed by data (corrupt archive)`);
        if (entryStart !== undefined) throw new DataLoss(`${what}: the archive ends after the extended header at byte ${entryStart}, before its entry`);
        await reader.drain();
        finished = true;
        return;
      }
      checkChecksum(h, headerAt, what);
      entryStart ??= headerAt;
      const flag = String.fromCharCode(h[156]!);
      const size = number(h, 124, 12, headerAt, 'size', what);
      const padding = (BLOCK - (size % BLOCK)) % BLOCK;

      if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
        if (size > maxMeta) {
          throw new ResourceExhausted(`${what}: the ${flag === 'x' || flag === 'g' ? 'pax' : 'GNU long name'} header at byte ${headerAt} is ${size} bytes, more than the limit of ${maxMeta}`);
        }
        const body = await reader.read(size);
        if (body.length < size) throw new DataLoss(`${what}: truncated: the stream ended at byte ${reader.offset}, inside the header at byte ${headerAt}`);
        if ((await reader.skip(padding)) < padding) throw new DataLoss(`${what}: truncated: the stream ended at byte ${reader.offset}, inside the header at byte ${headerAt}`);
        if (flag === 'x') pax = parsePax(body, headerAt, what, pax);
        // A global header ('g') applies to all later entries in POSIX; Go's reader hands it out as
        // an entry of its own, Docker ignores it, and so do we.
        else if (flag === 'L') longName = cString(body, 0, body.length);
        else if (flag === 'K') longLink = cString(body, 0, body.length);
        if (flag === 'g') entryStart = undefined;
        continue;
      }

      const ustar = h.toString('latin1', 257, 263) === 'ustar\0';
      const star = ustar && h.toString('latin1', 508, 512) === 'tar\0';
      const prefix = ustar ? cString(h, 345, star ? 131 : 155) : '';
      const name = cString(h, 0, 100);
      const headerPath = prefix === '' ? name : `${prefix}/${name}`;
      let kind: TarStreamEntryKind | 'skip';
      switch (flag) {
        case '0':
        case '7': // contiguous file: a regular file everywhere but on one 1980s system
          kind = 'file';
          break;
        case '\0':
          // v7 tar: no type flag, directories told by their trailing slash (Go: TypeRegA).
          kind = headerPath.endsWith('/') ? 'directory' : 'file';
          break;
        case '1':
          kind = 'hardlink';
          break;
        case '2':
          kind = 'symlink';
          break;
        case '3':
          kind = 'char-device';
          break;
        case '4':
          kind = 'block-device';
          break;
        case '5':
        case 'D': // GNU dumpdir: a directory whose content lists its names (incremental dumps)
          kind = 'directory';
          break;
        case '6':
          kind = 'fifo';
          break;
        case 'V': // GNU volume label: not a file
          kind = 'skip';
          break;
        case 'S':
          throw new Unimplemented(`${what}: the GNU sparse file at byte ${headerAt} is not supported`);
        default:
          throw new Unimplemented(`${what}: entry type ${JSON.stringify(flag)} at byte ${headerAt} is not supported`);
      }
      // Go isHeaderOnlyType: links, devices, fifos and directories have no content, whatever the size field says.
      const headerOnly = kind === 'hardlink' || kind === 'symlink' || kind === 'char-device' || kind === 'block-device' || kind === 'fifo' || (kind === 'directory' && flag !== 'D');
      const dataSize = headerOnly ? 0 : (pax.size ?? size);
      const entry: TarStreamHeader = {
        path: pax.path ?? longName ?? headerPath,
        kind: kind === 'skip' ? 'file' : kind, // 'skip' entries are never handed out
        linkPath: kind === 'hardlink' || kind === 'symlink' ? (pax.linkPath ?? longLink ?? cString(h, 157, 100)) : '',
        mode: number(h, 100, 8, headerAt, 'mode', what) & 0o7777,
        uid: pax.uid ?? number(h, 108, 8, headerAt, 'uid', what),
        gid: pax.gid ?? number(h, 116, 8, headerAt, 'gid', what),
        uname: pax.uname ?? (ustar || isGnu(h) ? cString(h, 265, 32) : ''),
        gname: pax.gname ?? (ustar || isGnu(h) ? cString(h, 297, 32) : ''),
        sizeBytes: kind === 'file' ? dataSize : 0,
        mtimeMs: pax.mtimeMs ?? number(h, 136, 12, headerAt, 'mtime', what) * 1000,
        devMajor: kind === 'char-device' || kind === 'block-device' ? number(h, 329, 8, headerAt, 'devmajor', what) : 0,
        devMinor: kind === 'char-device' || kind === 'block-device' ? number(h, 337, 8, headerAt, 'devminor', what) : 0,
        xattrs: pax.xattrs,
        headerOffset: entryStart,
      };
      pax = { xattrs: new Map() };
      longName = undefined;
      longLink = undefined;
      entryStart = undefined;
      pending.remaining = dataSize;
      pending.padding = (BLOCK - (dataSize % BLOCK)) % BLOCK;
      if (kind === 'skip') continue;
      const generation = pending.generation;
      const body: AsyncIterable<Buffer> = {
        [Symbol.asyncIterator]: async function* () {
          if (generation !== pending.generation) throw new Internal(`${what}: the content of ${JSON.stringify(entry.path)} was read after the next entry was asked for`);
          while (pending.remaining > 0) {
            const chunk = await reader.next(pending.remaining);
            if (chunk.length === 0) {
              throw new DataLoss(
                `${what}: truncated: ${JSON.stringify(entry.path)} (header at byte ${entry.headerOffset}) claims ${dataSize} bytes; the stream ended at byte ${reader.offset}`,
              );
            }
            pending.remaining -= chunk.length;
            yield chunk;
          }
        },
      };
      yield { ...entry, body };
    }
  } finally {
    if (!finished) await reader.close().catch(() => undefined);
  }
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

function isGnu(h: Buffer): boolean {
  return h.toString('latin1', 257, 265) === 'ustar  \0';
}

/**
 * POSIX: the checksum is the sum of the header bytes with the checksum field taken as spaces.
 * Some historic tars summed signed chars; Go accepts both, so do we.
 */
function checkChecksum(h: Buffer, at: number, what: string): void {
  const field = h.toString('latin1', 148, 156).replace(/^[ \0]+|[ \0]+$/g, '');
  if (!/^[0-7]+$/.test(field)) throw new DataLoss(`${what}: header at byte ${at} has no valid checksum field (not a tar archive, or corrupt)`);
  const recorded = parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  if (recorded !== unsigned && recorded !== signed) throw new DataLoss(`${what}: header at byte ${at} has a bad checksum (not a tar archive, or corrupt)`);
}

/** A numeric field: octal text, or GNU base-256 when the first byte has its high bit set. */
function number(h: Buffer, offset: number, length: number, at: number, field: string, what: string): number {
  const f = h.subarray(offset, offset + length);
  if ((f[0]! & 0x80) !== 0) {
    // Base-256, two's complement, with bit 7 of the first byte only marking the encoding.
    const negative = (f[0]! & 0x40) !== 0;
    let v = BigInt(f[0]! & 0x7f) - (negative ? 0x80n : 0n);
    for (let i = 1; i < f.length; i++) v = v * 256n + BigInt(f[i]!);
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DataLoss(`${what}: header at byte ${at}: ${field} ${v} is out of range`);
    return Number(v);
  }
  const text = f.toString('latin1').replace(/^[ \0]+|[ \0]+$/g, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new DataLoss(`${what}: header at byte ${at}: ${field} is not an octal number: ${JSON.stringify(text)}`);
  const v = parseInt(text, 8);
  if (!Number.isSafeInteger(v)) throw new DataLoss(`${what}: header at byte ${at}: ${field} is out of range`);
  return v;
}

function cString(b: Buffer, offset: number, length: number): string {
  const field = b.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.toString('utf8', 0, end < 0 ? field.length : end);
}

/**
 * pax extended header records: "LENGTH KEY=VALUE\n", LENGTH counting the whole record in decimal
 * (POSIX.1-2001 pax "extended header"). Values of xattr records are bytes, not text.
 */
function parsePax(body: Buffer, at: number, what: string, into: PaxOverrides): PaxOverrides {
  const out: PaxOverrides = { ...into, xattrs: new Map(into.xattrs) };
  const bad = (why: string): DataLoss => new DataLoss(`${what}: pax header at byte ${at}: ${why}`);
  let i = 0;
  while (i < body.length) {
    if (body[i] === 0) break; // NUL padding after the last record (some writers)
    const space = body.indexOf(0x20, i);
    if (space < 0 || space - i > 20) throw bad(`malformed record at offset ${i}`);
    const lenText = body.toString('latin1', i, space);
    if (!/^[1-9][0-9]*$/.test(lenText)) throw bad(`malformed record length ${JSON.stringify(lenText)}`);
    const len = Number(lenText);
    if (i + len > body.length || len <= space - i + 1) throw bad(`record at offset ${i} overruns the header`);
    if (body[i + len - 1] !== 0x0a) throw bad(`record at offset ${i} does not end with a newline`);
    const record = body.subarray(space + 1, i + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw bad(`record at offset ${i} has no key=value`);
    const key = record.toString('utf8', 0, eq);
    const raw = record.subarray(eq + 1);
    const value = raw.toString('utf8');
    const decimal = (): number => {
      if (!/^[0-9]+$/.test(value)) throw bad(`${key} is not a decimal number: ${JSON.stringify(value)}`);
      const n = Number(value);
      if (!Number.isSafeInteger(n)) throw bad(`${key} is out of range: ${value}`);
      return n;
    };
    // An empty value deletes the keyword's earlier value (POSIX pax); the ustar field applies again.
    const empty = raw.length === 0;
    if (key === 'path') out.path = empty ? undefined : value;
    else if (key === 'linkpath') out.linkPath = empty ? undefined : value;
    else if (key === 'size') out.size = empty ? undefined : decimal();
    else if (key === 'uid') out.uid = empty ? undefined : decimal();
    else if (key === 'gid') out.gid = empty ? undefined : decimal();
    else if (key === 'uname') out.uname = empty ? undefined : value;
    else if (key === 'gname') out.gname = empty ? undefined : value;
    else if (key === 'mtime') {
      if (empty) out.mtimeMs = undefined;
      else {
        const m = /^(-?[0-9]+)(?:\.([0-9]*))?$/.exec(value);
        if (m === null) throw bad(`mtime is not a decimal time: ${JSON.stringify(value)}`);
        const seconds = Number(m[1]);
        const fraction = Number(`0.${m[2] ?? '0'}`);
        out.mtimeMs = (seconds + (seconds < 0 ? -fraction : fraction)) * 1000;
      }
    } else if (key.startsWith('SCHILY.xattr.')) {
      const name = key.slice('SCHILY.xattr.'.length);
      if (name === '') throw bad('xattr record without a name');
      out.xattrs.set(name, Buffer.from(raw));
    } else if (key.startsWith('GNU.sparse.')) {
      throw new Unimplemented(`${what}: the GNU sparse file described by the pax header at byte ${at} is not supported`);
    }
    // atime, ctime, charset, comment, SCHILY.dev/ino/nlink, LIBARCHIVE.*: nothing we use.
    i += len;
  }
  return out;
}
