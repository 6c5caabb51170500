// Read just enough of a disk image file to tell its format (formats/disk-format.ts).
import { open } from 'node:fs/promises';
import { DISK_SNIFF_HEAD_BYTES, DISK_SNIFF_TAIL_BYTES, sniffDiskFormat, type DiskFormat } from '../../formats/disk-format.js';
import { fromSystemError, InvalidArgument } from '../../lib/errors.js';

export interface DiskFileInfo {
  readonly sizeBytes: number;
  readonly format: DiskFormat;
}

export async function readDiskFormat(path: string): Promise<DiskFileInfo> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw fromSystemError(e, path, 'opening the disk');
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new InvalidArgument('not a regular file (a disk image file is expected)', { subject: path });
    const sizeBytes = st.size;
    const head = Buffer.alloc(Math.min(DISK_SNIFF_HEAD_BYTES, sizeBytes));
    await fh.read(head, 0, head.length, 0);
    const tailLength = Math.min(DISK_SNIFF_TAIL_BYTES, sizeBytes);
    const tail = Buffer.alloc(tailLength);
    await fh.read(tail, 0, tailLength, sizeBytes - tailLength);
    return { sizeBytes, format: sniffDiskFormat(head, tail) };
  } catch (e) {
    throw fromSystemError(e, path, 'reading the disk');
  } finally {
    await fh.close();
  }
}
