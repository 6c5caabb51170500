// Read a NoCloud seed from wherever it is: an ISO 9660 image or block device (our reader; no
// mount), a FAT image (mtools), a tar file of the seed directory, or a directory. The kind is
// sniffed from the content, never taken from the file name. Used by `atomic seed inspect` and by
// the agent's NoCloud datasource.
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgument, fromSystemError } from '../../lib/errors.js';
import { IMAGE_SNIFF_BYTES, sniffImageKind } from '../../formats/image-kind.js';
import { NOCLOUD_FILES, SEED_DIRECTORY, type SeedFileName } from '../../core/seed/seed-files.js';

export { NOCLOUD_FILES } from '../../core/seed/seed-files.js';

/** cloud-init reads whole files into memory; so do we, up to this size each. */
export const DEFAULT_MAX_SEED_FILE_BYTES = 16 * 1024 * 1024;

export type SeedFormat = 'iso9660' | 'vfat' | 'tar' | 'directory';

export interface SeedMedia {
  readonly path: string;
  readonly format: SeedFormat;
  /** Volume label (ISO volume id, FAT label); none for tar files and directories. */
  readonly label?: string;
  /** Every regular file at the seed's root (for tar: in the seed directory), sorted by name. */
  readonly listing: readonly { readonly name: string; readonly sizeBytes: number }[];
  /** The NoCloud files the seed has, with content. */
  readonly files: Partial<Record<SeedFileName, Uint8Array>>;
}

export interface ReadSeedOptions {
  readonly maxFileBytes?: number;
  readonly signal?: AbortSignal;
}

export async function readSeedMedia(path: string, opts: ReadSeedOptions = {}): Promise<SeedMedia> {
  const maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_SEED_FILE_BYTES;
  let st;
  try {
    st = await lstat(path);
  } catch (e) {
    throw fromSystemError(e, path, 'reading the seed');
  }
  if (st.isDirectory()) return readSeedDirectory(path, maxFileBytes);
  const kind = sniffImageKind(await readHead(path));
  if (kind === 'iso9660') return readIsoSeed(path, maxFileBytes, opts.signal);
  if (kind === 'fat') return readVfatSeed(path, maxFileBytes, opts.signal);
  if (kind === 'tar') return readTarSeed(path, st.size, maxFileBytes);
  throw new InvalidArgument('not a seed: neither an ISO 9660 image, a FAT image, a tar file nor a directory', { subject: path });
}

async function readHead(path: string): Promise<Buffer> {
  try {
    const h = await open(path, 'r');
    try {
      const buf = Buffer.alloc(IMAGE_SNIFF_BYTES);
      const { bytesRead } = await h.read(buf, 0, buf.length, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await h.close();
    }
  } catch (e) {
    throw fromSystemError(e, path, 'reading the seed');
  }
}

function tooBig(path: string, name: string, sizeBytes: number, max: number): InvalidArgument {
  return new InvalidArgument(`${name} is ${sizeBytes} bytes; seed files above ${max} bytes are refused`, { subject: path });
}

async function readSeedDirectory(dir: string, maxFileBytes: number): Promise<SeedMedia> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (e) {
    throw fromSystemError(e, dir, 'reading the seed directory');
  }
  const listing: { name: string; sizeBytes: number }[] = [];
  const files: Partial<Record<SeedFileName, Uint8Array>> = {};
  for (const name of names) {
    const p = join(dir, name);
    const s = await lstat(p).catch((e: unknown) => {
      throw fromSystemError(e, p, 'reading');
    });
    if (!s.isFile()) continue;
    listing.push({ name, sizeBytes: s.size });
    if (!(NOCLOUD_FILES as readonly string[]).includes(name)) continue;
    if (s.size > maxFileBytes) throw tooBig(dir, name, s.size, maxFileBytes);
    files[name as SeedFileName] = await readSmallFile(p, maxFileBytes);
  }
  return { path: dir, format: 'directory', listing, files };
}

/** Read a file that is expected to be small, never more than `max` bytes (it may grow meanwhile). */
async function readSmallFile(path: string, max: number): Promise<Buffer> {
  try {
    const h = await open(path, 'r');
    try {
      const chunks: Buffer[] = [];
      let total = 0;
      for (;;) {
        const buf = Buffer.allocUnsafe(64 * 1024);
        const { bytesRead } = await h.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        total += bytesRead;
        if (total > max) throw tooBig(path, path, total, max);
        chunks.push(buf.subarray(0, bytesRead));
      }
      return Buffer.concat(chunks);
    } finally {
      await h.close();
    }
  } catch (e) {
    throw fromSystemError(e, path, 'reading');
  }
}

async function readIsoSeed(path: string, maxFileBytes: number, signal: AbortSignal | undefined): Promise<SeedMedia> {
  // Each format's reader is loaded for its own kind of seed only (a seed directory needs none).
  const [{ openFileByteSource }, { openIso }] = await Promise.all([import('../fs-tree/file-byte-source.js'), import('../../formats/iso9660/reader.js')]);
  const source = await openFileByteSource(path);
  try {
    const image = await openIso(source, { subject: path, ...(signal === undefined ? {} : { signal }) });
    const listing: { name: string; sizeBytes: number }[] = [];
    const files: Partial<Record<SeedFileName, Uint8Array>> = {};
    for await (const e of image.walk()) {
      if (e.path.includes('/') || e.type !== 'file') continue;
      listing.push({ name: e.name, sizeBytes: e.sizeBytes });
      if (!(NOCLOUD_FILES as readonly string[]).includes(e.name)) continue;
      if (e.sizeBytes > maxFileBytes) throw tooBig(path, e.name, e.sizeBytes, maxFileBytes);
      const chunks: Buffer[] = [];
      for await (const c of image.readContent(e)) chunks.push(c.data);
      files[e.name as SeedFileName] = Buffer.concat(chunks);
    }
    listing.sort((a, b) => (a.name < b.name ? -1 : 1));
    return { path, format: 'iso9660', label: image.volume.volumeId, listing, files };
  } finally {
    await source.close();
  }
}

async function readVfatSeed(path: string, maxFileBytes: number, signal: AbortSignal | undefined): Promise<SeedMedia> {
  const { readVfatLabel, readVfatRootFiles } = await import('../vfat/read-vfat.js');
  const label = await readVfatLabel(path, signal);
  const all = await readVfatRootFiles(path, { maxFileBytes, ...(signal === undefined ? {} : { signal }) });
  const files: Partial<Record<SeedFileName, Uint8Array>> = {};
  for (const f of all) if ((NOCLOUD_FILES as readonly string[]).includes(f.name)) files[f.name as SeedFileName] = f.data;
  return { path, format: 'vfat', ...(label === undefined ? {} : { label }), listing: all.map((f) => ({ name: f.name, sizeBytes: f.data.length })), files };
}

async function readTarSeed(path: string, sizeBytes: number, maxFileBytes: number): Promise<SeedMedia> {
  // A seed tarball holds four small files; anything near this size is not one.
  const maxArchiveBytes = 4 * maxFileBytes + 1024 * 1024;
  if (sizeBytes > maxArchiveBytes) throw new InvalidArgument(`tar file of ${sizeBytes} bytes is too large for a seed (at most ${maxArchiveBytes})`, { subject: path });
  const { readTar } = await import('../../formats/tar/ustar-read.js');
  const entries = readTar(await readSmallFile(path, maxArchiveBytes), path);
  // The seed directory layout `atomic seed create --format tar` writes, or the files at the top.
  const inSeedDir = entries.some((e) => e.path.startsWith(`${SEED_DIRECTORY}/`));
  const prefix = inSeedDir ? `${SEED_DIRECTORY}/` : '';
  const listing: { name: string; sizeBytes: number }[] = [];
  const files: Partial<Record<SeedFileName, Uint8Array>> = {};
  for (const e of entries) {
    if (e.type !== 'file' || !e.path.startsWith(prefix)) continue;
    const name = e.path.slice(prefix.length);
    if (name.includes('/')) continue;
    listing.push({ name, sizeBytes: e.sizeBytes });
    if (!(NOCLOUD_FILES as readonly string[]).includes(name)) continue;
    if (e.sizeBytes > maxFileBytes) throw tooBig(path, name, e.sizeBytes, maxFileBytes);
    files[name as SeedFileName] = e.data ?? new Uint8Array();
  }
  listing.sort((a, b) => (a.name < b.name ? -1 : 1));
  return { path, format: 'tar', listing, files };
}
