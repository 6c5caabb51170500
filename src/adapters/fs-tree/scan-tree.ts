// Read a directory tree from disk into the writer's SourceNode model (lstat only: symlinks are
// recorded as symlinks, never followed). File content is read later, streamed by the writer.
import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgument, fromSystemError } from '../../lib/errors.js';
import type { SourceDirectory, SourceFile, SourceNode } from '../../formats/iso9660/writer.js';

export interface ScanResult {
  readonly root: SourceDirectory;
  /** Entries that cannot go into an image (sockets, devices, FIFOs), skipped with a reason. */
  readonly skipped: readonly string[];
}

/**
 * Synchronous file system calls inside: one lstat per entry through the thread pool costs more
 * than the lstat itself (see image-file.ts), and the caller has nothing to overlap them with.
 */
export function scanTree(dir: string): Promise<ScanResult> {
  try {
    return Promise.resolve(scanTreeSync(dir));
  } catch (e) {
    return Promise.reject(e);
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
        let target: string;
        try {
          target = readlinkSync(p);
        } catch (e) {
          throw fromSystemError(e, p, 'reading the symlink');
        }
        children.push({ ...base, type: 'symlink', target });
      } else {
        skipped.push(`${p}: not a regular file, directory or symlink`);
      }
    }
    const ds = path === dir ? st : lstatOrThrow(path, 'reading');
    return { name, type: 'directory', mode: ds.mode & 0o7777, uid: ds.uid, gid: ds.gid, mtimeMs: ds.mtimeMs, children };
  };
  return { root: walk(dir, '', 4096), skipped };
}
