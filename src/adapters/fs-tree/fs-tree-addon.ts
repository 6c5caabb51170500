// The one place that loads native/fs-tree.cjs (the fs-tree addon: kernel copies, directory
// listings with lstat data). Optional: without it (not built, not Linux) callers use Node's fs.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as FsTree from '../../../native/fs-tree.js';

export type FsTreeAddon = typeof FsTree;

// dist/src/adapters/fs-tree/ -> <root>/native (compiled), src/adapters/fs-tree/ -> <root>/native.
const CANDIDATES = ['../../../../native/fs-tree.cjs', '../../../native/fs-tree.cjs'];

/** The addon, or undefined when it is not built or cannot load here. */
export function loadFsTreeAddon(): FsTreeAddon | undefined {
  const require = createRequire(import.meta.url);
  for (const c of CANDIDATES) {
    try {
      return require(fileURLToPath(new URL(c, import.meta.url))) as FsTreeAddon;
    } catch {
      // not at this place, or the .node file is missing or does not load: try the next, then give up
    }
  }
  return undefined;
}
