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
 * Copy every extent's file (by its `source` path) to `imagePosition` of `fd`, split into `threads`
 * runs of about equal bytes copied side by side. Setting `stop[0]` (an Int32Array over a
 * SharedArrayBuffer: the copying threads read it) ends all runs early; so does the first failure.
 * Holes in sources stay holes in the image (the addon skips them).
 */
export async function copyExtents(copy: CopyFileRanges, fd: number, extents: readonly DataExtent[], stop: Int32Array, threads: number): Promise<void> {
  const runs = splitByBytes(extents, threads);
  const settled = await Promise.allSettled(
    runs.map(async (run) => {
      const paths = run.map((e) => e.file.source!);
      try {
        const shortAt = await copy(fd, paths, run.map((e) => e.imagePosition), run.map((e) => e.file.sizeBytes), stop);
        if (shortAt >= 0) throw shrankError({ label: paths[shortAt]!, fileSizeBytes: run[shortAt]!.file.sizeBytes });
      } catch (e) {
        Atomics.store(stop, 0, 1);
        const path = (e as { path?: unknown }).path;
        throw typeof path === 'string' ? fromSystemError(e, path, 'reading') : e;
      }
    }),
  );
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
}

function splitByBytes(extents: readonly DataExtent[], parts: number): DataExtent[][] {
  const total = extents.reduce((n, e) => n + e.file.sizeBytes, 0);
  const runs: DataExtent[][] = [[]];
  let acc = 0;
  for (const e of extents) {
    if (acc >= (total * runs.length) / parts && runs.length < parts) runs.push([]);
    runs[runs.length - 1]!.push(e);
    acc += e.file.sizeBytes;
  }
  return runs.filter((r) => r.length > 0);
}
