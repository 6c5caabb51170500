// atomic iso create -o OUT.iso -V LABEL DIR
import { setFlagsFromString } from 'node:v8';
import { scanTree } from '../../adapters/fs-tree/scan-tree.js';
import { writeIsoFile } from '../../adapters/fs-tree/image-file.js';
import { InvalidArgument } from '../../lib/errors.js';
import { sourceDateEpoch } from '../source-date-epoch.js';

export interface IsoCreateOptions {
  readonly output: string;
  readonly volid: string;
  readonly joliet: boolean;
  readonly rockRidge: boolean;
  readonly json?: boolean;
}

export async function run(dir: string, opts: IsoCreateOptions): Promise<void> {
  // This process lives for one pass over the tree: V8's optimizing compiler (TurboFan) spends more
  // CPU compiling the scanner and the encoders than the compiled code then saves. Measured on the
  // 500 MB / 3171-file benchmark tree (bench/run.ts iso, cold process, median of 5): scan + plan +
  // encode 590 -> 320 ms of CPU, which the copy threads get instead. Process-wide, and this
  // process does nothing else.
  setFlagsFromString('--no-opt');
  const epoch = sourceDateEpoch(process.env);
  const { root, skipped } = await scanTree(dir);
  for (const s of skipped) process.stderr.write(`atomic: warning: skipped ${s}\n`);
  if (!opts.rockRidge && opts.joliet === false) {
    process.stderr.write('atomic: warning: without Rock Ridge and Joliet only ISO 9660 level 2 names are recorded\n');
  }
  const result = await writeIsoFile(opts.output, root, {
    volumeId: opts.volid,
    joliet: opts.joliet,
    rockRidge: opts.rockRidge,
    ...(epoch === undefined ? {} : { sourceDateEpoch: epoch }),
  }).catch((e: unknown) => {
    if (e instanceof InvalidArgument && e.subject === undefined) throw new InvalidArgument(e.message, { subject: dir, cause: e });
    throw e;
  });
  if (opts.json === true) process.stdout.write(JSON.stringify({ output: opts.output, volumeId: opts.volid, ...result }) + '\n');
}
