// Tar headers for streamed archives (docker cp, docker save): one POSIX ustar header per entry,
// preceded by a pax extended header ('x', POSIX.1-2001) when a field does not fit ustar: names or
// link targets over 100 bytes or not ASCII, sizes of 8 GiB and more, ids over 2097151. That is
// what Go's archive/tar writes (and so Docker), and what every tar reader (GNU tar, bsdtar,
// Go, ours in tar-stream.ts) reads. The caller writes the content after the header, then
// tarPadding(size) zero bytes; TAR_TRAILER ends the archive.
import type { TarStreamEntryKind } from './tar-stream.js';

export interface TarHeaderFields {
  /** Relative path; directories may end with '/' (added when missing). */
  readonly path: string;
  readonly kind: TarStreamEntryKind;
  /** Permission bits with setuid, setgid and sticky. */
  readonly mode: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly uname?: string;
  readonly gname?: string;
  /** Content bytes that follow (files only). */
  readonly sizeBytes?: number;
  readonly mtimeMs: number;
  /** Target of symlinks and hard links. */
  readonly linkPath?: string;
  readonly devMajor?: number;
  readonly devMinor?: number;
}

export const TAR_BLOCK = 512;
/** Two zero blocks: the end of an archive. */
export const TAR_TRAILER: Buffer = Buffer.alloc(2 * TAR_BLOCK);

const TYPE_FLAG: Readonly<Record<TarStreamEntryKind, string>> = {
  file: '0', hardlink: '1', symlink: '2', 'char-device': '3', 'block-device': '4', directory: '5', fifo: '6',
};
const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;

/** Zero bytes after `size` bytes of content, up to the next block. */
export function tarPadding(size: number): Buffer {
  const n = (TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK;
  return n === 0 ? EMPTY : Buffer.alloc(n);
}
const EMPTY = Buffer.alloc(0);

/** The header block(s) of one entry: [pax header + its records] + the ustar header. */
export function encodeTarHeader(f: TarHeaderFields): Buffer {
  const path = f.kind === 'directory' && !f.path.endsWith('/') ? `${f.path}/` : f.path;
  const size = f.kind === 'file' ? (f.sizeBytes ?? 0) : 0;
  const uid = f.uid ?? 0;
  const gid = f.gid ?? 0;
  const link = f.linkPath ?? '';
  const pax: [string, string][] = [];
  if (!fitsUstar(path)) pax.push(['path', path]);
  if (!fitsUstar(link)) pax.push(['linkpath', link]);
  if (size > MAX_OCTAL_12) pax.push(['size', String(size)]);
  if (uid > MAX_OCTAL_8) pax.push(['uid', String(uid)]);
  if (gid > MAX_OCTAL_8) pax.push(['gid', String(gid)]);
  const mtimeS = Math.floor(f.mtimeMs / 1000);
  if (mtimeS < 0 || mtimeS > MAX_OCTAL_12) pax.push(['mtime', String(mtimeS)]);
  const ustar = ustarBlock({
    name: fitsUstar(path) ? path : asciiFallback(path),
    type: TYPE_FLAG[f.kind],
    mode: f.mode & 0o7777,
    uid: Math.min(uid, MAX_OCTAL_8),
    gid: Math.min(gid, MAX_OCTAL_8),
    size: size > MAX_OCTAL_12 ? 0 : size,
    mtime: Math.min(Math.max(mtimeS, 0), MAX_OCTAL_12),
    link: fitsUstar(link) ? link : asciiFallback(link),
    uname: f.uname ?? '',
    gname: f.gname ?? '',
    devMajor: f.devMajor ?? 0,
    devMinor: f.devMinor ?? 0,
  });
  if (pax.length === 0) return ustar;
  const records = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)));
  const paxHeader = ustarBlock({
    // Go names the pax header after the entry (PaxHeaders.0/NAME); any name does.
    name: `PaxHeaders.0/${asciiFallback(path.replace(/\/$/, '').split('/').pop() ?? 'x')}`.slice(0, 99),
    type: 'x', mode: 0o644, uid: 0, gid: 0, size: records.length, mtime: 0, link: '', uname: '', gname: '', devMajor: 0, devMinor: 0,
  });
  return Buffer.concat([paxHeader, records, tarPadding(records.length), ustar]);
}

function fitsUstar(s: string): boolean {
  // ASCII only: a reader without pax support decodes the field as it likes.
  return Buffer.byteLength(s) <= 100 && /^[\x20-\x7e]*$/.test(s);
}

/** What a reader without pax support sees: the name cut to the field. */
function asciiFallback(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '_').slice(0, 100);
}

/** "LEN key=value\n" where LEN counts the whole record, itself included. */
function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return Buffer.from(`${len}${body}`, 'utf8');
}

interface UstarFields {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  link: string;
  uname: string;
  gname: string;
  devMajor: number;
  devMinor: number;
}

function ustarBlock(u: UstarFields): Buffer {
  const h = Buffer.alloc(TAR_BLOCK);
  h.write(u.name, 0, 100, 'utf8');
  octal(h, 100, 8, u.mode);
  octal(h, 108, 8, u.uid);
  octal(h, 116, 8, u.gid);
  octal(h, 124, 12, u.size);
  octal(h, 136, 12, u.mtime);
  h.fill(0x20, 148, 156);
  h.write(u.type, 156, 1, 'latin1');
  h.write(u.link, 157, 100, 'utf8');
  h.write('ustar\u000000', 257, 'latin1');
  h.write(u.uname.slice(0, 31), 265, 32, 'utf8');
  h.write(u.gname.slice(0, 31), 297, 32, 'utf8');
  octal(h, 329, 8, u.devMajor);
  octal(h, 337, 8, u.devMinor);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return h;
}

function octal(h: Buffer, offset: number, length: number, value: number): void {
  h.write(`${Math.floor(value).toString(8).padStart(length - 1, '0')}\u0000`, offset, 'latin1');
}
