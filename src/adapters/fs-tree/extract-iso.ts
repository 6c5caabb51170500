// Extract an opened ISO image into a directory, never writing outside it.
//
// Safety: every path comes from the reader, whose names are checked (no '', '.', '..', '/', NUL)
// and unique per directory, and every object is created exclusively (mkdir, O_CREAT|O_EXCL|
// O_NOFOLLOW, link, symlink all fail on anything that already exists, symlinks included), so a
// path component is always a directory this run created. Symbolic links are created only after all
// files and directories, so no later write can pass through one; attributes of directories are set
// through O_NOFOLLOW|O_DIRECTORY handles.
//
// All or nothing: a target that does not exist is built as a temp directory beside it and renamed
// into place at the end; an existing target must be empty (unless `intoNonEmpty`), and on failure
// everything this run created in it is removed again.
//
// Order of attributes (what tar and xorriso -osirrox do): file modes and times as each file is
// closed; hard links, then symlinks; directory modes and times last, deepest first, because
// creating entries changes a directory's mtime and a read-only mode would stop the creation.
// Files are written sparse: all-zero blocks are skipped and the length set at the end.
import { chmod, lchown, link, lstat, lutimes, mkdir, open, readdir, rename, rm, symlink, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { AlreadyExists, Cancelled, FailedPrecondition, Internal, InvalidArgument, fromSystemError } from '../../lib/errors.js';
import type { IsoImage } from '../../formats/iso9660/reader.js';
import type { IsoEntry } from '../../formats/iso9660/types.js';

/** Zero detection granularity: the file system block size of ext4/xfs/btrfs. */
const SPARSE_BLOCK_BYTES = 4096;

export interface ExtractIsoOptions {
  readonly signal?: AbortSignal;
  /**
   * Extract into an existing directory that is not empty. Nothing in it is ever replaced: a name
   * the image shares with it fails the extraction (and what was created is removed again).
   */
  readonly intoNonEmpty?: boolean;
  /** Set owners from the image. Default: when running as root and names come from Rock Ridge. */
  readonly preserveOwner?: boolean;
}

export interface ExtractIsoResult {
  readonly files: number;
  readonly directories: number;
  readonly symlinks: number;
  readonly hardLinks: number;
  /** Bytes of file content (apparent size). */
  readonly bytes: number;
  /** Entries that cannot be extracted (devices, FIFOs, sockets), with the reason. */
  readonly skipped: readonly string[];
}

interface Created {
  readonly abs: string;
  readonly entry: IsoEntry;
}

export async function extractIso(image: IsoImage, target: string, opts: ExtractIsoOptions = {}): Promise<ExtractIsoResult> {
  const existing = await inspectTarget(target, opts.intoNonEmpty === true);
  const work = existing ? target : join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.partial`);
  if (!existing) {
    try {
      await mkdir(work, { mode: 0o700 });
    } catch (e) {
      throw fromSystemError(e, target, `creating a temp directory beside the target (${dirname(target)})`);
    }
  }
  // Top-level names this run created in an existing target: what to remove on failure.
  const createdTop: string[] = [];
  try {
    const result = await extractInto(image, work, opts, (name) => createdTop.push(name));
    if (!existing) {
      await applyDirectoryAttributes(work, image.root, ownerWanted(image, opts), false);
      // rename(2) would silently replace an empty directory that appeared meanwhile.
      if (await exists(target)) throw new AlreadyExists('the target appeared while the image was extracted', { subject: target });
      await rename(work, target).catch((e: unknown) => {
        throw fromSystemError(e, target, 'moving the extracted tree into place');
      });
      await applyDirectoryAttributes(target, image.root, false, true).catch(() => undefined);
    }
    return result;
  } catch (e) {
    if (existing) for (const name of createdTop.reverse()) await forceRemove(join(work, name));
    else await forceRemove(work);
    throw fromSystemError(e, target, 'extracting');
  }
}

/** Returns whether the target exists (and may be extracted into); throws when it must not be used. */
async function inspectTarget(target: string, intoNonEmpty: boolean): Promise<boolean> {
  let st;
  try {
    st = await lstat(target);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return false;
    throw fromSystemError(e, target, 'checking the target directory');
  }
  if (st.isSymbolicLink()) throw new InvalidArgument('the target is a symbolic link; refusing to extract through it', { subject: target });
  if (!st.isDirectory()) throw new InvalidArgument('the target exists and is not a directory', { subject: target });
  if (!intoNonEmpty) {
    const names = await readdir(target).catch((e: unknown) => {
      throw fromSystemError(e, target, 'reading the target directory');
    });
    if (names.length > 0) throw new FailedPrecondition(`the target directory is not empty (${names.length} entries); extract into a new or empty directory`, { subject: target });
  }
  return true;
}

async function extractInto(image: IsoImage, work: string, opts: ExtractIsoOptions, onTopLevel: (name: string) => void): Promise<ExtractIsoResult> {
  const owner = ownerWanted(image, opts);
  const dirs: Created[] = [];
  const symlinks: (Created & { created: () => void })[] = [];
  const hardLinks: { abs: string; existing: string; created: () => void }[] = [];
  const linkGroups = new Map<string, string>();
  const skipped: string[] = [];
  let files = 0;
  let bytes = 0;
  for await (const entry of image.walk(opts.signal === undefined ? {} : { signal: opts.signal })) {
    checkAborted(opts.signal);
    const abs = join(work, ...safeComponents(entry.path));
    // Only what this run created is recorded: a name that already existed must survive a cleanup.
    const created = (): void => {
      if (!entry.path.includes('/')) onTopLevel(entry.name);
    };
    switch (entry.type) {
      case 'directory':
        await mkdir(abs, { mode: 0o700 }).catch((e: unknown) => {
          throw fromSystemError(e, abs, 'creating the directory');
        });
        created();
        dirs.push({ abs, entry });
        break;
      case 'file': {
        // Hard links (ECMA-119 lets records share an extent; RRIP PX counts the links).
        const first = entry.extents[0];
        const key = entry.nlink > 1 && first !== undefined ? `${entry.inode ?? ''}:${first.lba}:${entry.sizeBytes}` : undefined;
        const linked = key === undefined ? undefined : linkGroups.get(key);
        if (linked !== undefined) {
          hardLinks.push({ abs, existing: linked, created });
          break;
        }
        await writeFile(image, entry, abs, owner, opts.signal, created);
        if (key !== undefined) linkGroups.set(key, abs);
        files++;
        bytes += entry.sizeBytes;
        break;
      }
      case 'symlink':
        symlinks.push({ abs, entry, created });
        break;
      default:
        skipped.push(`/${entry.path}: mode 0o${entry.mode.toString(8)} is not a file, directory or symbolic link`);
    }
  }
  for (const h of hardLinks) {
    checkAborted(opts.signal);
    await link(h.existing, h.abs).catch((e: unknown) => {
      throw fromSystemError(e, h.abs, 'creating the hard link');
    });
    h.created();
  }
  for (const s of symlinks) {
    checkAborted(opts.signal);
    const t = s.entry.symlinkTarget;
    if (t === undefined) throw new Internal(`/${s.entry.path}: symbolic link without a target`);
    await symlink(t, s.abs).catch((e: unknown) => {
      throw fromSystemError(e, s.abs, 'creating the symbolic link');
    });
    s.created();
    try {
      if (owner) await lchown(s.abs, s.entry.uid, s.entry.gid);
      await lutimes(s.abs, s.entry.mtimeMs / 1000, s.entry.mtimeMs / 1000);
    } catch (e) {
      throw fromSystemError(e, s.abs, 'setting the symbolic link\'s owner and time');
    }
  }
  // Pre-order reversed: every directory comes after all of its descendants.
  for (let i = dirs.length - 1; i >= 0; i--) {
    checkAborted(opts.signal);
    await applyDirectoryAttributes(dirs[i]!.abs, dirs[i]!.entry, owner, true);
  }
  return { files, directories: dirs.length, symlinks: symlinks.length, hardLinks: hardLinks.length, bytes, skipped };
}

function ownerWanted(image: IsoImage, opts: ExtractIsoOptions): boolean {
  return opts.preserveOwner ?? (process.getuid?.() === 0 && image.volume.names === 'rock-ridge');
}

/** The reader already guarantees this; checked again because a mistake here writes outside the target. */
function safeComponents(path: string): string[] {
  const parts = path.split('/');
  for (const p of parts) {
    if (p === '' || p === '.' || p === '..' || p.includes('\0')) throw new Internal(`refusing unsafe path ${JSON.stringify(path)} from the image reader`);
  }
  return parts;
}

async function writeFile(image: IsoImage, entry: IsoEntry, abs: string, owner: boolean, signal: AbortSignal | undefined, created: () => void): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    throw fromSystemError(e, abs, 'creating the file');
  }
  created();
  try {
    const zero = Buffer.alloc(SPARSE_BLOCK_BYTES);
    for await (const chunk of image.readContent(entry, signal === undefined ? {} : { signal })) {
      await writeSparse(handle, chunk.data, chunk.offsetBytes, zero);
    }
    await handle.truncate(entry.sizeBytes);
    if (owner) await handle.chown(entry.uid, entry.gid);
    // After chown, which clears set-user-ID and set-group-ID bits.
    await handle.chmod(entry.mode & 0o7777);
    await handle.utimes(entry.mtimeMs / 1000, entry.mtimeMs / 1000);
  } catch (e) {
    throw fromSystemError(e, abs, 'writing the file');
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Write the non-zero runs of `data` (in whole blocks); holes stay holes. */
async function writeSparse(handle: FileHandle, data: Buffer, position: number, zero: Buffer): Promise<void> {
  const isZero = (from: number, to: number): boolean => data.subarray(from, to).equals(zero.subarray(0, to - from));
  let runStart = -1;
  for (let at = 0; at <= data.length; at += SPARSE_BLOCK_BYTES) {
    const end = Math.min(at + SPARSE_BLOCK_BYTES, data.length);
    const dataBlock = at < data.length && !isZero(at, end);
    if (dataBlock && runStart < 0) runStart = at;
    if (!dataBlock && runStart >= 0) {
      await writeAll(handle, data.subarray(runStart, at), position + runStart);
      runStart = -1;
    }
  }
  if (runStart >= 0) await writeAll(handle, data.subarray(runStart), position + runStart);
}

async function writeAll(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  for (let done = 0; done < data.length; ) {
    done += (await handle.write(data, done, data.length - done, position + done)).bytesWritten;
  }
}

async function applyDirectoryAttributes(abs: string, entry: IsoEntry, owner: boolean, times: boolean): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(abs, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (e) {
    throw fromSystemError(e, abs, 'opening the directory');
  }
  try {
    if (owner) await handle.chown(entry.uid, entry.gid);
    await handle.chmod(entry.mode & 0o7777);
    if (times) await handle.utimes(entry.mtimeMs / 1000, entry.mtimeMs / 1000);
  } catch (e) {
    throw fromSystemError(e, abs, 'setting the directory\'s mode and time');
  } finally {
    await handle.close().catch(() => undefined);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Remove what this run created. Directories may already carry read-only modes from the image, so
 * a failed removal makes them writable again (lstat: symlinks are never followed) and retries.
 */
async function forceRemove(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
    return;
  } catch {
    // fall through: unlock and retry
  }
  const unlock = async (p: string): Promise<void> => {
    const st = await lstat(p).catch(() => undefined);
    if (st === undefined || !st.isDirectory()) return;
    await chmod(p, 0o700).catch(() => undefined);
    for (const n of await readdir(p).catch(() => [] as string[])) await unlock(join(p, n));
  };
  await unlock(path);
  await rm(path, { recursive: true, force: true }).catch(() => undefined);
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new Cancelled('extraction was cancelled', { cause: signal.reason });
}
