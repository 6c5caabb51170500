// What a disk image is, asked of qemu-img (never guessed from the file name), plus a look at the
// first sector of raw files: qemu-img calls any file "raw", so a text file would otherwise pass.
import { open, realpath, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { DiskFormat } from '../../core/vm/qemu-argv.js';
import { FIRST_DESCRIPTOR_LBA, SECTOR_BYTES, STANDARD_ID } from '../../formats/iso9660/ecma119.js';
import { AtomicError, InvalidArgument, fromSystemError } from '../../lib/errors.js';
import { runTool } from '../process/run-tool.js';

export interface DiskImageInfo {
  readonly path: string;
  readonly format: DiskFormat;
  readonly virtualSizeBytes: number;
  /** Absolute path of the backing file (qcow2 overlays), as qemu-img resolves it. */
  readonly backingFile?: string;
}

interface QemuImgInfo {
  format?: string;
  'virtual-size'?: number;
  'full-backing-filename'?: string;
  'backing-filename'?: string;
}

export async function inspectDiskImage(path: string, opts: { signal?: AbortSignal } = {}): Promise<DiskImageInfo> {
  const st = await stat(path).catch((e: unknown) => {
    throw fromSystemError(e, path, 'reading the disk image');
  });
  if (!st.isFile() && !st.isBlockDevice()) throw new InvalidArgument('not a disk image: not a regular file or block device', { subject: path });
  let info: QemuImgInfo;
  try {
    // -U: do not take QEMU's image lock, so a running VM's disk can still be inspected.
    const r = await runTool('qemu-img', ['info', '-U', '--output=json', path], { signal: opts.signal, debianPackage: 'qemu-utils' });
    info = JSON.parse(r.stdout) as QemuImgInfo;
  } catch (e) {
    if (e instanceof AtomicError && e.code !== 'Internal') throw e;
    throw new InvalidArgument(`not a disk image: qemu-img cannot read it (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`, { subject: path, cause: e });
  }
  const format = info.format;
  if (format !== 'raw' && format !== 'qcow2') {
    throw new InvalidArgument(`disk format ${format ?? 'unknown'} is not supported here: use raw or qcow2 (qemu-img convert -O qcow2)`, { subject: path });
  }
  const virtualSizeBytes = info['virtual-size'] ?? 0;
  if (format === 'raw') await checkRawBootable(path, virtualSizeBytes);
  const backing = info['full-backing-filename'] ?? info['backing-filename'];
  return {
    path,
    format,
    virtualSizeBytes,
    ...(backing === undefined ? {} : { backingFile: resolve(dirname(path), backing) }),
  };
}

/**
 * A raw disk must look bootable: an MBR/protective-MBR (or FAT boot sector) signature 0x55AA at
 * offset 510, or an ISO 9660 volume descriptor (a CD image). Sizes must be whole sectors.
 */
async function checkRawBootable(path: string, sizeBytes: number): Promise<void> {
  if (sizeBytes < 512 || sizeBytes % 512 !== 0) {
    throw new InvalidArgument(`not a disk image: ${sizeBytes} bytes is not a whole number of 512-byte sectors`, { subject: path });
  }
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc((FIRST_DESCRIPTOR_LBA + 1) * SECTOR_BYTES);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const mbr = bytesRead >= 512 && head[510] === 0x55 && head[511] === 0xaa;
    const vd = FIRST_DESCRIPTOR_LBA * SECTOR_BYTES;
    const iso = bytesRead >= vd + 6 && head.toString('latin1', vd + 1, vd + 6) === STANDARD_ID;
    if (!mbr && !iso) {
      throw new InvalidArgument('not a disk image: no partition table or boot record (no 0x55AA signature at byte 510)', { subject: path });
    }
  } finally {
    await fh.close();
  }
}

/** The canonical path of a file, for comparing an overlay's backing file with the disk. */
export async function canonicalPath(path: string): Promise<string> {
  return realpath(path).catch(() => resolve(path));
}
