// Copy a filesystem image into a disk image at an offset without writing its zero blocks, so the
// disk stays as sparse as the filesystem images are (a fresh 8 GiB root with a 600 MiB tree then
// takes ~600 MiB, not 8 GiB). Equivalent to `dd conv=sparse,notrunc oflag=seek_bytes`.
import { open } from 'node:fs/promises';

const CHUNK_BYTES = 4 * 1024 * 1024;
/** The granularity of holes: the filesystem block size of both images and of the host. */
const BLOCK_BYTES = 4096;
const ZERO = Buffer.alloc(BLOCK_BYTES);

export interface SpliceResult {
  readonly writtenBytes: number;
}

/** The target's range must be zeros (a fresh sparse file); `target` must already be at least `offset` + the source's size (sfdisk's table is on it). */
export async function spliceSparse(source: string, target: string, offset: number, signal?: AbortSignal): Promise<SpliceResult> {
  const src = await open(source, 'r');
  try {
    const dst = await open(target, 'r+');
    try {
      const buf = Buffer.allocUnsafe(CHUNK_BYTES);
      let pos = 0;
      let writtenBytes = 0;
      for (;;) {
        signal?.throwIfAborted();
        const { bytesRead } = await src.read(buf, 0, CHUNK_BYTES, pos);
        if (bytesRead === 0) break;
        // Write each run of non-zero blocks with one call.
        let runStart = -1;
        const flush = async (end: number): Promise<void> => {
          await dst.write(buf, runStart, end - runStart, offset + pos + runStart);
          writtenBytes += end - runStart;
          runStart = -1;
        };
        for (let at = 0; at < bytesRead; at += BLOCK_BYTES) {
          const end = Math.min(at + BLOCK_BYTES, bytesRead);
          const zero = buf.compare(ZERO, 0, end - at, at, end) === 0;
          if (!zero && runStart < 0) runStart = at;
          else if (zero && runStart >= 0) await flush(at);
        }
        if (runStart >= 0) await flush(bytesRead);
        pos += bytesRead;
      }
      return { writtenBytes };
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
}
