// A POSIX ustar archive writer for small in-memory trees (seed directories). POSIX.1-1988 ustar
// header: 512-byte blocks, octal numeric fields, checksum over the header with the checksum field
// as spaces; two zero blocks end the archive.

export interface TarEntry {
  /** Relative path; directories end without '/', the type says what it is. */
  readonly path: string;
  readonly type: 'file' | 'directory';
  readonly mode: number;
  readonly mtimeMs: number;
  readonly data?: Uint8Array;
}

const BLOCK = 512;

export function writeUstar(entries: readonly TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === 'file' ? (e.data ?? new Uint8Array()) : new Uint8Array();
    blocks.push(header(e, data.length));
    if (data.length > 0) {
      blocks.push(Buffer.from(data));
      const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
      if (pad > 0) blocks.push(Buffer.alloc(pad));
    }
  }
  blocks.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(blocks);
}

function header(e: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const path = e.type === 'directory' ? `${e.path}/` : e.path;
  const bytes = Buffer.from(path, 'utf8');
  // ustar splits long paths into prefix (155) + name (100) at a '/'.
  let name = bytes;
  let prefix = Buffer.alloc(0);
  if (bytes.length > 100) {
    const cut = path.lastIndexOf('/', path.length - 2);
    prefix = Buffer.from(path.slice(0, cut), 'utf8');
    name = Buffer.from(path.slice(cut + 1), 'utf8');
    if (prefix.length > 155 || name.length > 100) throw new RangeError(`tar path too long: ${path}`);
  }
  name.copy(h, 0);
  octal(h, 100, 8, e.mode & 0o7777);
  octal(h, 108, 8, 0); // uid root
  octal(h, 116, 8, 0); // gid root
  octal(h, 124, 12, size);
  octal(h, 136, 12, Math.floor(e.mtimeMs / 1000));
  h.fill(0x20, 148, 156);
  h[156] = e.type === 'directory' ? 0x35 : 0x30;
  h.write('ustar\u000000', 257, 'latin1');
  h.write('root', 265, 'latin1');
  h.write('root', 297, 'latin1');
  prefix.copy(h, 345);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 'latin1');
  return h;
}

function octal(h: Buffer, offset: number, length: number, value: number): void {
  h.write(value.toString(8).padStart(length - 1, '0') + '\u0000', offset, 'latin1');
}
