// The partition geometry of an atomic disk image: a GPT with an EFI system partition and one root
// partition that fills the rest of the disk, both on 1 MiB boundaries (what sfdisk, parted and
// systemd-repart align to; it keeps filesystem blocks aligned to any physical sector size).
import { ROOT_FS_LABEL } from './boot-kargs.js';
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

/** The root filesystem's label: the one the kernel command line's root=LABEL= names. */
export const DEFAULT_ROOT_LABEL = ROOT_FS_LABEL;
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
  /** mkfs.fat -s: chosen here, because mkfs.fat's own pick can leave FAT32 under its minimum. */
  readonly espSectorsPerCluster: number;
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
    espSectorsPerCluster: fatSectorsPerCluster(layout.espSizeBytes),
  };
}

/**
 * Cluster size for the ESP. FAT32 follows the table in Microsoft's FAT specification (by sectors:
 * 512-byte clusters up to 532480 sectors = 260 MiB, 4 KiB up to 8 GiB, ...), which keeps it above
 * 65525 clusters; mkfs.fat 4.2 picks 4 KiB for a 64 MiB FAT32 (16344 clusters), which fsck.fat
 * flags and mtools cannot write to. FAT16 (8..32 MiB here) gets 1 KiB: 4085..65524 clusters,
 * where mkfs.fat's own pick refuses 8 MiB.
 */
export function fatSectorsPerCluster(espSizeBytes: number): number {
  if (espSizeBytes < MIN_FAT32_BYTES) return 2;
  const limits: readonly [number, number][] = [[260 * MIB, 1], [8 * 1024 * MIB, 8], [16 * 1024 * MIB, 16], [32 * 1024 * MIB, 32]];
  return limits.find(([max]) => espSizeBytes <= max)?.[1] ?? 64;
}

/** Data clusters of a FAT filesystem (FAT spec "FAT type determination"), for checking the choice. */
export function fatClusterCount(espSizeBytes: number, bits: 16 | 32, sectorsPerCluster: number): number {
  const sectors = espSizeBytes / SECTOR_BYTES;
  const reserved = bits === 32 ? 32 : 1;
  const rootDirSectors = bits === 32 ? 0 : 32; // 512 entries of 32 bytes
  const entryBytes = bits / 8;
  // Solve for the FAT size: each cluster needs `entryBytes` in each of the two FATs.
  const fatSectors = Math.ceil((((sectors - reserved - rootDirSectors) / sectorsPerCluster + 2) * entryBytes) / SECTOR_BYTES);
  return Math.floor((sectors - reserved - rootDirSectors - 2 * fatSectors) / sectorsPerCluster);
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
