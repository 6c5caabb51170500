// Atomic output files: content goes to a temp file beside the target, is fsynced, and only then
// renamed over the target (and the directory fsynced), so a crash or an error never leaves a
// partial file under the real name. Used for every file the CLI or the agent writes as a result.
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InvalidArgument, fromSystemError } from './errors.js';
import { requireFs, requireFsPromises } from './builtin.js';
import { tempSuffix } from './temp-name.js';

const { closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeFileSync } = requireFs();

export interface AtomicOutput {
  readonly handle: FileHandle;
  /** The temp path being written. */
  readonly tempPath: string;
}

/**
 * Run `fill` on a temp file next to `target`; on success make it `target` with `mode`, on any
 * failure remove the temp file and rethrow. The target's directory must exist.
 */
export interface AtomicWriteOptions {
  readonly mode?: number;
  /**
   * fsync the file and its directory (default). Build artifacts the CLI writes (images, seeds)
   * pass false: the rename alone already guarantees no partial file under the target name, and
   * like cp or genisoimage they leave flushing to the kernel instead of waiting for the disk.
   */
  readonly durable?: boolean;
}

/** The target's directory, which must exist, and a fresh temp name in it. */
function tempBeside(target: string): { dir: string; tempPath: string } {
  const dir = dirname(target);
  try {
    if (!statSync(dir).isDirectory()) throw new InvalidArgument(`output directory ${dir} is not a directory`, { subject: target });
  } catch (e) {
    if (e instanceof InvalidArgument) throw e;
    throw fromSystemError(e, target, `output directory ${dir}`);
  }
  return { dir, tempPath: join(dir, `.${basename(target)}.${tempSuffix()}.tmp`) };
}

export async function writeAtomically<T>(target: string, fill: (out: AtomicOutput) => Promise<T>, opts: AtomicWriteOptions = {}): Promise<T> {
  const { open, rename, rm } = requireFsPromises();
  const mode = opts.mode ?? 0o644;
  const durable = opts.durable ?? true;
  const { dir, tempPath } = tempBeside(target);
  let handle: FileHandle;
  try {
    handle = await open(tempPath, 'wx', mode);
  } catch (e) {
    throw fromSystemError(e, target, 'creating the output');
  }
  try {
    const result = await fill({ handle, tempPath });
    await handle.chmod(mode);
    if (durable) await handle.sync();
    await handle.close();
    await rename(tempPath, target);
    if (durable) await syncDir(dir);
    return result;
  } catch (e) {
    await handle.close().catch(() => undefined);
    await rm(tempPath, { force: true });
    throw e instanceof Error && 'code' in e && typeof e.code === 'string' ? fromSystemError(e, target, 'writing the output') : e;
  }
}

export async function writeFileAtomically(target: string, data: Uint8Array | string, opts: AtomicWriteOptions = {}): Promise<void> {
  await writeAtomically(target, async ({ handle }) => {
    await handle.writeFile(data);
  }, opts);
}

/**
 * writeFileAtomically with synchronous calls, for a sequence of small state files written by a
 * one-shot command (the provisioning state: a semaphore and the status after every module), where
 * each fs/promises call would cost a thread-pool round trip. Same steps, same guarantees.
 */
export function writeFileAtomicallySync(target: string, data: Uint8Array | string, opts: AtomicWriteOptions = {}): void {
  const mode = opts.mode ?? 0o644;
  const durable = opts.durable ?? true;
  const { dir, tempPath } = tempBeside(target);
  let fd: number;
  try {
    fd = openSync(tempPath, 'wx', mode);
  } catch (e) {
    throw fromSystemError(e, target, 'creating the output');
  }
  let open = true;
  try {
    writeFileSync(fd, data);
    fchmodSync(fd, mode);
    if (durable) fsyncSync(fd);
    open = false;
    closeSync(fd);
    renameSync(tempPath, target);
    if (durable) syncDirSync(dir);
  } catch (e) {
    if (open) {
      try {
        closeSync(fd);
      } catch {
        // The write's error is the one to report.
      }
    }
    rmSync(tempPath, { force: true });
    throw e instanceof Error && 'code' in e && typeof e.code === 'string' ? fromSystemError(e, target, 'writing the output') : e;
  }
}

/** syncDir with a synchronous call. */
export function syncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync a directory: makes the renames and unlinks inside it durable (what a rename into place needs after). */
export async function syncDir(dir: string): Promise<void> {
  const h = await requireFsPromises().open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
