// A FAT image holding a few files, built without mounting (the host kernel may have no vfat):
// mkfs.vfat on a sized file, then mtools' mcopy into its root.
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from '../process/run-tool.js';

export interface VfatFile {
  readonly name: string;
  readonly data: Uint8Array;
}

/** Filesystem size: room for the files plus FAT overhead, at least the 128 KiB cloud-localds uses. */
export function vfatSizeBytes(files: readonly VfatFile[]): number {
  const clusters = files.reduce((n, f) => n + Math.ceil(Math.max(f.data.length, 1) / 4096), 0);
  const bytes = 64 * 1024 + clusters * 4096 * 1.1;
  return Math.max(128 * 1024, Math.ceil(bytes / (64 * 1024)) * 64 * 1024);
}

/**
 * Format `imagePath` (an existing file, sized by the caller) as FAT labelled `label` and copy the
 * files in. `volumeId` (8 hex digits) makes the result reproducible when set: mkfs.fat then also
 * gets --invariant, because it stamps the volume label's directory entry with the current time
 * (it does not read SOURCE_DATE_EPOCH), so two builds a second apart would differ.
 */
export async function makeVfat(imagePath: string, label: string, files: readonly VfatFile[], opts: { mtimeMs: number; volumeId?: string; signal?: AbortSignal }): Promise<void> {
  await runTool('mkfs.vfat', ['-n', label, ...(opts.volumeId === undefined ? [] : ['--invariant', '-i', opts.volumeId]), imagePath], {
    debianPackage: 'dosfstools',
    signal: opts.signal,
  });
  const stage = await mkdtemp(join(tmpdir(), 'atomic-vfat-'));
  try {
    const paths: string[] = [];
    for (const f of files) {
      const p = join(stage, f.name);
      await writeFile(p, f.data);
      const t = new Date(opts.mtimeMs);
      await utimes(p, t, t);
      paths.push(p);
    }
    // -m keeps the staged mtimes; MTOOLS_SKIP_CHECK avoids refusing our own fresh filesystem.
    await runTool('mcopy', ['-m', '-o', '-i', imagePath, ...paths, '::'], {
      env: { MTOOLS_SKIP_CHECK: '1' },
      debianPackage: 'mtools',
      signal: opts.signal,
    });
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
