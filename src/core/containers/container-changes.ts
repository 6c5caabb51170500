// `docker diff`: what a container changed in its root filesystem, computed from the overlay's
// upper directory the way Docker's overlay2 driver does (moby pkg/archive changes.go with the
// overlay whiteout rules): every name in the upper dir is an addition, or a modification when a
// lower layer has it too (directories only when their size, mode or mtime differ, and always
// when something inside them was added or deleted); a 0/0 character device is a whiteout (the
// name was deleted); an opaque directory that hides a lower directory is reported deleted, and
// its new content as added. Pure: the adapter walks the directories and hands over what it saw.

/** Docker's ChangeType: 0 modified, 1 added, 2 deleted. */
export type ChangeKind = 0 | 1 | 2;
export const CHANGE_MODIFY: ChangeKind = 0;
export const CHANGE_ADD: ChangeKind = 1;
export const CHANGE_DELETE: ChangeKind = 2;

export interface ChangeEntry {
  readonly Path: string;
  readonly Kind: ChangeKind;
}

export interface FileFacts {
  readonly isDir: boolean;
  readonly mode: number;
  readonly sizeBytes: number;
  readonly mtimeMs: number;
}

/** One name of the upper directory, in walk order (a directory before its content). */
export interface UpperEntry extends FileFacts {
  /** Absolute in the container: `/etc/passwd`. */
  readonly path: string;
  /** A character device 0/0: overlayfs's whiteout. */
  readonly whiteout: boolean;
  /** A directory with trusted.overlay.opaque=y. */
  readonly opaque: boolean;
  /** The same path in the topmost lower layer that has it, if any. */
  readonly lower: FileFacts | undefined;
  /**
   * A directory holding nothing but the engine's own mount points (/etc/hosts, ...): it is in the
   * upper dir because the runtime created them, which Docker keeps in an init layer below.
   */
  readonly incidental?: boolean;
}

/** The changes, in walk order as Docker lists them. */
export function computeChanges(entries: readonly UpperEntry[]): ChangeEntry[] {
  const out: ChangeEntry[] = [];
  const changedDirs = new Set<string>();
  for (const e of entries) {
    let kind: ChangeKind;
    if (e.whiteout || (e.opaque && e.isDir && e.lower !== undefined)) {
      kind = CHANGE_DELETE;
    } else if (e.lower === undefined) {
      kind = CHANGE_ADD;
    } else {
      // A directory is in the upper dir only because something below it changed: not a change
      // of its own unless its attributes differ (Docker compares size, mode and mtime).
      if (e.isDir && e.lower.isDir && e.incidental === true && e.mode === e.lower.mode) continue;
      if (e.isDir && e.lower.isDir && e.sizeBytes === e.lower.sizeBytes && e.mode === e.lower.mode && sameTime(e.mtimeMs, e.lower.mtimeMs)) {
        continue;
      }
      kind = CHANGE_MODIFY;
    }
    if (e.isDir && !e.whiteout) changedDirs.add(e.path);
    // The parent of an added or deleted name changed, even if its attributes look the same.
    if (kind === CHANGE_ADD || kind === CHANGE_DELETE) {
      const parent = parentOf(e.path);
      if (parent !== '/' && !changedDirs.has(parent)) {
        out.push({ Path: parent, Kind: CHANGE_MODIFY });
        changedDirs.add(parent);
      }
    }
    out.push({ Path: e.path, Kind: kind });
  }
  return out;
}

/** Docker's sameFsTime: equal, or equal seconds when one side has no sub-second part. */
function sameTime(a: number, b: number): boolean {
  return a === b || (Math.floor(a / 1000) === Math.floor(b / 1000) && (a % 1000 === 0 || b % 1000 === 0));
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** `docker diff`'s letters. */
export function changeLetter(kind: ChangeKind): 'C' | 'A' | 'D' {
  return kind === CHANGE_ADD ? 'A' : kind === CHANGE_DELETE ? 'D' : 'C';
}
