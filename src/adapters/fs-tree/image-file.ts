// Write an ISO image to a file atomically: positional writes into a temp file, the length set at
// the end (so skipped zero windows are holes), then renamed into place.
//
// The file data is copied while the directory hierarchies are still being planned: planIso fixes
// where the data goes first, a worker thread starts copying it, the main thread encodes the
// metadata and then joins the copying (copy-windows.ts). Small images (seeds) skip the worker,
// whose start-up would cost more than it saves.
import { writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { writeAtomically } from '../../lib/atomic-file.js';
import { errorOfCode, Internal, type ErrorCode } from '../../lib/errors.js';
import { planIso, type IsoWriteOptions, type IsoWriteResult, type SourceDirectory } from '../../formats/iso9660/writer.js';
import type { DataWindow } from '../../formats/iso9660/file-data.js';
import { copyWindowsSync, stopCopying } from './copy-windows.js';
import type { CopyWorkerData, CopyWorkerReport } from './copy-worker.js';

/** Below this many 1 MiB windows the main thread copies alone. */
const WORKER_MIN_WINDOWS = 32;

export async function writeIsoFile(target: string, root: SourceDirectory, opts: Omit<IsoWriteOptions, 'openContent'>): Promise<IsoWriteResult> {
  const plan = planIso(root, opts);
  return writeAtomically(target, async ({ handle }) => {
    const fd = handle.fd;
    const windows = plan.dataWindows;
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const stop = (): void => stopCopying(counter, windows.length);
    opts.signal?.addEventListener('abort', stop, { once: true });
    const worker = windows.length >= WORKER_MIN_WINDOWS ? startCopyWorker(fd, windows, counter) : undefined;
    try {
      const { chunks, result } = plan.encodeMetadata();
      for (const c of chunks) {
        for (let done = 0; done < c.data.length; ) done += writeSync(fd, c.data, done, c.data.length - done, c.position + done);
      }
      copyWindowsSync(fd, windows, counter);
      await worker;
      if (opts.signal?.aborted === true) throw errorOfCode('Cancelled', 'writing the image was cancelled');
      await handle.truncate(result.sizeBytes);
      return result;
    } catch (e) {
      // The worker writes into this file descriptor: it must be done before the caller closes it.
      stop();
      await worker?.catch(() => undefined);
      throw e;
    } finally {
      opts.signal?.removeEventListener('abort', stop);
    }
  }, { durable: false });
}

function startCopyWorker(fd: number, windows: readonly DataWindow[], counter: Int32Array): Promise<void> {
  return new Promise((resolve, reject) => {
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
}
