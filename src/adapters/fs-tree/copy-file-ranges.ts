// Copy files into the image inside the kernel: copy_file_range(2) from each source file straight
// to its extent (native/fs-tree.cjs), on libuv's thread pool. No user-space buffer, no window
// assembly, no JS worker to start: page cache to page cache, one copy instead of read + write.
// The addon is optional (fs-tree-addon.ts): without it the caller copies with read/write
// (copy-windows.ts).
import { fromSystemError } from '../../lib/errors.js';
import { shrankError, type DataExtent } from '../../formats/iso9660/file-data.js';
import type { FsTreeAddon } from './fs-tree-addon.js';

export type CopyFileRanges = FsTreeAddon['copyFileRanges'];

/**
 * Copy every extent's file (by its `source` path) to `imagePosition` of `fd` on `threads` pool
 * threads that take the next file as they go. `control` is an Int32Array of two elements over a
 * SharedArrayBuffer, zeroed: setting control[0] to 1 ends all threads early; so does the first
 * failure. Holes in large sources stay holes in the image (the addon skips them).
 */
export async function copyExtents(copy: CopyFileRanges, fd: number, extents: readonly DataExtent[], control: Int32Array, threads: number): Promise<void> {
  const paths = extents.map((e) => e.file.source!);
  const offsets = extents.map((e) => e.imagePosition);
  const lengths = extents.map((e) => e.file.sizeBytes);
  const settled = await Promise.allSettled(
    Array.from({ length: Math.max(1, Math.min(threads, extents.length)) }, async () => {
      try {
        const shortAt = await copy(fd, paths, offsets, lengths, control);
        if (shortAt >= 0) throw shrankError({ label: paths[shortAt]!, fileSizeBytes: lengths[shortAt]! });
      } catch (e) {
        Atomics.store(control, 0, 1);
        const path = (e as { path?: unknown }).path;
        throw typeof path === 'string' ? fromSystemError(e, path, 'reading') : e;
      }
    }),
  );
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
}
