// atomic iso extract [--names auto|rock-ridge|joliet|iso9660] IMAGE DIR
// DIR is created if missing (the tree is built beside it and renamed into place at the end) or
// must be an empty directory; nothing is ever written outside it, and a failure leaves nothing.
import { extractIso } from '../../adapters/fs-tree/extract-iso.js';
import { openFileByteSource } from '../../adapters/fs-tree/file-byte-source.js';
import { openIso } from '../../formats/iso9660/reader.js';
import type { NameTree } from '../../formats/iso9660/types.js';

export interface IsoExtractOptions {
  readonly names: NameTree | 'auto';
}

export async function run(isoPath: string, dir: string, opts: IsoExtractOptions): Promise<void> {
  const source = await openFileByteSource(isoPath);
  try {
    const image = await openIso(source, { names: opts.names, subject: isoPath });
    const result = await extractIso(image, dir);
    for (const s of result.skipped) process.stderr.write(`atomic: warning: ${isoPath}: skipped ${s}\n`);
  } finally {
    await source.close();
  }
}
