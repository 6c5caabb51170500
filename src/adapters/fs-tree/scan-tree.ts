// Read a directory tree from disk into the writer's SourceNode model (lstat only: symlinks are
// recorded as symlinks, never followed). File content is read later, streamed by the writer.
import { lstat, readdir, readlink, open } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgument, fromSystemError } from '../../lib/errors.js';
import type { ContentReader, SourceDirectory, SourceFile, SourceNode } from '../../formats/iso9660/writer.js';

export interface ScanResult {
  readonly root: SourceDirectory;
  /** Entries that cannot go into an image (sockets, devices, FIFOs), skipped with a reason. */
  readonly skipped: readonly string[];
}

export async function scanTree(dir: string): Promise<ScanResult> {
  const skipped: string[] = [];
  const st = await lstat(dir).catch((e: unknown) => {
    throw fromSystemError(e, dir, 'reading the source directory');
  });
  if (!st.isDirectory()) throw new InvalidArgument('not a directory', { subject: dir });
  const walk = async (path: string, name: string, depthLeft: number): Promise<SourceDirectory> => {
    let names: string[];
    try {
      names = await readdir(path);
    } catch (e) {
      throw fromSystemError(e, path, 'reading the directory');
    }
    const children: SourceNode[] = [];
    for (const n of names.sort()) {
      const p = join(path, n);
      const s = await lstat(p).catch((e: unknown) => {
        throw fromSystemError(e, p, 'reading');
      });
      const base = { name: n, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, mtimeMs: s.mtimeMs };
      if (s.isDirectory()) {
        if (depthLeft <= 0) throw new InvalidArgument('directory tree too deep', { subject: p });
        children.push(await walk(p, n, depthLeft - 1));
      } else if (s.isFile()) {
        const file: SourceFile = { ...base, type: 'file', sizeBytes: s.size, source: p, ...(s.nlink > 1 ? { linkKey: `${s.dev}:${s.ino}` } : {}) };
        children.push(file);
      } else if (s.isSymbolicLink()) {
        const target = await readlink(p).catch((e: unknown) => {
          throw fromSystemError(e, p, 'reading the symlink');
        });
        children.push({ ...base, type: 'symlink', target });
      } else {
        skipped.push(`${p}: not a regular file, directory or symlink`);
      }
    }
    const ds = path === dir ? st : await lstat(path);
    return { name, type: 'directory', mode: ds.mode & 0o7777, uid: ds.uid, gid: ds.gid, mtimeMs: ds.mtimeMs, children };
  };
  return { root: await walk(dir, '', 4096), skipped };
}

/** The writer's content callback for files found by scanTree. */
export async function openSourceFile(file: SourceFile): Promise<ContentReader> {
  const path = file.source;
  if (path === undefined) throw new InvalidArgument(`${file.name}: no source path`);
  try {
    const h = await open(path, 'r');
    return {
      read: async (buf, offset, length, position) => (await h.read(buf, offset, length, position)).bytesRead,
      close: () => h.close(),
    };
  } catch (e) {
    throw fromSystemError(e, path, 'reading');
  }
}
