// `docker diff` from the disk: walk a container's overlay upper directory (lexical order, a
// directory before its content, as Go's filepath.Walk) and look each name up in the image's
// layer directories, top first, stopping at a whiteout or an opaque directory as overlayfs
// does; the pure rules in core/containers/container-changes.ts turn that into Docker's list.
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { computeChanges, type ChangeEntry, type FileFacts, type UpperEntry } from '../../core/containers/container-changes.js';
import { fromSystemError } from '../../lib/errors.js';
import { runTool } from '../process/run-tool.js';

/** The container paths whose upper-dir entries are the engine's own mount points, not the user's changes. */
export interface UpperChangesOptions {
  /** Paths (absolute in the container) left out, with everything below them. */
  readonly ignore?: readonly string[];
}

export async function upperDirChanges(upperDir: string, lowerDirs: readonly string[], opts: UpperChangesOptions = {}): Promise<ChangeEntry[]> {
  const ignore = new Set(opts.ignore ?? []);
  // A container never started has no upper dir yet: nothing changed.
  if ((await lstat(upperDir).catch(() => undefined)) === undefined) return [];
  const entries: UpperEntry[] = [];
  const opaqueDirs = await opaqueDirsOf(upperDir);
  const walk = async (rel: string): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(join(upperDir, rel))).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw fromSystemError(e, join(upperDir, rel), 'listing the container layer');
    }
    for (const n of names) {
      const path = `${rel}/${n}`;
      if (ignore.has(path)) continue;
      const st = await lstat(join(upperDir, path));
      const isDir = st.isDirectory();
      const whiteout = st.isCharacterDevice() && st.rdev === 0;
      const incidental = isDir && (await readdir(join(upperDir, path)).catch(() => [] as string[])).every((c) => ignore.has(`${path}/${c}`));
      entries.push({
        path, isDir, whiteout, opaque: isDir && opaqueDirs.has(path), mode: st.mode, sizeBytes: st.size, mtimeMs: st.mtimeMs,
        lower: await lowerFacts(lowerDirs, path), incidental,
      });
      if (isDir) await walk(path);
    }
  };
  await walk('');
  return computeChanges(entries);
}

/** The path in the topmost lower layer that has it; a whiteout or an opaque parent there hides it. */
async function lowerFacts(lowerDirs: readonly string[], path: string): Promise<FileFacts | undefined> {
  for (const dir of lowerDirs) {
    const st = await lstat(join(dir, path)).catch(() => undefined);
    if (st === undefined) continue;
    if (st.isCharacterDevice() && st.rdev === 0) return undefined;
    return { isDir: st.isDirectory(), mode: st.mode, sizeBytes: st.size, mtimeMs: st.mtimeMs };
  }
  return undefined;
}

/**
 * Directories of the upper dir marked trusted.overlay.opaque=y. Node has no getxattr: one
 * `getfattr -R` (attr) run lists them all; none when the tool finds none.
 */
async function opaqueDirsOf(upperDir: string): Promise<Set<string>> {
  const out = new Set<string>();
  // -d -m lists only the files that have a matching attribute: no error for the others.
  const r = await runTool('getfattr', ['-R', '-P', '--absolute-names', '-d', '-m', '^trusted\\.overlay\\.opaque$', upperDir], { debianPackage: 'attr' });
  let file: string | undefined;
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('# file: ')) file = unescapeGetfattr(line.slice('# file: '.length));
    else if (file !== undefined && line === 'trusted.overlay.opaque="y"') {
      const rel = file.slice(upperDir.replace(/\/$/, '').length);
      if (rel.startsWith('/')) out.add(rel);
    }
  }
  return out;
}

/** getfattr escapes odd bytes of names as \ooo. */
function unescapeGetfattr(s: string): string {
  return Buffer.from(s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))), 'latin1').toString('utf8');
}
