// Read the root directory of a FAT image without mounting it (the host kernel may have no vfat
// driver, and mounting needs root): mtools' mlabel, mdir and mcopy read the image file directly.
import { InvalidArgument, ResourceExhausted } from '../../lib/errors.js';
import { runTool, runToolBytes } from '../process/run-tool.js';

const MTOOLS = { env: { MTOOLS_SKIP_CHECK: '1' }, debianPackage: 'mtools' } as const;

export interface VfatRootFile {
  readonly name: string;
  readonly data: Buffer;
}

/** The volume label as mtools reports it (the root-directory label entry), or undefined. */
export async function readVfatLabel(image: string, signal?: AbortSignal): Promise<string | undefined> {
  const { stdout } = await runTool('mlabel', ['-s', '-i', image, '::'], { ...MTOOLS, signal });
  const label = /Volume label is (.*)$/m.exec(stdout)?.[1]?.trim();
  return label === undefined || label === '' ? undefined : label;
}

/**
 * The regular files in the image's root directory, with content. A file above `maxFileBytes` is
 * refused: seeds are small, and a huge "user-data" is a mistake or an attack.
 */
export async function readVfatRootFiles(image: string, opts: { maxFileBytes: number; signal?: AbortSignal }): Promise<VfatRootFile[]> {
  let listing: string;
  try {
    // mdir -b prints one "::/name" per entry; directories end with '/'.
    listing = (await runTool('mdir', ['-b', '-i', image, '::/'], { ...MTOOLS, signal: opts.signal })).stdout;
  } catch (e) {
    throw new InvalidArgument('not a readable FAT image', { subject: image, cause: e });
  }
  const names = listing.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('::/') && !l.endsWith('/')).map((l) => l.slice(3));
  const out: VfatRootFile[] = [];
  for (const name of names.sort()) {
    try {
      // -n: never ask about overwriting; '-' is standard output, binary-safe.
      const { stdout } = await runToolBytes('mcopy', ['-n', '-i', image, `::/${name}`, '-'], { ...MTOOLS, signal: opts.signal, maxOutputBytes: opts.maxFileBytes });
      out.push({ name, data: stdout });
    } catch (e) {
      if (e instanceof ResourceExhausted) {
        throw new InvalidArgument(`${name} is larger than ${opts.maxFileBytes} bytes; seed files that big are refused`, { subject: image, cause: e });
      }
      throw e;
    }
  }
  return out;
}
