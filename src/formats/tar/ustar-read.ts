// A reader for small tar archives held in memory (seed tarballs): POSIX ustar headers, pax
// extended headers ('x', for long paths) and GNU long names ('L'), as GNU tar and bsdtar write
// them. It checks every header's checksum and every path: an entry that would land outside the
// archive root ('..', absolute paths) is refused, not skipped, so a malicious seed is noticed.
import { DataLoss, InvalidArgument } from '../../lib/errors.js';

const BLOCK = 512;

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface TarReadEntry {
  /** Normalised relative path: no leading './' or '/', no trailing '/', no '.'/'..' components. */
  readonly path: string;
  readonly type: TarEntryType;
  readonly mode: number;
  readonly mtimeMs: number;
  readonly sizeBytes: number;
  /** Content of regular files. */
  readonly data?: Uint8Array;
  /** Target of symlinks and hard links. */
  readonly linkName?: string;
}

export function readTar(archive: Uint8Array, what = 'tar archive'): TarReadEntry[] {
  const buf = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  const out: TarReadEntry[] = [];
  let pending: { path?: string; linkName?: string } = {};
  for (let at = 0; ; ) {
    if (at + BLOCK > buf.length) throw new DataLoss(`${what}: truncated at byte ${at} (no end-of-archive blocks)`);
    const h = buf.subarray(at, at + BLOCK);
    if (h.every((b) => b === 0)) return out; // end of archive (POSIX: two zero blocks; one is enough to stop)
    const headerAt = at;
    checkChecksum(h, headerAt, what);
    const size = octal(h, 124, 12, headerAt, what);
    const dataStart = at + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > buf.length) throw new DataLoss(`${what}: entry at byte ${headerAt} claims ${size} bytes, beyond the end of the archive`);
    const body = buf.subarray(dataStart, dataEnd);
    at = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    const flag = String.fromCharCode(h[156] ?? 0);
    if (flag === 'x') {
      pending = { ...pending, ...paxPaths(body) };
      continue;
    }
    if (flag === 'g') continue; // global pax header: nothing we use
    if (flag === 'L' || flag === 'K') {
      const text = body.toString('utf8').replace(/\0+$/, '');
      pending = flag === 'L' ? { ...pending, path: text } : { ...pending, linkName: text };
      continue;
    }
    const ustar = h.toString('latin1', 257, 262) === 'ustar';
    const prefix = ustar ? cString(h, 345, 155) : '';
    const rawPath = pending.path ?? (prefix === '' ? cString(h, 0, 100) : `${prefix}/${cString(h, 0, 100)}`);
    const linkName = pending.linkName ?? cString(h, 157, 100);
    pending = {};
    const type: TarEntryType =
      flag === '0' || flag === '\0' || flag === '7' ? 'file'
        : flag === '5' ? 'directory'
          : flag === '2' ? 'symlink'
            : flag === '1' ? 'hardlink'
              : 'other';
    const path = safePath(rawPath, what);
    if (path === '') continue; // the archive root itself ("./")
    if (type === 'hardlink') safePath(linkName, what);
    out.push({
      path,
      type,
      mode: octal(h, 100, 8, headerAt, what) & 0o7777,
      mtimeMs: octal(h, 136, 12, headerAt, what) * 1000,
      sizeBytes: type === 'file' ? size : 0,
      ...(type === 'file' ? { data: body } : {}),
      ...(type === 'symlink' || type === 'hardlink' ? { linkName } : {}),
    });
  }
}

/** A relative path inside the archive root, or an InvalidArgument naming the entry. */
function safePath(raw: string, what: string): string {
  if (raw.includes('\0')) throw new InvalidArgument(`${what}: entry name ${JSON.stringify(raw)} contains NUL`);
  if (raw.startsWith('/')) throw new InvalidArgument(`${what}: entry ${JSON.stringify(raw)} has an absolute path`);
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new InvalidArgument(`${what}: entry ${JSON.stringify(raw)} points outside the archive ('..')`);
  return parts.join('/');
}

function checkChecksum(h: Buffer, at: number, what: string): void {
  const recorded = octal(h, 148, 8, at, what);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  if (sum !== recorded) throw new DataLoss(`${what}: header at byte ${at} has a bad checksum (not a tar archive, or corrupt)`);
}

function octal(h: Buffer, offset: number, length: number, at: number, what: string): number {
  const field = h.subarray(offset, offset + length);
  // GNU base-256 for values that do not fit in octal: high bit of the first byte set.
  if (((field[0] ?? 0) & 0x80) !== 0) {
    let v = (field[0] ?? 0) & 0x7f;
    for (let i = 1; i < field.length; i++) v = v * 256 + (field[i] ?? 0);
    return v;
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new DataLoss(`${what}: header at byte ${at}: bad octal number ${JSON.stringify(text)}`);
  return parseInt(text, 8);
}

function cString(h: Buffer, offset: number, length: number): string {
  const field = h.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.toString('utf8', 0, end < 0 ? field.length : end);
}

/** pax records are "LEN key=value\n"; we take path and linkpath. */
function paxPaths(body: Buffer): { path?: string; linkName?: string } {
  const out: { path?: string; linkName?: string } = {};
  let i = 0;
  while (i < body.length) {
    const space = body.indexOf(0x20, i);
    if (space < 0) break;
    const len = Number(body.toString('latin1', i, space));
    if (!Number.isInteger(len) || len <= 0 || i + len > body.length) break;
    const record = body.toString('utf8', space + 1, i + len - 1);
    const eq = record.indexOf('=');
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === 'path') out.path = value;
    if (key === 'linkpath') out.linkName = value;
    i += len;
  }
  return out;
}
