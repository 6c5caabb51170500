// Typed raw surface of the fs-tree addon (native/fs-tree.cjs). Policy-free. Only
// src/adapters/fs-tree/fs-tree-addon.ts loads it (`import type` plus a createRequire of fs-tree.cjs).

/**
 * Copy whole files into `outFd`, one after another, on a thread of libuv's pool: file i is opened
 * read-only and its bytes [0, lengths[i]) land at outOffsets[i] of `outFd`, by copy_file_range(2)
 * (falling back to pread/pwrite where the kernel or file system cannot, e.g. EXDEV across file
 * system types). Holes of the source (SEEK_DATA/SEEK_HOLE) are skipped, not written, so a sparse
 * source stays sparse in a fresh output file.
 *
 * Resolves with -1 when every file was copied in full, or with the index of the first file that
 * turned out shorter than its length (copying stops there). When `stop[0]` becomes non-zero
 * (another thread may set it), copying stops after the current step of at most 8 MiB and the
 * promise resolves with -1: the caller knows it asked. A system error rejects with an Error shaped
 * like Node's (`code` 'ENOENT', `errno`, `syscall`, `path`) plus `index`, the file it was on.
 * Wrong argument types throw a TypeError synchronously.
 */
export function copyFileRanges(
  outFd: number,
  paths: readonly string[],
  outOffsets: readonly number[],
  lengths: readonly number[],
  stop?: Int32Array,
): Promise<number>;

/**
 * One directory's entries (without "." and "..") in the order readdir(3) returns them, and the
 * lstat(2) data of each: `stats` holds 8 numbers per entry, entry i at i * 8: st_mode, st_uid,
 * st_gid, st_size, mtimeMs (computed as Node's Stats.mtimeMs), st_nlink, st_dev, st_ino.
 * Synchronous. A failure throws an Error shaped like Node's (`code`, `errno`, `path`, and
 * `syscall` 'scandir' for the directory itself or 'lstat' for an entry).
 */
export function lstatDirectory(path: string): { names: string[]; stats: Float64Array };
