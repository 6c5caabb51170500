// A ByteSource over a file or a block device: positional reads on one FileHandle, so decoders in
// src/formats (the ISO reader) can read an image without knowing where it lives.
import { constants, open, readFile, type FileHandle } from 'node:fs/promises';
import { InvalidArgument, fromSystemError } from '../../lib/errors.js';
import type { ByteSource } from '../../formats/byte-source.js';

export interface FileByteSource extends ByteSource {
  readonly path: string;
  close(): Promise<void>;
}

export async function openFileByteSource(path: string): Promise<FileByteSource> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY);
  } catch (e) {
    throw fromSystemError(e, path, 'opening the image');
  }
  try {
    const st = await handle.stat({ bigint: true });
    let sizeBytes: number;
    if (st.isFile()) sizeBytes = Number(st.size);
    else if (st.isBlockDevice()) sizeBytes = await blockDeviceBytes(handle, st.rdev);
    else if (st.isDirectory()) throw new InvalidArgument('is a directory, not an image file', { subject: path });
    else throw new InvalidArgument('not a regular file or block device', { subject: path });
    return {
      path,
      sizeBytes,
      read: (position, length) => readAt(handle, path, position, length),
      close: () => handle.close(),
    };
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw fromSystemError(e, path, 'reading the image');
  }
}

/** Fill `length` bytes from `position`; a short result means the file ended (the reader reports it). */
async function readAt(handle: FileHandle, path: string, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  try {
    while (got < length) {
      const { bytesRead } = await handle.read(buf, got, length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
  } catch (e) {
    throw fromSystemError(e, path, `reading the image at byte ${position}`);
  }
  return got === length ? buf : buf.subarray(0, got);
}

/**
 * st_size is 0 for block devices. Linux publishes the size in 512-byte units under
 * /sys/dev/block/MAJOR:MINOR/size; without sysfs, find the end by probing reads.
 */
async function blockDeviceBytes(handle: FileHandle, rdev: bigint): Promise<number> {
  // Linux's dev_t encoding (new_decode_dev): 12 bits of major, 20 of minor, interleaved.
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  try {
    const sectors = Number((await readFile(`/sys/dev/block/${major}:${minor}/size`, 'latin1')).trim());
    if (Number.isSafeInteger(sectors) && sectors >= 0) return sectors * 512;
  } catch {
    // no sysfs (containers without /sys): probe below
  }
  const probe = Buffer.alloc(1);
  const readable = async (pos: number): Promise<boolean> => (await handle.read(probe, 0, 1, pos)).bytesRead === 1;
  let hi = 512;
  while (await readable(hi - 1)) hi *= 2;
  let lo = hi / 2; // lo bytes are readable (or 0 for a tiny device), hi are not
  if (!(await readable(lo - 1))) lo = 0;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await readable(mid - 1)) lo = mid;
    else hi = mid;
  }
  return lo;
}
