// The file-data area of an ISO image: every file's bytes at its extent, sector-aligned, in the
// order the writer placed them. The area is contiguous (extents follow each other, each padded to
// a whole sector), so it is copied as fixed windows of the image rather than file by file: a window
// gathers many small files into one write and splits a big file into several. Windows are
// independent of each other, so several copiers (threads, or async tasks) can take them in any
// order; memory stays one window buffer per copier, whatever the file sizes.
import { Cancelled, FailedPrecondition, InvalidArgument } from '../../lib/errors.js';
import { SECTOR_BYTES } from './ecma119.js';
import type { ContentReader, ImageSink, SourceFile } from './writer.js';

export const WINDOW_BYTES = 1 << 20;

/** A slice of one file that lands in a window. Plain data, so it can be posted to a worker thread. */
export interface DataPiece {
  /** The file's `source` (a path, for the file system adapter); absent for in-memory content. */
  readonly source?: string;
  /** In-memory content, when the file has it. */
  readonly data?: Uint8Array;
  /** For messages: the source, or the file's name. */
  readonly label: string;
  readonly fileSizeBytes: number;
  readonly fileOffset: number;
  readonly lengthBytes: number;
  /** Where in the window the slice goes. */
  readonly windowOffset: number;
}

/** One file's content and the byte of the image where it starts (its extent, sector-aligned). */
export interface DataExtent {
  readonly file: SourceFile;
  readonly imagePosition: number;
}

export interface DataWindow {
  readonly imagePosition: number;
  readonly lengthBytes: number;
  readonly pieces: readonly DataPiece[];
}

/**
 * Windows over the data area, in image order. `order` lists the files with content in extent
 * order; `extentOf` gives each one's first sector.
 */
export function dataWindows(order: readonly SourceFile[], extentOf: (f: SourceFile) => number): DataWindow[] {
  const out: DataWindow[] = [];
  if (order.length === 0) return out;
  const last = order[order.length - 1]!;
  const start = extentOf(order[0]!) * SECTOR_BYTES;
  const end = extentOf(last) * SECTOR_BYTES + last.sizeBytes;
  let i = 0;
  for (let pos = start; pos < end; pos += WINDOW_BYTES) {
    const windowEnd = Math.min(pos + WINDOW_BYTES, end);
    const pieces: DataPiece[] = [];
    // Files are visited in order; one that reaches past this window is visited again next time.
    for (let j = i; j < order.length; j++) {
      const f = order[j]!;
      const base = extentOf(f) * SECTOR_BYTES;
      if (base >= windowEnd) break;
      const from = Math.max(base, pos);
      const to = Math.min(base + f.sizeBytes, windowEnd);
      if (to > from) {
        pieces.push({
          ...(f.source === undefined ? {} : { source: f.source }),
          ...(f.data === undefined ? {} : { data: f.data }),
          label: f.source ?? f.name,
          fileSizeBytes: f.sizeBytes,
          fileOffset: from - base,
          lengthBytes: to - from,
          windowOffset: from - pos,
        });
      }
      if (base + f.sizeBytes <= windowEnd) i = j + 1;
    }
    out.push({ imagePosition: pos, lengthBytes: windowEnd - pos, pieces });
  }
  return out;
}

/** Zero the padding between pieces (sector tails) and after the last one. */
export function zeroGaps(buf: Buffer, w: DataWindow): void {
  let filled = 0;
  for (const p of w.pieces) {
    buf.fill(0, filled, p.windowOffset);
    filled = p.windowOffset + p.lengthBytes;
  }
  buf.fill(0, filled, w.lengthBytes);
}

/**
 * All-zero windows are not written: the sink is a file whose length is set at the end, so sparse
 * input stays sparse in the image.
 */
export function isAllZero(chunk: Buffer): boolean {
  const zero = Buffer.alloc(Math.min(chunk.length, 64 * 1024));
  for (let o = 0; o < chunk.length; o += zero.length) {
    const part = chunk.subarray(o, Math.min(o + zero.length, chunk.length));
    if (!part.equals(zero.subarray(0, part.length))) return false;
  }
  return true;
}

export function shrankError(p: Pick<DataPiece, 'label' | 'fileSizeBytes'>): FailedPrecondition {
  return new FailedPrecondition(`file shrank while the image was written (${p.fileSizeBytes} bytes expected)`, { subject: p.label });
}

/**
 * The generic copier: one window at a time through the async ContentReader/ImageSink interfaces
 * (in-memory images, tests). The file system adapter has its own, multi-threaded one.
 */
export async function writeDataWindows(
  windows: readonly DataWindow[],
  sink: ImageSink,
  opts: { readonly openContent?: (file: SourceFile) => Promise<ContentReader>; readonly signal?: AbortSignal },
): Promise<void> {
  const buf = Buffer.allocUnsafe(WINDOW_BYTES);
  for (const w of windows) {
    if (opts.signal?.aborted === true) throw new Cancelled('writing the image was cancelled', { cause: opts.signal.reason });
    zeroGaps(buf, w);
    for (const p of w.pieces) {
      if (p.data !== undefined) {
        buf.set(p.data.subarray(p.fileOffset, p.fileOffset + p.lengthBytes), p.windowOffset);
        continue;
      }
      if (opts.openContent === undefined) throw new InvalidArgument(`${p.label}: no content and no way to read it`);
      const reader = await opts.openContent({ type: 'file', name: p.label, mode: 0, uid: 0, gid: 0, mtimeMs: 0, sizeBytes: p.fileSizeBytes, ...(p.source === undefined ? {} : { source: p.source }) });
      try {
        let got = 0;
        while (got < p.lengthBytes) {
          const n = await reader.read(buf, p.windowOffset + got, p.lengthBytes - got, p.fileOffset + got);
          if (n === 0) break;
          got += n;
        }
        if (got < p.lengthBytes) throw shrankError(p);
      } finally {
        await reader.close();
      }
    }
    const chunk = buf.subarray(0, w.lengthBytes);
    if (!isAllZero(chunk)) await sink.write(chunk, w.imagePosition);
  }
}
