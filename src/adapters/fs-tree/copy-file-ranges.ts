// Copy files into the image inside the kernel: copy_file_range(2) from each source file straight
// to its extent (native/file-copy.cjs), on libuv's thread pool. No user-space buffer, no window
// assembly, no JS worker to start: page cache to page cache, one copy instead of read + write.
// The addon is optional: without it (not built, another OS) loadCopyFileRanges says so and the
// caller copies with read/write (copy-windows.ts).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { fromSystemError } from '../../lib/errors.js';
import { shrankError, type DataExtent } from '../../formats/iso9660/file-data.js';
import type * as FileCopy from '../../../native/file-copy.js';

export type CopyFileRanges = typeof FileCopy.copyFileRanges;

// dist/src/adapters/fs-tree/ -> <root>/native (compiled), src/adapters/fs-tree/ -> <root>/native.
const CANDIDATES = ['../../../../native/file-copy.cjs', '../../../native/file-copy.cjs'];

/** The addon's copyFileRanges, or undefined when it is not built or cannot load here. */
export function loadCopyFileRanges(): CopyFileRanges | undefined {
  const require = createRequire(import.meta.url);
  for (const c of CANDIDATES) {
    try {
      return (require(fileURLToPath(new URL(c, import.meta.url))) as typeof FileCopy).copyFileRanges;
    } catch {
      // not at this place, or the .node file is missing or does not load: try the next, then give up
    }
  }
  return undefined;
}

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
