// The "new ASCII" (newc, magic 070701) cpio format, the one the kernel unpacks an initramfs from
// (Documentation/driver-api/early-userspace/buffer-format.rst): a 110-byte header of 13 8-digit
// hex fields, the NUL-terminated name, padding to 4 bytes, the data, padding to 4 bytes; the
// archive ends with an entry named TRAILER!!!. Symlink targets are the data of a link entry.
import { InvalidArgument, OutOfRange } from '../../lib/errors.js';

export type CpioEntry =
  | { readonly kind: 'directory'; readonly path: string; readonly mode: number }
  | { readonly kind: 'file'; readonly path: string; readonly mode: number; readonly data: Uint8Array }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
  /** A character device node, e.g. dev/console (5, 1): the kernel opens it for init's stdio. */
  | { readonly kind: 'char-device'; readonly path: string; readonly mode: number; readonly major: number; readonly minor: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const TRAILER = 'TRAILER!!!';

export interface CpioOptions {
  /** mtime of every entry, seconds (SOURCE_DATE_EPOCH for reproducible archives). Default 0. */
  readonly mtimeSeconds?: number;
}

/** The archive as chunks (concatenate or stream them). Entries are written in the given order. */
export function encodeCpioNewc(entries: readonly CpioEntry[], opts: CpioOptions = {}): Uint8Array[] {
  const mtime = opts.mtimeSeconds ?? 0;
  const out: Uint8Array[] = [];
  let offset = 0;
  const push = (b: Uint8Array): void => {
    out.push(b);
    offset += b.length;
  };
  const pad = (): void => {
    const n = (4 - (offset % 4)) % 4;
    if (n > 0) push(new Uint8Array(n));
  };
  let ino = 1;
  const write = (path: string, mode: number, data: Uint8Array, nlink: number, rdev: readonly [number, number] = [0, 0]): void => {
    const name = Buffer.from(`${path}\0`, 'utf8');
    if (data.length > 0xffffffff) throw new OutOfRange(`cpio: ${path} is larger than 4 GiB - 1`);
    // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
    const fields = [ino++, mode, 0, 0, nlink, mtime, data.length, 0, 0, rdev[0], rdev[1], name.length, 0];
    push(Buffer.from('070701' + fields.map((f) => f.toString(16).padStart(8, '0')).join(''), 'latin1'));
    push(name);
    pad();
    if (data.length > 0) push(data);
    pad();
  };
  for (const e of entries) {
    const path = e.path.replace(/^\/+/, '');
    if (path === '' || path.split('/').includes('..') || path.includes('\0')) {
      throw new InvalidArgument(`cpio: bad entry path ${JSON.stringify(e.path)}`);
    }
    if (e.kind === 'directory') write(path, S_IFDIR | (e.mode & 0o7777), new Uint8Array(0), 2);
    else if (e.kind === 'file') write(path, S_IFREG | (e.mode & 0o7777), e.data, 1);
    else if (e.kind === 'symlink') write(path, S_IFLNK | 0o777, Buffer.from(e.target, 'utf8'), 1);
    else write(path, S_IFCHR | (e.mode & 0o7777), new Uint8Array(0), 1, [e.major, e.minor]);
  }
  write(TRAILER, 0, new Uint8Array(0), 1);
  return out;
}
