// Worker-thread entry of copy-windows.ts: copies windows until the shared counter runs out, then
// reports success or the error as plain data (class code, message, subject).
import { parentPort, workerData } from 'node:worker_threads';
import { isAtomicError } from '../../lib/errors.js';
import type { DataWindow } from '../../formats/iso9660/file-data.js';
import { copyWindowsSync } from './copy-windows.js';

export interface CopyWorkerData {
  readonly fd: number;
  readonly windows: readonly DataWindow[];
  readonly counter: SharedArrayBuffer;
}

export type CopyWorkerReport =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly subject?: string };

const data = workerData as CopyWorkerData;
let report: CopyWorkerReport;
try {
  copyWindowsSync(data.fd, data.windows, new Int32Array(data.counter));
  report = { ok: true };
} catch (e) {
  report = isAtomicError(e)
    ? { ok: false, code: e.code, message: e.message, ...(e.subject === undefined ? {} : { subject: e.subject }) }
    : { ok: false, code: 'Internal', message: e instanceof Error ? e.message : String(e) };
}
parentPort?.postMessage(report);
