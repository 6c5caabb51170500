// atomic iso ls [--names auto|rock-ridge|joliet|iso9660] [-l] [--json] IMAGE
// One path per line like `find` (prefixed with '/'), parents before children, siblings sorted.
import { openFileByteSource } from '../../adapters/fs-tree/file-byte-source.js';
import { openIso } from '../../formats/iso9660/reader.js';
import type { IsoEntry, IsoVolumeInfo, NameTree } from '../../formats/iso9660/types.js';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from '../../formats/iso9660/types.js';

export interface IsoLsOptions {
  readonly names: NameTree | 'auto';
  readonly long?: boolean;
  readonly json?: boolean;
}

/** Output is written in batches of about this size (an image can hold a million entries). */
const BATCH_CHARS = 64 * 1024;

export async function run(isoPath: string, opts: IsoLsOptions): Promise<void> {
  const source = await openFileByteSource(isoPath);
  try {
    const image = await openIso(source, { names: opts.names, subject: isoPath });
    if (opts.json === true) {
      const entries = (await image.entries()).map((e) => ({ ...e, mtime: isoDate(e.mtimeMs) }));
      process.stdout.write(JSON.stringify({ volume: image.volume, entries }, null, 2) + '\n');
      return;
    }
    const out = new BatchedOutput();
    if (opts.long === true) out.line(header(image.volume));
    for await (const e of image.walk()) {
      if (out.closed) break; // the reader of our output went away (`| head`)
      out.line(opts.long === true ? longLine(e) : `/${e.path}`);
      if (out.full) await out.flush();
    }
    await out.flush();
  } finally {
    await source.close();
  }
}

function header(v: IsoVolumeInfo): string {
  const trees = [v.hasRockRidge ? 'Rock Ridge' : undefined, v.hasJoliet ? 'Joliet' : undefined, 'ISO 9660'].filter((t) => t !== undefined);
  return `volume ${JSON.stringify(v.volumeId)}, names from ${v.names} (image has ${trees.join(', ')})`;
}

/** `ls -l` columns: mode, links, uid, gid, size, mtime (UTC, ISO 8601), path, `-> target`. */
export function longLine(e: IsoEntry): string {
  const target = e.symlinkTarget === undefined ? '' : ` -> ${e.symlinkTarget}`;
  return `${modeString(e.mode)} ${String(e.nlink).padStart(3)} ${String(e.uid).padStart(5)} ${String(e.gid).padStart(5)} ` +
    `${String(e.sizeBytes).padStart(12)} ${isoDate(e.mtimeMs)} /${e.path}${target}`;
}

export function modeString(mode: number): string {
  const fmt = mode & S_IFMT;
  const type = fmt === S_IFDIR ? 'd' : fmt === S_IFLNK ? 'l' : fmt === S_IFREG ? '-' : fmt === 0o020000 ? 'c' : fmt === 0o060000 ? 'b' : fmt === 0o010000 ? 'p' : fmt === 0o140000 ? 's' : '?';
  const triple = (shift: number, special: boolean, specialChar: string): string => {
    const r = (mode >> (shift + 2)) & 1 ? 'r' : '-';
    const w = (mode >> (shift + 1)) & 1 ? 'w' : '-';
    const xBit = ((mode >> shift) & 1) === 1;
    const x = special ? (xBit ? specialChar : specialChar.toUpperCase()) : xBit ? 'x' : '-';
    return r + w + x;
  };
  return type + triple(6, (mode & 0o4000) !== 0, 's') + triple(3, (mode & 0o2000) !== 0, 's') + triple(0, (mode & 0o1000) !== 0, 't');
}

function isoDate(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '-' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** stdout in batches, honouring back-pressure, and stopping quietly on EPIPE. */
class BatchedOutput {
  closed = false;
  private buf: string[] = [];
  private chars = 0;

  constructor() {
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') this.closed = true;
    });
  }

  get full(): boolean {
    return this.chars >= BATCH_CHARS;
  }

  line(s: string): void {
    this.buf.push(s);
    this.chars += s.length + 1;
  }

  async flush(): Promise<void> {
    if (this.buf.length === 0 || this.closed) return;
    const text = this.buf.join('\n') + '\n';
    this.buf = [];
    this.chars = 0;
    if (!process.stdout.write(text)) {
      await new Promise<void>((resolve) => {
        process.stdout.once('drain', resolve);
        process.stdout.once('error', () => resolve());
      });
    }
  }
}
