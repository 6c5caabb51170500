// Write an ISO image to a file atomically: positional writes into a temp file, the length set at
// the end (so skipped zero windows are holes), then renamed into place.
//
// The file data is copied while the directory hierarchies are still being planned: planIso fixes
// where the data goes first, copying starts, and the main thread encodes the metadata meanwhile.
// Copying is done by the kernel (copy_file_range through the fs-tree addon, on libuv's thread
// pool: copy-file-ranges.ts) when the addon is built; otherwise with read/write by the main thread
// and a worker thread side by side (copy-windows.ts). Small images (seeds) skip the worker, whose
// start-up would cost more than it saves.
import { writeSync } from 'node:fs';
import { writeAtomically } from '../../lib/atomic-file.js';
import { errorOfCode, Internal, type ErrorCode } from '../../lib/errors.js';
import { planIso, type IsoPlan, type IsoWriteOptions, type IsoWriteResult, type SourceDirectory } from '../../formats/iso9660/writer.js';
import type { DataWindow } from '../../formats/iso9660/file-data.js';
import { copyWindowsSync, stopCopying } from './copy-windows.js';
import { copyExtents } from './copy-file-ranges.js';
import { loadFsTreeAddon } from './fs-tree-addon.js';
import type { CopyWorkerData, CopyWorkerReport } from './copy-worker.js';

/** Below this many 1 MiB windows the main thread copies alone. */
const WORKER_MIN_WINDOWS = 32;
/** Kernel copies side by side: the machines we build on have two cores or more. */
const KERNEL_COPY_THREADS = 2;

export interface IsoFileOptions extends Omit<IsoWriteOptions, 'openContent'> {
  /**
   * 'kernel' (default): copy_file_range when the addon is built, else read/write. 'read-write'
   * always copies through user-space buffers (tests compare the two).
   */
  readonly copier?: 'kernel' | 'read-write';
}

export async function writeIsoFile(target: string, root: SourceDirectory, opts: IsoFileOptions): Promise<IsoWriteResult> {
  const plan = planIso(root, opts);
  return writeAtomically(target, async ({ handle }) => {
    const fd = handle.fd;
    const onDisk = plan.dataExtents.filter((e) => e.file.data === undefined);
    const copy = opts.copier === 'read-write' || onDisk.length === 0 ? undefined : loadFsTreeAddon()?.copyFileRanges;
    const result = copy === undefined ? await copyWithReadWrite(fd, plan, opts.signal) : await copyWithKernel(fd, plan, opts.signal, (control) => copyExtents(copy, fd, onDisk, control, KERNEL_COPY_THREADS));
    if (opts.signal?.aborted === true) throw errorOfCode('Cancelled', 'writing the image was cancelled');
    await handle.truncate(result.sizeBytes);
    return result;
  }, { durable: false });
}

/** The metadata chunks, then in-memory file content, written by this thread. */
function writeMetadata(fd: number, plan: IsoPlan, withInMemoryFiles: boolean): IsoWriteResult {
  const { chunks, result } = plan.encodeMetadata();
  const writeAll = (data: Uint8Array, position: number): void => {
    for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done, position + done);
  };
  for (const c of chunks) writeAll(c.data, c.position);
  if (withInMemoryFiles) {
    for (const e of plan.dataExtents) if (e.file.data !== undefined) writeAll(e.file.data, e.imagePosition);
  }
  return result;
}

async function copyWithKernel(fd: number, plan: IsoPlan, signal: AbortSignal | undefined, start: (control: Int32Array) => Promise<void>): Promise<IsoWriteResult> {
  // [0]: stop, [1]: next file to claim (copy-file-ranges.ts)
  const control = new Int32Array(new SharedArrayBuffer(8));
  const onAbort = (): void => {
    Atomics.store(control, 0, 1);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const copying = start(control);
  try {
    const result = writeMetadata(fd, plan, true);
    await copying;
    return result;
  } catch (e) {
    // The copying threads write into this file descriptor: they must be done before the caller closes it.
    onAbort();
    await copying.catch(() => undefined);
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

async function copyWithReadWrite(fd: number, plan: IsoPlan, signal: AbortSignal | undefined): Promise<IsoWriteResult> {
  const windows = plan.dataWindows();
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const stop = (): void => stopCopying(counter, windows.length);
  signal?.addEventListener('abort', stop, { once: true });
  let worker: { done: Promise<void> } | undefined;
  try {
    if (windows.length >= WORKER_MIN_WINDOWS) worker = await startCopyWorker(fd, windows, counter);
    const result = writeMetadata(fd, plan, false);
    copyWindowsSync(fd, windows, counter);
    await worker?.done;
    return result;
  } catch (e) {
    // The worker writes into this file descriptor: it must be done before the caller closes it.
    stop();
    await worker?.done.catch(() => undefined);
    throw e;
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}

/** Resolves once the worker is started, to a promise of its end. */
async function startCopyWorker(fd: number, windows: readonly DataWindow[], counter: Int32Array): Promise<{ done: Promise<void> }> {
  // Loaded here: only this fallback needs worker threads, and loading them costs ~10 ms at start-up.
  const { Worker } = await import('node:worker_threads');
  const done = new Promise<void>((resolve, reject) => {
    const data: CopyWorkerData = { fd, windows, counter: counter.buffer as SharedArrayBuffer };
    const worker = new Worker(new URL('./copy-worker.js', import.meta.url), { workerData: data });
    let report: CopyWorkerReport | undefined;
    worker.once('message', (m: CopyWorkerReport) => (report = m));
    worker.once('error', (e) => reject(new Internal(`image copy thread failed: ${e.message}`, { cause: e })));
    worker.once('exit', () => {
      if (report === undefined) return reject(new Internal('image copy thread exited without a report'));
      if (report.ok) return resolve();
      reject(errorOfCode(report.code as ErrorCode, report.message, report.subject === undefined ? {} : { subject: report.subject }));
    });
  });
  // A rejection is looked at only after this thread's own copying: keep it from counting as unhandled meanwhile.
  done.catch(() => undefined);
  return { done };
}
