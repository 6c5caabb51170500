// The size of a directory tree as dockerd's directory.Size counts it (the SizeRw of a container
// is its upper dir's): st_size of everything but directories, a hard-linked file once, symlinks
// not followed, unreadable parts 0. A missing directory is 0 (a container never started).
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export async function directorySizeBytes(dir: string): Promise<number> {
  let total = 0;
  const seen = new Set<string>();
  const walk = async (d: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      const st = await lstat(p).catch(() => undefined);
      if (st === undefined) continue;
      if (st.isDirectory()) {
        await walk(p);
        continue;
      }
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      total += st.size;
    }
  };
  await walk(dir);
  return total;
}
