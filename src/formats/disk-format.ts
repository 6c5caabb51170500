// What a disk image file holds, from its first and last bytes: a raw disk (with a GPT or an MBR
// partition table) or one of the virtual-disk containers that must not be uploaded as if it were
// raw (EC2 ImportSnapshot with Format RAW would copy the container's header into the volume).

/** Bytes to read from the start of the file: the MBR (LBA 0) and the GPT header (LBA 1). */
export const DISK_SNIFF_HEAD_BYTES = 1024;
/** Bytes to read from the end: a fixed VHD's footer. */
export const DISK_SNIFF_TAIL_BYTES = 512;

export type DiskContainerFormat = 'qcow2' | 'qed' | 'vmdk' | 'vhdx' | 'vhd' | 'vdi';

export type DiskFormat =
  | { readonly format: 'raw'; readonly partitionTable: 'gpt' | 'mbr' }
  | { readonly format: DiskContainerFormat }
  /** No partition table and no container signature: not a bootable disk. */
  | { readonly format: 'unknown' };

const latin1 = (b: Buffer, start: number, end: number): string => (b.length >= end ? b.toString('latin1', start, end) : '');

export function sniffDiskFormat(head: Uint8Array, tail?: Uint8Array): DiskFormat {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  // qcow2 and QED (QEMU docs, interop/qcow2.txt and the QED spec): "QFI\xfb" and "QED\0".
  if (b.length >= 4 && b[0] === 0x51 && b[1] === 0x46 && b[2] === 0x49 && b[3] === 0xfb) return { format: 'qcow2' };
  if (latin1(b, 0, 4) === 'QED\0') return { format: 'qed' };
  // VMDK: a sparse or stream-optimized extent starts with "KDMV"; a monolithic-flat image is a
  // text descriptor ("# Disk DescriptorFile") beside a flat extent (VMware VMDK spec 5.0).
  if (latin1(b, 0, 4) === 'KDMV' || latin1(b, 0, 21) === '# Disk DescriptorFile') return { format: 'vmdk' };
  // VHDX spec 1.0, 2.2.1: the file type identifier "vhdxfile".
  if (latin1(b, 0, 8) === 'vhdxfile') return { format: 'vhdx' };
  // VDI: the "<<< Oracle VM VirtualBox Disk Image >>>" text and the 0xbeda107f signature at 64.
  if (b.length >= 68 && b.readUInt32LE(64) === 0xbeda107f) return { format: 'vdi' };
  // VHD spec: a dynamic disk starts with a copy of the footer ("conectix"); a fixed one ends with it.
  if (latin1(b, 0, 8) === 'conectix') return { format: 'vhd' };
  if (tail !== undefined) {
    const t = Buffer.from(tail.buffer, tail.byteOffset, tail.byteLength);
    if (t.length >= 512 && latin1(t, t.length - 512, t.length - 504) === 'conectix') return { format: 'vhd' };
  }
  // UEFI 2.10, 5.2.3 / 5.3.2: a protective MBR (0x55AA at 510, partition type 0xEE) and the GPT
  // header's signature "EFI PART" at LBA 1 (512-byte logical blocks).
  const bootSignature = b.length >= 512 && b[510] === 0x55 && b[511] === 0xaa;
  if (bootSignature && latin1(b, 512, 520) === 'EFI PART') return { format: 'raw', partitionTable: 'gpt' };
  if (bootSignature && hasMbrPartition(b)) return { format: 'raw', partitionTable: 'mbr' };
  return { format: 'unknown' };
}

/** An MBR with at least one used entry in its partition table (446 + 16 * i, type at +4). */
function hasMbrPartition(b: Buffer): boolean {
  for (let i = 0; i < 4; i++) if (b[446 + 16 * i + 4] !== 0) return true;
  return false;
}
