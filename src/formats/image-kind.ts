// What kind of image a file holds, from its first bytes: enough to pick the right reader for a
// seed (ISO 9660, FAT, tar) without trusting file names.
import { FIRST_DESCRIPTOR_LBA, SECTOR_BYTES, STANDARD_ID } from './iso9660/ecma119.js';

export type ImageKind = 'iso9660' | 'fat' | 'tar';

/** Bytes to read from the start of a file for sniffImageKind: through the first ISO descriptor. */
export const IMAGE_SNIFF_BYTES = (FIRST_DESCRIPTOR_LBA + 1) * SECTOR_BYTES;

export function sniffImageKind(head: Uint8Array): ImageKind | undefined {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  // ECMA-119 8.1: a volume descriptor at sector 16 starts with a type byte and "CD001".
  const vd = FIRST_DESCRIPTOR_LBA * SECTOR_BYTES;
  if (b.length >= vd + 6 && b.toString('latin1', vd + 1, vd + 6) === STANDARD_ID) return 'iso9660';
  // POSIX ustar: "ustar" at offset 257 (GNU tar writes "ustar  ").
  if (b.length >= 512 && b.toString('latin1', 257, 262) === 'ustar') return 'tar';
  // FAT boot sector: 0x55AA signature, a jump instruction, and a file-system type string at 54
  // (FAT12/16) or 82 (FAT32) as mkfs.vfat writes it.
  if (b.length >= 512 && b[510] === 0x55 && b[511] === 0xaa && (b[0] === 0xeb || b[0] === 0xe9)) {
    const t16 = b.toString('latin1', 54, 59);
    const t32 = b.toString('latin1', 82, 87);
    if (t16.startsWith('FAT') || t32.startsWith('FAT')) return 'fat';
  }
  return undefined;
}
