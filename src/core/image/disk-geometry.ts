// The partition geometry of an atomic disk image: a GPT with an EFI system partition and one root
// partition that fills the rest of the disk, both on 1 MiB boundaries (what sfdisk, parted and
// systemd-repart align to; it keeps filesystem blocks aligned to any physical sector size).
import { InvalidArgument } from '../../lib/errors.js';

export type DiskFormat = 'raw' | 'qcow2' | 'vhd' | 'vmdk' | 'vagrant-libvirt';
export type DiskArch = 'x86_64' | 'aarch64';

export interface DiskLayout {
  /** Virtual size of the whole disk; a whole number of MiB (cloud importers want that for VHD). */
  readonly sizeBytes: number;
  /** Size of the EFI system partition; a whole number of MiB, at least MIN_ESP_BYTES. */
  readonly espSizeBytes: number;
  /** ext4 label of the root filesystem; the ESP's GRUB finds the root by it. Default 'atomic-root'. */
  readonly rootLabel: string;
  readonly arch: DiskArch;
}

export const DEFAULT_ROOT_LABEL = 'atomic-root';
export const SECTOR_BYTES = 512;
export const MIB = 1024 * 1024;
const ALIGN_SECTORS = MIB / SECTOR_BYTES;
/** UEFI 2.10 5.3.2: the GPT header and a 16 KiB partition entry array at each end of the disk. */
const GPT_BACKUP_SECTORS = 33;

/** UEFI 2.10 5.3.3: EFI System Partition. */
export const ESP_TYPE_GUID = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
/**
 * Discoverable Partitions Specification root partition types: systemd-gpt-auto-generator,
 * systemd-repart and systemd-growfs recognise the root by them.
 * https://uapi-group.org/specifications/specs/discoverable_partitions_specification/
 */
export const ROOT_TYPE_GUIDS: Readonly<Record<DiskArch, string>> = {
  x86_64: '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709',
  aarch64: 'B921B045-1DF0-41C3-AF44-4C6F280D3FAE',
};
/** DPS: GPT attribute bit 59 asks systemd-growfs to grow the filesystem to its partition. */
export const GROWFS_ATTRIBUTE_BIT = 59;

/** GPT partition names, systemd-repart's defaults for these types. */
export const ESP_PARTITION_NAME = 'esp';
export const ROOT_PARTITION_NAMES: Readonly<Record<DiskArch, string>> = { x86_64: 'root-x86-64', aarch64: 'root-arm64' };

/**
 * FAT16 with 2 KiB clusters needs >= 4085 clusters; 8 MiB also leaves room for the ~1.3 MiB
 * standalone GRUB image and a second one during an update.
 */
export const MIN_ESP_BYTES = 8 * MIB;
/**
 * FAT32 needs >= 65525 clusters (Microsoft's FAT specification, "FAT type determination"); with
 * 512-byte clusters that is 32 MiB plus the reserved sectors and two FATs.
 */
export const MIN_FAT32_BYTES = 33 * MIB;

export interface PartitionExtent {
  readonly startSector: number;
  readonly sectors: number;
}

export interface DiskGeometry {
  readonly totalSectors: number;
  readonly esp: PartitionExtent;
  readonly root: PartitionExtent;
  readonly espFatBits: 16 | 32;
}

export function isDiskArch(s: string): s is DiskArch {
  return s === 'x86_64' || s === 'aarch64';
}

/** Refuse layouts that cannot be built, naming the field; everything else is derived. */
export function planDiskGeometry(layout: DiskLayout): DiskGeometry {
  if (!isDiskArch(layout.arch)) {
    throw new InvalidArgument(`disk.arch ${JSON.stringify(layout.arch)}: expected x86_64 or aarch64`, { subject: 'disk.arch' });
  }
  checkLabel(layout.rootLabel);
  wholeMib(layout.sizeBytes, 'disk.sizeBytes');
  wholeMib(layout.espSizeBytes, 'disk.espSizeBytes');
  if (layout.espSizeBytes < MIN_ESP_BYTES) {
    throw new InvalidArgument(`disk.espSizeBytes ${layout.espSizeBytes} (${mib(layout.espSizeBytes)}) is too small for a FAT EFI system partition: at least ${MIN_ESP_BYTES} (${mib(MIN_ESP_BYTES)})`, { subject: 'disk.espSizeBytes' });
  }
  const totalSectors = layout.sizeBytes / SECTOR_BYTES;
  const espStart = ALIGN_SECTORS;
  const espSectors = layout.espSizeBytes / SECTOR_BYTES;
  const rootStart = espStart + espSectors;
  const lastUsable = totalSectors - GPT_BACKUP_SECTORS - 1;
  // The root ends on a 1 MiB boundary too, so the filesystem is a whole number of 4 KiB blocks.
  const rootSectors = Math.floor((lastUsable + 1 - rootStart) / ALIGN_SECTORS) * ALIGN_SECTORS;
  if (rootSectors < ALIGN_SECTORS) {
    throw new InvalidArgument(`disk.sizeBytes ${layout.sizeBytes} (${mib(layout.sizeBytes)}) leaves no room for a root partition after the ${mib(layout.espSizeBytes)} ESP`, { subject: 'disk.sizeBytes' });
  }
  return {
    totalSectors,
    esp: { startSector: espStart, sectors: espSectors },
    root: { startSector: rootStart, sectors: rootSectors },
    espFatBits: layout.espSizeBytes >= MIN_FAT32_BYTES ? 32 : 16,
  };
}

/**
 * The smallest whole-MiB disk whose root partition has `rootBytes`, for "needs at least" messages:
 * the 1 MiB before the ESP, the ESP, the root, and the last MiB that holds the backup GPT.
 */
export function diskBytesForRoot(rootBytes: number, espSizeBytes: number): number {
  return MIB + espSizeBytes + Math.ceil(rootBytes / MIB) * MIB + MIB;
}

/** ext4 labels are at most 16 bytes; GRUB's `search --label` and udev take them as they are. */
function checkLabel(label: string): void {
  if (typeof label !== 'string' || label === '' || label.length > 16 || !/^[A-Za-z0-9._-]+$/.test(label)) {
    throw new InvalidArgument(`disk.rootLabel ${JSON.stringify(label)}: expected 1-16 characters of A-Z a-z 0-9 . _ -`, { subject: 'disk.rootLabel' });
  }
}

function wholeMib(n: number, field: string): void {
  if (!Number.isSafeInteger(n) || n <= 0 || n % MIB !== 0) {
    throw new InvalidArgument(`${field} ${n}: expected a positive whole number of MiB (a multiple of ${MIB})`, { subject: field });
  }
}

export function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(bytes % MIB === 0 ? 0 : 1)} MiB`;
}
