// Read a directory tree from disk into the writer's SourceNode model (lstat only: symlinks are
// recorded as symlinks, never followed). File content is read later, streamed by the writer.
//
// With the fs-tree addon each directory is one call returning names and lstat numbers
// (lstatDirectory): Node's lstatSync builds a Stats object and four Dates per entry, which made
// the scan of a few thousand entries cost more CPU than anything else before the copy starts.
// Without the addon, Node's fs does the same walk.
import { constants, lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgument, fromSystemError } from '../../lib/errors.js';
import type { SourceDirectory, SourceFile, SourceNode } from '../../formats/iso9660/writer.js';
import { loadFsTreeAddon, type FsTreeAddon } from './fs-tree-addon.js';

export interface ScanResult {
  readonly root: SourceDirectory;
  /** Entries that cannot go into an image (sockets, devices, FIFOs), skipped with a reason. */
  readonly skipped: readonly string[];
}

/**
 * Synchronous file system calls inside: one lstat per entry through the thread pool costs more
 * than the lstat itself (see image-file.ts), and the caller has nothing to overlap them with.
 */
export function scanTree(dir: string, opts: { readonly useAddon?: boolean } = {}): Promise<ScanResult> {
  try {
    const addon = opts.useAddon === false ? undefined : loadFsTreeAddon();
    return Promise.resolve(addon === undefined ? scanTreeSync(dir) : scanTreeWithAddon(dir, addon.lstatDirectory));
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Numbers per entry in lstatDirectory's stats (native/fs-tree.d.ts). */
const FIELDS = 8;
const { S_IFMT, S_IFDIR, S_IFREG, S_IFLNK } = constants;

function scanTreeWithAddon(dir: string, lstatDirectory: FsTreeAddon['lstatDirectory']): ScanResult {
  const skipped: string[] = [];
  const st = lstatOrThrow(dir, 'reading the source directory');
  if (!st.isDirectory()) throw new InvalidArgument('not a directory', { subject: dir });
  const walk = (path: string, name: string, self: { mode: number; uid: number; gid: number; mtimeMs: number }, depthLeft: number): SourceDirectory => {
    let listing: { names: string[]; stats: Float64Array };
    try {
      listing = lstatDirectory(path);
    } catch (e) {
      const at = (e as { path?: unknown; syscall?: unknown }).path;
      throw typeof at === 'string' && (e as { syscall?: unknown }).syscall === 'lstat' ? fromSystemError(e, at, 'reading') : fromSystemError(e, path, 'reading the directory');
    }
    const { names, stats } = listing;
    // Byte order of names, as Array.prototype.sort orders strings (UTF-16 code units), like the fs walk.
    const order = names.map((_, i) => i).sort((a, b) => (names[a]! < names[b]! ? -1 : 1));
    const children: SourceNode[] = [];
    for (const i of order) {
      const n = names[i]!;
      // join() normalizes the root as given (trailing slashes, "."); below it plain concatenation is the same.
      const p = path === dir ? join(path, n) : path + '/' + n;
      const f = i * FIELDS;
      const mode = stats[f]!;
      const type = mode & S_IFMT;
      if (type === S_IFREG) {
        // The common case, built as one literal: spreading a shared base costs an object per entry.
        const file: SourceFile = stats[f + 5]! > 1
          ? { name: n, mode: mode & 0o7777, uid: stats[f + 1]!, gid: stats[f + 2]!, mtimeMs: stats[f + 4]!, type: 'file', sizeBytes: stats[f + 3]!, source: p, linkKey: `${stats[f + 6]}:${stats[f + 7]}` }
          : { name: n, mode: mode & 0o7777, uid: stats[f + 1]!, gid: stats[f + 2]!, mtimeMs: stats[f + 4]!, type: 'file', sizeBytes: stats[f + 3]!, source: p };
        children.push(file);
        continue;
      }
      const base = { name: n, mode: mode & 0o7777, uid: stats[f + 1]!, gid: stats[f + 2]!, mtimeMs: stats[f + 4]! };
      if (type === S_IFDIR) {
        if (depthLeft <= 0) throw new InvalidArgument('directory tree too deep', { subject: p });
        children.push(walk(p, n, base, depthLeft - 1));
      } else if (type === S_IFLNK) {
        children.push({ ...base, type: 'symlink', target: readlinkOrThrow(p) });
      } else {
        skipped.push(`${p}: not a regular file, directory or symlink`);
      }
    }
    return { name, type: 'directory', mode: self.mode, uid: self.uid, gid: self.gid, mtimeMs: self.mtimeMs, children };
  };
  return { root: walk(dir, '', { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs }, 4096), skipped };
}

function readlinkOrThrow(path: string): string {
  try {
    return readlinkSync(path);
  } catch (e) {
    throw fromSystemError(e, path, 'reading the symlink');
  }
}

function lstatOrThrow(path: string, doing: string): Stats {
  try {
    return lstatSync(path);
  } catch (e) {
    throw fromSystemError(e, path, doing);
  }
}

function scanTreeSync(dir: string): ScanResult {
  const skipped: string[] = [];
  const st = lstatOrThrow(dir, 'reading the source directory');
  if (!st.isDirectory()) throw new InvalidArgument('not a directory', { subject: dir });
  const walk = (path: string, name: string, depthLeft: number): SourceDirectory => {
    let names: string[];
    try {
      names = readdirSync(path);
    } catch (e) {
      throw fromSystemError(e, path, 'reading the directory');
    }
    const children: SourceNode[] = [];
    for (const n of names.sort()) {
      const p = join(path, n);
      const s = lstatOrThrow(p, 'reading');
      const base = { name: n, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, mtimeMs: s.mtimeMs };
      if (s.isDirectory()) {
        if (depthLeft <= 0) throw new InvalidArgument('directory tree too deep', { subject: p });
        children.push(walk(p, n, depthLeft - 1));
      } else if (s.isFile()) {
        const file: SourceFile = { ...base, type: 'file', sizeBytes: s.size, source: p, ...(s.nlink > 1 ? { linkKey: `${s.dev}:${s.ino}` } : {}) };
        children.push(file);
      } else if (s.isSymbolicLink()) {
        children.push({ ...base, type: 'symlink', target: readlinkOrThrow(p) });
      } else {
        skipped.push(`${p}: not a regular file, directory or symlink`);
      }
    }
    const ds = path === dir ? st : lstatOrThrow(path, 'reading');
    return { name, type: 'directory', mode: ds.mode & 0o7777, uid: ds.uid, gid: ds.gid, mtimeMs: ds.mtimeMs, children };
  };
  return { root: walk(dir, '', 4096), skipped };
}
