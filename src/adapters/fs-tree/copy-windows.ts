// Copy an ISO image's file-data windows (formats/iso9660/file-data.ts) from the source files into
// the image file with plain synchronous read/write calls, taking windows from a counter shared
// between threads: the main thread and a worker thread copy side by side, each with its own
// window buffer, so the copying (the kernel's memcpy between page cache and buffer) uses two
// cores while genisoimage's loop uses one.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { fromSystemError } from '../../lib/errors.js';
import { WINDOW_BYTES, isAllZero, shrankError, zeroGaps, type DataWindow } from '../../formats/iso9660/file-data.js';

/** The index of the next unclaimed window, or -1 when all are taken. */
export function claimNext(counter: Int32Array, total: number): number {
  const i = Atomics.add(counter, 0, 1);
  return i < total ? i : -1;
}

/** Stop every copier after the window it is on. */
export function stopCopying(counter: Int32Array, total: number): void {
  Atomics.store(counter, 0, total);
}

export function copyWindowsSync(fd: number, windows: readonly DataWindow[], counter: Int32Array): void {
  const buf = Buffer.allocUnsafe(WINDOW_BYTES);
  // Consecutive windows often read the same big file: keep it open between them.
  let open: { source: string; fd: number } | undefined;
  try {
    for (let i = claimNext(counter, windows.length); i >= 0; i = claimNext(counter, windows.length)) {
      const w = windows[i]!;
      zeroGaps(buf, w);
      for (const p of w.pieces) {
        if (p.data !== undefined) {
          buf.set(p.data.subarray(p.fileOffset, p.fileOffset + p.lengthBytes), p.windowOffset);
          continue;
        }
        const source = p.source ?? p.label;
        if (open?.source !== source) {
          if (open !== undefined) closeSync(open.fd);
          open = undefined;
          try {
            open = { source, fd: openSync(source, 'r') };
          } catch (e) {
            throw fromSystemError(e, source, 'reading');
          }
        }
        let got = 0;
        try {
          while (got < p.lengthBytes) {
            const n = readSync(open.fd, buf, p.windowOffset + got, p.lengthBytes - got, p.fileOffset + got);
            if (n === 0) break;
            got += n;
          }
        } catch (e) {
          throw fromSystemError(e, source, 'reading');
        }
        if (got < p.lengthBytes) throw shrankError(p);
      }
      const chunk = buf.subarray(0, w.lengthBytes);
      if (isAllZero(chunk)) continue;
      for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done, chunk.length - done, w.imagePosition + done);
    }
  } finally {
    if (open !== undefined) closeSync(open.fd);
  }
}
