// Typed raw surface of the fs-tree addon (native/fs-tree.cjs). Policy-free. Only
// src/adapters/fs-tree/fs-tree-addon.ts loads it (`import type` plus a createRequire of fs-tree.cjs).

/**
 * Copy whole files into `outFd`, on a thread of libuv's pool: file i is opened read-only and its
 * bytes [0, lengths[i]) land at outOffsets[i] of `outFd`, by copy_file_range(2) (falling back to
 * pread/pwrite where the kernel or file system cannot, e.g. EXDEV across file system types).
 * Holes of sources of 1 MiB and more (SEEK_DATA/SEEK_HOLE) are skipped, not written, so a sparse
 * source stays sparse in a fresh output file.
 *
 * `control` (an Int32Array of two elements over a SharedArrayBuffer: other threads touch it):
 * control[0] non-zero asks every call using it to stop after its current step of at most 8 MiB;
 * control[1] is the next file index to claim. Several calls given the same lists and the same
 * `control` share the files between their threads as they go, each taking the next unclaimed one.
 * Without `control` one call copies every file in order.
 *
 * Resolves with -1 when every file this call claimed was copied in full (or it was asked to stop:
 * the caller knows it asked), or with the index of a file that turned out shorter than its length
 * (this call stops there). A system error rejects with an Error shaped like Node's (`code`
 * 'ENOENT', `errno`, `syscall`, `path`) plus `index`, the file it was on. Wrong argument types
 * throw a TypeError synchronously.
 */
export function copyFileRanges(
  outFd: number,
  paths: readonly string[],
  outOffsets: readonly number[],
  lengths: readonly number[],
  control?: Int32Array,
): Promise<number>;

/**
 * One directory's entries (without "." and "..") in the order readdir(3) returns them, and the
 * lstat(2) data of each: `stats` holds 8 numbers per entry, entry i at i * 8: st_mode, st_uid,
 * st_gid, st_size, mtimeMs (computed as Node's Stats.mtimeMs), st_nlink, st_dev, st_ino.
 * Synchronous. A failure throws an Error shaped like Node's (`code`, `errno`, `path`, and
 * `syscall` 'scandir' for the directory itself or 'lstat' for an entry).
 */
export function lstatDirectory(path: string): { names: string[]; stats: Float64Array };
