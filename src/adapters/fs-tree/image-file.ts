// Write an ISO image to a file atomically: positional writes into a temp file, the length set at
// the end (so skipped zero chunks are holes), then renamed into place.
import { writeAtomically } from '../../lib/atomic-file.js';
import { writeIso, type IsoWriteOptions, type IsoWriteResult, type SourceDirectory } from '../../formats/iso9660/writer.js';
import { openSourceFile } from './scan-tree.js';

export async function writeIsoFile(target: string, root: SourceDirectory, opts: Omit<IsoWriteOptions, 'openContent'>): Promise<IsoWriteResult> {
  return writeAtomically(target, async ({ handle }) => {
    const result = await writeIso(
      root,
      {
        write: async (data, position) => {
          for (let done = 0; done < data.length; ) {
            done += (await handle.write(data, done, data.length - done, position + done)).bytesWritten;
          }
        },
      },
      { ...opts, openContent: openSourceFile },
    );
    await handle.truncate(result.sizeBytes);
    return result;
  });
}
