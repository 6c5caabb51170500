// How big an ext4 filesystem must be to hold a tree, measured before mkfs.ext4 -d runs, so a disk
// that is too small fails in a second with the numbers instead of minutes later inside mke2fs.
// The overheads follow mke2fs 1.47 with 4 KiB blocks and 256-byte inodes (what we ask for).

export const EXT4_BLOCK_BYTES = 4096;
export const EXT4_INODE_BYTES = 256;
/** mke2fs.conf [defaults] inode_ratio: one inode per 16 KiB unless the tree needs more. */
const INODE_RATIO = 16384;

/** What the tree needs, each hardlinked inode counted once. */
export interface TreeUsage {
  /** Sum of the sizes of files, symlink targets and directories. */
  readonly apparentBytes: number;
  /** 4 KiB blocks the contents take (files and directories rounded up, long symlinks one block). */
  readonly dataBlocks: number;
  /** Distinct inodes (files, directories, symlinks, ...), the root directory included. */
  readonly inodes: number;
}

/** The inode count to format with (mkfs.ext4 -N): mke2fs's default, or more when the tree needs it. */
export function ext4InodeCount(fsBytes: number, usage: TreeUsage): number {
  return Math.max(Math.ceil(fsBytes / INODE_RATIO), Math.ceil(usage.inodes * 1.1) + 64);
}

/** ext2fs_default_journal_size() of e2fsprogs 1.47, in 4 KiB blocks, by filesystem blocks. */
export function ext4JournalBlocks(fsBlocks: number): number {
  if (fsBlocks < 2048) return 0;
  if (fsBlocks < 32768) return 1024;
  if (fsBlocks < 256 * 1024) return 4096;
  if (fsBlocks < 512 * 1024) return 8192;
  if (fsBlocks < 4096 * 1024) return 16384;
  if (fsBlocks < 8192 * 1024) return 32768;
  if (fsBlocks < 16384 * 1024) return 65536;
  if (fsBlocks < 32768 * 1024) return 131072;
  return 262144;
}

/**
 * Blocks an ext4 of `fsBytes` spends before any file: the journal, the inode tables, two bitmaps
 * per 128 MiB block group, and in every group with a superblock backup (sparse_super: groups 0, 1
 * and powers of 3, 5, 7) the superblock, the group descriptors and the descriptor blocks reserved
 * for growing the filesystem 1024-fold (mke2fs's calc_reserved_gdt_blocks; 64-byte descriptors).
 */
export function ext4OverheadBlocks(fsBytes: number, usage: TreeUsage): number {
  const blocks = Math.floor(fsBytes / EXT4_BLOCK_BYTES);
  const groups = Math.ceil(blocks / 32768);
  const inodeTableBlocks = Math.ceil((ext4InodeCount(fsBytes, usage) * EXT4_INODE_BYTES) / EXT4_BLOCK_BYTES);
  const descriptorsPerBlock = EXT4_BLOCK_BYTES / 64;
  const gdtBlocks = Math.ceil(groups / descriptorsPerBlock);
  const growthGroups = Math.ceil(Math.min(2 ** 32, blocks * 1024) / 32768);
  const reservedGdt = Math.min(EXT4_BLOCK_BYTES / 4, Math.max(0, Math.ceil(growthGroups / descriptorsPerBlock) - gdtBlocks));
  const backups = superblockGroups(groups);
  // + root directory, lost+found and the resize inode's indirect blocks, generously.
  return ext4JournalBlocks(blocks) + inodeTableBlocks + groups * 2 + backups * (1 + gdtBlocks + reservedGdt) + 64;
}

/** Groups holding a superblock copy with sparse_super: 0, 1 and the powers of 3, 5 and 7. */
function superblockGroups(groups: number): number {
  const set = new Set<number>([0]);
  if (groups > 1) set.add(1);
  for (const base of [3, 5, 7]) for (let g = base; g < groups; g *= base) set.add(g);
  return set.size;
}

/**
 * Whether the tree fits an ext4 of `fsBytes`, with 2% slack for what the estimate does not see
 * (extent tree blocks of fragmented files, xattr blocks, directory index blocks).
 */
export function treeFitsExt4(fsBytes: number, usage: TreeUsage): boolean {
  const needed = Math.ceil((usage.dataBlocks + ext4OverheadBlocks(fsBytes, usage)) * 1.02);
  return needed <= Math.floor(fsBytes / EXT4_BLOCK_BYTES);
}

/** The smallest whole-MiB ext4 size the tree fits in (binary search: overhead grows with size). */
export function minimumExt4Bytes(usage: TreeUsage): number {
  const MIB = 1024 * 1024;
  let lo = 1;
  let hi = Math.max(2, Math.ceil((usage.dataBlocks * EXT4_BLOCK_BYTES) / MIB) * 2 + 64);
  while (!treeFitsExt4(hi * MIB, usage)) hi *= 2;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (treeFitsExt4(mid * MIB, usage)) hi = mid;
    else lo = mid + 1;
  }
  return hi * MIB;
}
