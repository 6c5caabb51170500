// A comparable picture of a directory tree: type, permission bits, mtime (seconds), size, symlink
// target and content digest of every entry, keyed by relative path.
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface EntrySnapshot {
  readonly type: 'file' | 'directory' | 'symlink' | 'other';
  readonly mode: number;
  readonly mtimeSec: number;
  readonly size?: number;
  readonly target?: string;
  readonly sha256?: string;
}

export async function snapshotTree(root: string, opts: { mtimes?: boolean; dirMtimes?: boolean } = {}): Promise<Record<string, EntrySnapshot>> {
  const out: Record<string, EntrySnapshot> = {};
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const r = rel === '' ? name : `${rel}/${name}`;
      const s = lstatSync(p);
      const mtimeSec = opts.mtimes === false || (s.isDirectory() && opts.dirMtimes === false) ? 0 : Math.floor(s.mtimeMs / 1000);
      if (s.isSymbolicLink()) out[r] = { type: 'symlink', mode: 0, mtimeSec: 0, target: readlinkSync(p) };
      else if (s.isDirectory()) {
        out[r] = { type: 'directory', mode: s.mode & 0o7777, mtimeSec };
        await walk(p, r);
      } else if (s.isFile()) out[r] = { type: 'file', mode: s.mode & 0o7777, mtimeSec, size: s.size, sha256: await sha256File(p) };
      else out[r] = { type: 'other', mode: s.mode & 0o7777, mtimeSec };
    }
  };
  await walk(root, '');
  return out;
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}
