// ISO 9660 image reader: ECMA-119 primary tree with Rock Ridge (SUSP/RRIP), the Joliet tree, or
// plain ECMA-119 names. A pure decoder over a ByteSource: it never touches the file system.
//
// The reader treats every image as hostile. Each structure is checked before it is used, and
// every walk has a work budget that grows with the image, not with what the image claims:
//   - directory extents: each is visited once (a second visit is a loop), and their sizes may add
//     up to at most the image size (overlapping directories would make the walk quadratic);
//   - SUSP continuation areas: per record at most `maxContinuationAreas`, never the same area twice
//     (a CE loop), and all areas of one walk add up to at most the image size;
//   - directory records: at most `maxEntries` per walk; paths at most `maxDepth` components and
//     `maxPathBytes` bytes.
// So a walk reads at most a few times the image size and keeps at most `maxEntries` entries.
//
// Errors: DataLoss for corrupt structure (what and where: `directory record at LBA 23 offset 112:
// ...`), ResourceExhausted for the configurable limits, InvalidArgument for input that is not an
// ISO 9660 image or a name tree the image does not have, Unimplemented for valid but unsupported
// images (logical blocks other than 2048 bytes, interleaved files, High Sierra), Cancelled.
import { AtomicError, Cancelled, DataLoss, InvalidArgument, ResourceExhausted, Unimplemented, errorOfCode } from '../../lib/errors.js';
import type { ByteSource } from '../byte-source.js';
import {
  FIRST_DESCRIPTOR_LBA, FLAG_DIRECTORY, FLAG_MULTI_EXTENT, JOLIET_ESCAPES, SECTOR_BYTES, STANDARD_ID, VD_PRIMARY,
  VD_SUPPLEMENTARY, VD_TERMINATOR, decodeRecordDate, decodeUtf16Be, sectorsFor,
} from './ecma119.js';
import {
  RRIP_EXTENSION_IDS, decodeLongDate, decodeSystemUseArea, emptyRockRidgeFields, type RockRidgeFields,
} from './rrip-decode.js';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, type EntryType, type IsoEntry, type IsoExtent, type IsoVolumeInfo, type NameTree } from './types.js';

/** ECMA-119 9.1.6: an associated file (resource fork style); Linux hides them, so do we. */
const FLAG_ASSOCIATED = 0x04;
/** Modes `mount` gives entries when there is no RRIP PX. */
const DEFAULT_DIR_MODE = S_IFDIR | 0o555;
const DEFAULT_FILE_MODE = S_IFREG | 0o444;
const DEFAULT_SYMLINK_MODE = S_IFLNK | 0o777;
/** CD-XA puts 14 bytes of its own before SUSP entries (Linux retries SP at this offset). */
const XA_SYSTEM_USE_BYTES = 14;
/** Directories are read this many sectors at a time. */
const DIRECTORY_CHUNK_SECTORS = 32;
const DEFAULT_CHUNK_BYTES = 1 << 20;

export interface IsoReadLimits {
  /** Directory records one walk may decode (hidden ones included). */
  readonly maxEntries: number;
  /** Path components below the root. */
  readonly maxDepth: number;
  /** Bytes of a path below the root (UTF-8). */
  readonly maxPathBytes: number;
  /** Longest symbolic link target (PATH_MAX - 1 on Linux). */
  readonly maxSymlinkTargetBytes: number;
  /** SUSP continuation areas one directory record may chain. */
  readonly maxContinuationAreas: number;
  /** Volume descriptors read before the terminator must have appeared. */
  readonly maxVolumeDescriptors: number;
}

export const DEFAULT_ISO_READ_LIMITS: IsoReadLimits = Object.freeze({
  maxEntries: 1_000_000,
  maxDepth: 4096,
  maxPathBytes: 32 * 1024,
  maxSymlinkTargetBytes: 4095,
  maxContinuationAreas: 64,
  maxVolumeDescriptors: 64,
});

/** POSIX NAME_MAX: the longest RRIP name that can exist on a file system. */
const MAX_RR_NAME_BYTES = 255;

export interface IsoOpenOptions {
  /** Which names to read; 'auto' prefers Rock Ridge, then Joliet, then plain ISO 9660. */
  readonly names?: NameTree | 'auto';
  readonly signal?: AbortSignal;
  readonly limits?: Partial<IsoReadLimits>;
  /** The image's name (a file path) for errors' one-line summaries. */
  readonly subject?: string;
}

export interface IsoChunk {
  /** Position of `data` in the file. */
  readonly offsetBytes: number;
  readonly data: Buffer;
}

export interface IsoReadContentOptions {
  readonly chunkBytes?: number;
  readonly signal?: AbortSignal;
}

export interface IsoImage {
  readonly volume: IsoVolumeInfo;
  /** The root directory's own attributes (path ''), from its "." record. */
  readonly root: IsoEntry;
  /** Every entry below the root, parents before children, siblings sorted by name. */
  walk(opts?: { signal?: AbortSignal }): AsyncGenerator<IsoEntry, void, undefined>;
  /** `walk()` collected. */
  entries(opts?: { signal?: AbortSignal }): Promise<IsoEntry[]>;
  /** A regular file's content in order, at most `chunkBytes` (1 MiB) per chunk. */
  readContent(entry: IsoEntry, opts?: IsoReadContentOptions): AsyncGenerator<IsoChunk, void, undefined>;
}

/** Read the volume descriptors and the root directory, and choose the name tree. */
export async function openIso(source: ByteSource, opts: IsoOpenOptions = {}): Promise<IsoImage> {
  const limits = checkLimits({ ...DEFAULT_ISO_READ_LIMITS, ...opts.limits });
  try {
    const reader = new Reader(source, limits, opts.signal, opts.subject);
    return await reader.open(opts.names ?? 'auto');
  } catch (e) {
    throw withSubject(e, opts.subject);
  }
}

function checkLimits(l: IsoReadLimits): IsoReadLimits {
  for (const [k, v] of Object.entries(l)) {
    if (!Number.isSafeInteger(v) || (v as number) < 1) throw new InvalidArgument(`ISO read limit ${k} must be a positive integer, not ${String(v)}`);
  }
  return l;
}

/** Errors from inside the reader carry no subject; the caller's name for the image is added here. */
function withSubject(e: unknown, subject: string | undefined): unknown {
  if (subject === undefined || !(e instanceof AtomicError) || e.subject !== undefined) return e;
  return errorOfCode(e.code, e.message, { subject, cause: e.cause, problems: e.problems });
}

async function* withSubjectAll<T>(gen: AsyncGenerator<T, void, undefined>, subject: string | undefined): AsyncGenerator<T, void, undefined> {
  try {
    yield* gen;
  } catch (e) {
    throw withSubject(e, subject);
  }
}

/** One directory record as stored (ECMA-119 9.1), before names and SUSP are decoded. */
interface RawRecord {
  /** `directory record at LBA 23 offset 112`, for messages. */
  readonly where: string;
  readonly extentLba: number;
  /** ECMA-119 9.1.2: extended attribute record blocks before the data. */
  readonly xarBlocks: number;
  readonly sizeBytes: number;
  readonly flags: number;
  /** ECMA-119 9.1.7/9.1.8: interleaving (file unit size, gap). */
  readonly interleaved: boolean;
  readonly recordedMs: number;
  readonly id: Buffer;
  readonly systemUse: Buffer;
}

/** How to read one directory. */
interface DirRef {
  readonly extentLba: number;
  readonly xarBlocks: number;
  /** Undefined for directories reached through RRIP CL: their "." record tells. */
  readonly sizeBytes: number | undefined;
  /** The extent ".." must point to (or RRIP PL, for relocated directories). */
  readonly parentExtentLba: number;
  /** Reached through RRIP CL: attributes come from the directory's own "." record. */
  readonly relocated: boolean;
}

interface Pending {
  readonly entry: IsoEntry;
  readonly dir: DirRef | undefined;
  readonly depth: number;
}

interface DirListing {
  /** The "." record's decoded fields. */
  readonly self: RawRecord;
  readonly selfRr: RockRidgeFields | undefined;
  readonly sizeBytes: number;
  /** Visible children, sorted by name. */
  readonly children: Pending[];
  /** Children hidden because they carry RRIP RE (the relocated originals). */
  readonly relocatedChildren: number;
}

interface SuspLayout {
  /** Where SP sits in the root "." record's system use field (0, or 14 after CD-XA data). */
  readonly spOffset: number;
  /** Where SUSP entries start in every other record: the CD-XA offset plus SP's LEN_SKP. */
  readonly entryOffset: number;
}

/** Budgets of one walk (see the header). */
class WalkState {
  readonly visitedDirs = new Set<number>();
  dirBytesLeft: number;
  ceBytesLeft: number;
  records = 0;

  constructor(
    imageBytes: number,
    readonly signal: AbortSignal | undefined,
  ) {
    this.dirBytesLeft = imageBytes;
    this.ceBytesLeft = imageBytes;
  }
}

class Reader {
  private readonly imageSectors: number;
  private tree: NameTree = 'iso9660';
  private susp: SuspLayout | undefined;
  private rootRecord: RawRecord | undefined;

  constructor(
    private readonly source: ByteSource,
    private readonly limits: IsoReadLimits,
    private readonly signal: AbortSignal | undefined,
    private readonly subject: string | undefined,
  ) {
    this.imageSectors = Math.floor(source.sizeBytes / SECTOR_BYTES);
  }

  async open(names: NameTree | 'auto'): Promise<IsoImage> {
    this.checkAborted(this.signal);
    const { primary, joliet } = await this.readDescriptors();
    const primaryRoot = this.descriptorRoot(primary, 'primary volume descriptor');
    const jolietRoot = joliet === undefined ? undefined : this.descriptorRoot(joliet.vd, `Joliet volume descriptor (sector ${joliet.lba})`);
    const rr = await this.detectRockRidge(primaryRoot).catch((e: unknown) => {
      // A broken SUSP area in the root only matters when Rock Ridge names may be used.
      if (e instanceof DataLoss && (names === 'joliet' || names === 'iso9660')) return undefined;
      throw e;
    });

    if (names === 'rock-ridge' && rr === undefined) throw new InvalidArgument('the image has no Rock Ridge (no SUSP SP and RRIP entries in the root directory)');
    if (names === 'joliet' && jolietRoot === undefined) throw new InvalidArgument('the image has no Joliet tree (no supplementary volume descriptor with a UCS-2 escape sequence)');
    this.tree = names !== 'auto' ? names : rr !== undefined ? 'rock-ridge' : jolietRoot !== undefined ? 'joliet' : 'iso9660';
    this.susp = this.tree === 'rock-ridge' ? rr : undefined;
    this.rootRecord = this.tree === 'joliet' ? jolietRoot! : primaryRoot;

    const volume: IsoVolumeInfo = {
      volumeId: text(primary, 40, 32),
      systemId: text(primary, 8, 32),
      volumeSpaceBlocks: primary.readUInt32LE(80),
      hasJoliet: jolietRoot !== undefined,
      hasRockRidge: rr !== undefined,
      names: this.tree,
      publisherId: text(primary, 318, 128),
      preparerId: text(primary, 446, 128),
      applicationId: text(primary, 574, 128),
      ...optional('createdMs', decodeLongDate(primary, 813)),
      ...optional('modifiedMs', decodeLongDate(primary, 830)),
    };
    const rootListing = await this.readDirectory(this.rootDirRef(), '', 0, new WalkState(this.source.sizeBytes, this.signal));
    const root = this.directoryEntry('', '', this.rootRecord, rootListing.selfRr, rootListing);
    return {
      volume,
      root,
      walk: (o) => withSubjectAll(this.walk(o?.signal ?? this.signal), this.subject),
      entries: async (o) => {
        const out: IsoEntry[] = [];
        for await (const e of withSubjectAll(this.walk(o?.signal ?? this.signal), this.subject)) out.push(e);
        return out;
      },
      readContent: (entry, o) => withSubjectAll(this.readContent(entry, o ?? {}), this.subject),
    };
  }

  // --- volume descriptors -------------------------------------------------------------------

  /** ECMA-119 8: descriptors from sector 16 up to the terminator. */
  private async readDescriptors(): Promise<{ primary: Buffer; joliet: { vd: Buffer; lba: number } | undefined }> {
    const size = this.source.sizeBytes;
    if (size < (FIRST_DESCRIPTOR_LBA + 1) * SECTOR_BYTES) {
      throw new InvalidArgument(`not an ISO 9660 image: ${size} bytes is too small to hold a volume descriptor at sector ${FIRST_DESCRIPTOR_LBA}`);
    }
    let primary: Buffer | undefined;
    let joliet: { vd: Buffer; lba: number } | undefined;
    for (let i = 0; ; i++) {
      const lba = FIRST_DESCRIPTOR_LBA + i;
      if (i >= this.limits.maxVolumeDescriptors) {
        throw new DataLoss(`no volume descriptor set terminator in sectors ${FIRST_DESCRIPTOR_LBA}-${lba - 1}`);
      }
      if ((lba + 1) * SECTOR_BYTES > size) {
        throw new DataLoss(`the image is truncated: the volume descriptor set runs past its end at sector ${lba} (${this.imageSectors} sectors)`);
      }
      const vd = await this.readExact(lba * SECTOR_BYTES, SECTOR_BYTES, `volume descriptor at sector ${lba}`);
      const id = vd.toString('latin1', 1, 6);
      if (id !== STANDARD_ID) {
        if (i > 0) throw new DataLoss(`volume descriptor at sector ${lba}: standard identifier ${JSON.stringify(id)}, ${JSON.stringify(STANDARD_ID)} expected`);
        if (vd.toString('latin1', 9, 14) === 'CDROM') throw new Unimplemented('High Sierra images (the ISO 9660 predecessor) are not supported');
        throw new InvalidArgument(`not an ISO 9660 image: no ${JSON.stringify(STANDARD_ID)} volume descriptor at sector ${FIRST_DESCRIPTOR_LBA}`);
      }
      const type = vd[0]!;
      if (type === VD_TERMINATOR) break;
      if (type === VD_PRIMARY && primary === undefined) primary = vd;
      // Joliet: a supplementary descriptor whose escape sequences (8.5.6, offset 88) name UCS-2.
      if (type === VD_SUPPLEMENTARY && joliet === undefined && (JOLIET_ESCAPES as readonly string[]).includes(vd.toString('latin1', 88, 91))) {
        joliet = { vd, lba };
      }
    }
    if (primary === undefined) throw new DataLoss(`no primary volume descriptor before the terminator (sectors from ${FIRST_DESCRIPTOR_LBA})`);
    // ECMA-119 8.4.12: the logical block size. Everything we read assumes 2048.
    const blockBytes = primary.readUInt16LE(128);
    if (blockBytes !== SECTOR_BYTES) throw new Unimplemented(`primary volume descriptor: logical block size ${blockBytes}; only ${SECTOR_BYTES} is supported`);
    const spaceBlocks = primary.readUInt32LE(80);
    if (spaceBlocks > this.imageSectors) {
      throw new DataLoss(`the image is truncated: the primary volume descriptor records ${spaceBlocks} sectors, the image has ${this.imageSectors}`);
    }
    return { primary, joliet };
  }

  /** ECMA-119 8.4.18: the root directory record inside a volume descriptor (34 bytes at 156). */
  private descriptorRoot(vd: Buffer, name: string): RawRecord {
    const where = `${name} root directory record`;
    const len = vd[156]!;
    if (len < 34) throw new DataLoss(`${where}: length ${len}, 34 expected`);
    const rec = parseRecord(vd.subarray(156, 156 + Math.min(len, 34)), where, 34);
    if ((rec.flags & FLAG_DIRECTORY) === 0) throw new DataLoss(`${where}: not flagged as a directory`);
    this.checkExtent(rec, true);
    return rec;
  }

  /**
   * SUSP 5.3: Rock Ridge is in use when the root's "." record starts its system use with SP, and
   * RRIP is announced by ER (SUSP 5.5) or used right there (old writers omit ER).
   */
  private async detectRockRidge(root: RawRecord): Promise<SuspLayout | undefined> {
    const dirSector = root.extentLba + root.xarBlocks;
    const sector = await this.readExact(dirSector * SECTOR_BYTES, SECTOR_BYTES, `root directory at LBA ${dirSector}`);
    const len = sector[0]!;
    if (len < 34) return undefined; // readDirectory reports it properly
    const self = parseRecord(sector.subarray(0, len), `directory record at LBA ${dirSector} offset 0`, SECTOR_BYTES);
    for (const spOffset of [0, XA_SYSTEM_USE_BYTES]) {
      const su = self.systemUse;
      if (su.length < spOffset + 7 || su.toString('latin1', spOffset, spOffset + 2) !== 'SP' || su[spOffset + 4] !== 0xbe || su[spOffset + 5] !== 0xef) continue;
      const layout = { spOffset, entryOffset: spOffset + su[spOffset + 6]! };
      const fields = await this.decodeSusp(self, layout, true, new WalkState(this.source.sizeBytes, this.signal));
      const announced = fields.extensionIds.some((id) => RRIP_EXTENSION_IDS.has(id));
      return announced || fields.hasRripEntries ? layout : undefined;
    }
    return undefined;
  }

  private rootDirRef(): DirRef {
    const r = this.rootRecord!;
    return { extentLba: r.extentLba, xarBlocks: r.xarBlocks, sizeBytes: r.sizeBytes, parentExtentLba: r.extentLba, relocated: false };
  }

  // --- walking ------------------------------------------------------------------------------

  private async *walk(signal: AbortSignal | undefined): AsyncGenerator<IsoEntry, void, undefined> {
    const state = new WalkState(this.source.sizeBytes, signal);
    const root = await this.readDirectory(this.rootDirRef(), '', 0, state);
    const stack: Pending[] = [...root.children].reverse();
    while (stack.length > 0) {
      this.checkAborted(signal);
      const p = stack.pop()!;
      if (p.dir === undefined) {
        yield p.entry;
        continue;
      }
      const listing = await this.readDirectory(p.dir, p.entry.path, p.depth, state);
      // genisoimage's rr_moved (or xorriso's, wherever it is): a top-level directory holding only
      // relocated directories. Linux and libisofs show the tree as it was before relocation.
      if (p.depth === 1 && listing.relocatedChildren > 0 && listing.children.length === 0 && this.tree === 'rock-ridge') continue;
      // Directories reached through RRIP CL take their attributes from their own "." record (as
      // Linux does); the others keep the record in the parent, completed by what reading told.
      yield p.dir.relocated
        ? this.directoryEntry(p.entry.path, p.entry.name, listing.self, listing.selfRr, listing)
        : { ...p.entry, sizeBytes: listing.sizeBytes, nlink: p.entry.nlink > 0 ? p.entry.nlink : 2 + listing.children.filter((c) => c.dir !== undefined).length };
      for (let i = listing.children.length - 1; i >= 0; i--) stack.push(listing.children[i]!);
    }
  }

  /** A directory's entry from its "." record (the root, and directories relocated with CL). */
  private directoryEntry(path: string, name: string, self: RawRecord, rr: RockRidgeFields | undefined, listing: DirListing): IsoEntry {
    const px = rr?.px;
    if (px !== undefined && (px.mode & S_IFMT) !== S_IFDIR && (px.mode & S_IFMT) !== 0) {
      throw new DataLoss(`${self.where}: "." of a directory has Rock Ridge mode 0o${px.mode.toString(8)}`);
    }
    return {
      path,
      name,
      type: 'directory',
      mode: px === undefined ? DEFAULT_DIR_MODE : S_IFDIR | (px.mode & 0o7777),
      uid: px?.uid ?? 0,
      gid: px?.gid ?? 0,
      nlink: px?.nlink ?? 2 + listing.children.filter((c) => c.dir !== undefined).length,
      mtimeMs: finiteMs(rr?.modifyMs ?? self.recordedMs),
      sizeBytes: listing.sizeBytes,
      extents: [],
      ...(px?.ino === undefined ? {} : { inode: px.ino }),
    };
  }

  /** Read one directory's records, check "." and "..", and decode its children. */
  private async readDirectory(ref: DirRef, path: string, depth: number, state: WalkState): Promise<DirListing> {
    const label = `directory ${JSON.stringify('/' + path)} at LBA ${ref.extentLba}`;
    if (state.visitedDirs.has(ref.extentLba)) throw new DataLoss(`${label}: visited twice (a directory loop)`);
    state.visitedDirs.add(ref.extentLba);
    const dataLba = ref.extentLba + ref.xarBlocks;
    let sizeBytes = ref.sizeBytes;
    if (sizeBytes === undefined) {
      // RRIP CL: the child link names only the extent; its "." record holds the size.
      if (dataLba >= this.imageSectors) throw new DataLoss(`${label}: extent ${dataLba}+1 beyond the end of the image (${this.imageSectors} sectors)`);
      const first = await this.readExact(dataLba * SECTOR_BYTES, SECTOR_BYTES, label);
      const dot = parseSectorRecords(first, dataLba, SECTOR_BYTES)[0];
      if (dot === undefined) throw new DataLoss(`${label}: empty directory sector (no "." record)`);
      sizeBytes = dot.sizeBytes;
    }
    const sectors = sectorsFor(sizeBytes);
    if (sectors === 0) throw new DataLoss(`${label}: directory of 0 bytes (it must hold "." and "..")`);
    if (dataLba + sectors > this.imageSectors) {
      throw new DataLoss(`${label}: extent ${dataLba}+${sectors} beyond the end of the image (${this.imageSectors} sectors)`);
    }
    state.dirBytesLeft -= sectors * SECTOR_BYTES;
    if (state.dirBytesLeft < 0) throw new DataLoss(`${label}: directory extents add up to more than the image (overlapping directories)`);

    const records: RawRecord[] = [];
    for (let s = 0; s < sectors; s += DIRECTORY_CHUNK_SECTORS) {
      this.checkAborted(state.signal);
      const n = Math.min(DIRECTORY_CHUNK_SECTORS, sectors - s);
      const buf = await this.readExact((dataLba + s) * SECTOR_BYTES, n * SECTOR_BYTES, label);
      for (let k = 0; k < n; k++) {
        const usable = Math.min(SECTOR_BYTES, sizeBytes - (s + k) * SECTOR_BYTES);
        const found = parseSectorRecords(buf.subarray(k * SECTOR_BYTES, (k + 1) * SECTOR_BYTES), dataLba + s + k, usable);
        state.records += found.length;
        if (state.records > this.limits.maxEntries) {
          throw new ResourceExhausted(`${label}: more than ${this.limits.maxEntries} directory records in the image (limit maxEntries)`);
        }
        records.push(...found);
      }
    }

    // ECMA-119 6.8.2.2: every directory starts with "." (0x00) and ".." (0x01).
    const self = records[0];
    if (self === undefined || !isDotId(self.id, 0)) throw new DataLoss(`${label}: the first record is not "."`);
    if (self.extentLba !== ref.extentLba) throw new DataLoss(`${self.where}: "." points to LBA ${self.extentLba}, the directory is at LBA ${ref.extentLba}`);
    const rr = this.susp !== undefined;
    const selfRr = rr ? await this.decodeSusp(self, this.susp!, depth === 0, state) : undefined;
    const parent = records[1];
    if (parent === undefined || !isDotId(parent.id, 1)) throw new DataLoss(`${label}: the second record is not ".."`);
    const parentRr = rr ? await this.decodeSusp(parent, this.susp!, false, state) : undefined;
    const parentLba = parentRr?.parentLinkLba ?? parent.extentLba;
    // ".." must lead to the parent. genisoimage writes directories it drops for being too deep
    // (without -R or -D) with ".." pointing to themselves, like the root's; that is harmless.
    if (parentLba !== ref.parentExtentLba && parentLba !== ref.extentLba) {
      throw new DataLoss(`${parent.where}: ".." points to LBA ${parentLba}, the parent directory is at LBA ${ref.parentExtentLba}`);
    }

    const children: Pending[] = [];
    const names = new Set<string>();
    let relocatedChildren = 0;
    for (const group of multiExtentGroups(records.slice(2), label)) {
      const first = group[0]!;
      if ((first.flags & FLAG_ASSOCIATED) !== 0) continue;
      const childRr = rr ? await this.decodeSusp(first, this.susp!, false, state) : undefined;
      if (childRr?.relocated === true) {
        relocatedChildren++;
        continue;
      }
      const name = this.decodeName(first, childRr);
      if (names.has(name)) throw new DataLoss(`${first.where}: a second entry named ${JSON.stringify(name)} in ${label}`);
      names.add(name);
      const childPath = path === '' ? name : `${path}/${name}`;
      if (depth + 1 > this.limits.maxDepth) throw new ResourceExhausted(`${first.where}: ${JSON.stringify('/' + childPath)} is deeper than ${this.limits.maxDepth} levels (limit maxDepth)`);
      if (Buffer.byteLength(childPath, 'utf8') > this.limits.maxPathBytes) {
        throw new ResourceExhausted(`${first.where}: path longer than ${this.limits.maxPathBytes} bytes (limit maxPathBytes)`);
      }
      children.push(this.childPending(group, childRr, name, childPath, depth + 1, ref.extentLba));
    }
    children.sort((a, b) => (a.entry.name < b.entry.name ? -1 : a.entry.name > b.entry.name ? 1 : 0));
    return { self, selfRr, sizeBytes, children, relocatedChildren };
  }

  private childPending(group: readonly RawRecord[], rr: RockRidgeFields | undefined, name: string, path: string, depth: number, parentLba: number): Pending {
    const first = group[0]!;
    const isDirRecord = (first.flags & FLAG_DIRECTORY) !== 0;
    const px = rr?.px;
    const childLink = rr?.childLinkLba;
    const isDir = isDirRecord || childLink !== undefined;
    const fmt = px === undefined ? 0 : px.mode & S_IFMT;
    // RRIP PX and the ECMA-119 directory flag must agree; PX type 0 (genisoimage writes it for
    // rr_moved's "..") defers to the flag.
    if (fmt === S_IFDIR && !isDir) throw new DataLoss(`${first.where}: Rock Ridge mode says directory, the record is a file`);
    if (fmt !== 0 && fmt !== S_IFDIR && isDir) throw new DataLoss(`${first.where}: the record is a directory, its Rock Ridge mode is 0o${px!.mode.toString(8)}`);
    const type: EntryType = isDir
      ? 'directory'
      : fmt === S_IFLNK || (fmt === 0 && rr?.symlink !== undefined)
        ? 'symlink'
        : fmt === 0 || fmt === S_IFREG
          ? 'file'
          : 'other';
    const defaultMode = type === 'directory' ? DEFAULT_DIR_MODE : type === 'symlink' ? DEFAULT_SYMLINK_MODE : DEFAULT_FILE_MODE;
    const mode = px === undefined ? defaultMode : fmt === 0 ? (defaultMode & S_IFMT) | (px.mode & 0o7777) : px.mode;
    const base = {
      path,
      name,
      type,
      mode,
      uid: px?.uid ?? 0,
      gid: px?.gid ?? 0,
      mtimeMs: finiteMs(rr?.modifyMs ?? first.recordedMs),
      ...(px?.ino === undefined ? {} : { inode: px.ino }),
    };
    if (type === 'directory') {
      if (group.length > 1) throw new DataLoss(`${first.where}: a multi-extent directory`);
      const dir: DirRef = childLink !== undefined
        ? { extentLba: childLink, xarBlocks: 0, sizeBytes: undefined, parentExtentLba: parentLba, relocated: true }
        : { extentLba: first.extentLba, xarBlocks: first.xarBlocks, sizeBytes: first.sizeBytes, parentExtentLba: parentLba, relocated: false };
      // nlink 0 = "count the subdirectories once they are read" (no PX).
      return { entry: { ...base, nlink: px?.nlink ?? 0, sizeBytes: first.sizeBytes, extents: [] }, dir, depth };
    }
    if (type === 'symlink') {
      const target = rr?.symlink?.target();
      if (target === undefined) throw new DataLoss(`${first.where}: a symbolic link without an RRIP SL target`);
      if (target === '') throw new DataLoss(`${first.where}: a symbolic link with an empty target`);
      return { entry: { ...base, nlink: px?.nlink ?? 1, sizeBytes: Buffer.byteLength(target, 'utf8'), extents: [], symlinkTarget: target }, dir: undefined, depth };
    }
    if (type === 'other') return { entry: { ...base, nlink: px?.nlink ?? 1, sizeBytes: 0, extents: [] }, dir: undefined, depth };
    const extents: IsoExtent[] = [];
    let sizeBytes = 0;
    for (const r of group) {
      if (r.sizeBytes === 0) continue;
      if (r.interleaved) throw new Unimplemented(`${r.where}: interleaved files (ECMA-119 9.1.7) are not supported`);
      this.checkExtent(r, false);
      extents.push({ lba: r.extentLba + r.xarBlocks, sizeBytes: r.sizeBytes });
      sizeBytes += r.sizeBytes;
    }
    return { entry: { ...base, nlink: px?.nlink ?? 1, sizeBytes, extents }, dir: undefined, depth };
  }

  private decodeName(r: RawRecord, rr: RockRidgeFields | undefined): string {
    let name: string;
    if (rr !== undefined && (rr.nameBytes !== undefined || rr.nameIsDotOrDotDot)) {
      // RRIP 4.1.4: NM CURRENT/PARENT would make this entry "." or "..".
      if (rr.nameIsDotOrDotDot) throw new DataLoss(`${r.where}: Rock Ridge NM names the entry "." or ".."`);
      name = rr.nameBytes!.toString('utf8');
    } else if (this.tree === 'joliet') {
      if (r.id.length % 2 !== 0) throw new DataLoss(`${r.where}: Joliet file identifier of odd length ${r.id.length}`);
      name = jolietName(r.id);
    } else {
      name = plainName(r.id);
    }
    checkName(name, r.where);
    return name;
  }

  /** SUSP: the record's entries, then each continuation area in chain order. */
  private async decodeSusp(r: RawRecord, layout: SuspLayout, isRootSelf: boolean, state: WalkState): Promise<RockRidgeFields> {
    const fields = emptyRockRidgeFields();
    const decodeLimits = { maxNameBytes: MAX_RR_NAME_BYTES, maxSymlinkTargetBytes: this.limits.maxSymlinkTargetBytes };
    const start = isRootSelf ? layout.spOffset : layout.entryOffset;
    let ce = decodeSystemUseArea(r.systemUse.subarray(Math.min(start, r.systemUse.length)), r.where, fields, decodeLimits);
    const seen = new Set<string>();
    while (ce !== undefined) {
      if (seen.size >= this.limits.maxContinuationAreas) {
        throw new ResourceExhausted(`${r.where}: more than ${this.limits.maxContinuationAreas} SUSP continuation areas (limit maxContinuationAreas)`);
      }
      const key = `${ce.lba}:${ce.offset}`;
      const at = `${r.where}: continuation area at LBA ${ce.lba} offset ${ce.offset}`;
      if (seen.has(key)) throw new DataLoss(`${at}: a CE loop (the area was already read for this record)`);
      seen.add(key);
      if (ce.lengthBytes === 0) break;
      // SUSP 5.1 areas lie within one logical block; Linux refuses others as corrupt, and so do we
      // (which also bounds what one CE can make us read).
      if (ce.offset + ce.lengthBytes > SECTOR_BYTES) {
        throw new DataLoss(`${at}: ${ce.lengthBytes} bytes at offset ${ce.offset} run past the end of the sector`);
      }
      const position = ce.lba * SECTOR_BYTES + ce.offset;
      if (position + ce.lengthBytes > this.source.sizeBytes) {
        throw new DataLoss(`${at}: ${ce.lengthBytes} bytes beyond the end of the image (${this.imageSectors} sectors)`);
      }
      state.ceBytesLeft -= ce.lengthBytes;
      if (state.ceBytesLeft < 0) throw new DataLoss(`${at}: continuation areas add up to more than the image`);
      const area = await this.readExact(position, ce.lengthBytes, at);
      ce = decodeSystemUseArea(area, at, fields, decodeLimits);
    }
    return fields;
  }

  // --- content ------------------------------------------------------------------------------

  private async *readContent(entry: IsoEntry, opts: IsoReadContentOptions): AsyncGenerator<IsoChunk, void, undefined> {
    if (entry.type !== 'file') throw new InvalidArgument(`${JSON.stringify('/' + entry.path)} is a ${entry.type}, not a regular file`);
    const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new InvalidArgument(`chunk size must be a positive integer, not ${chunkBytes}`);
    let offsetBytes = 0;
    for (const ext of entry.extents) {
      const start = ext.lba * SECTOR_BYTES;
      if (start + ext.sizeBytes > this.source.sizeBytes) {
        throw new DataLoss(`${JSON.stringify('/' + entry.path)}: extent ${ext.lba}+${sectorsFor(ext.sizeBytes)} beyond the end of the image (${this.imageSectors} sectors)`);
      }
      for (let done = 0; done < ext.sizeBytes; ) {
        this.checkAborted(opts.signal ?? this.signal);
        const n = Math.min(chunkBytes, ext.sizeBytes - done);
        const data = await this.readExact(start + done, n, `${JSON.stringify('/' + entry.path)} at LBA ${ext.lba}`);
        yield { offsetBytes, data };
        done += n;
        offsetBytes += n;
      }
    }
  }

  // --- helpers ------------------------------------------------------------------------------

  /** ECMA-119 9.1.3/9.1.4: an extent must lie inside the image. */
  private checkExtent(r: RawRecord, isDirectory: boolean): void {
    if (r.sizeBytes === 0 && !isDirectory) return; // empty files: the location is meaningless (often 0)
    const lba = r.extentLba + r.xarBlocks;
    const sectors = sectorsFor(r.sizeBytes);
    if (lba * SECTOR_BYTES + (isDirectory ? sectors * SECTOR_BYTES : r.sizeBytes) > this.source.sizeBytes) {
      throw new DataLoss(`${r.where}: extent ${lba}+${sectors} beyond the end of the image (${this.imageSectors} sectors)`);
    }
  }

  private async readExact(position: number, length: number, what: string): Promise<Buffer> {
    if (position + length > this.source.sizeBytes) {
      throw new DataLoss(`${what}: bytes ${position}-${position + length} beyond the end of the image (${this.source.sizeBytes} bytes)`);
    }
    const buf = await this.source.read(position, length);
    if (buf.length !== length) throw new DataLoss(`${what}: short read at byte ${position} (${buf.length} of ${length} bytes): the image is truncated`);
    return buf;
  }

  private checkAborted(signal: AbortSignal | undefined): void {
    if (signal?.aborted === true) throw new Cancelled('reading the image was cancelled', { cause: signal.reason });
  }
}

/** ECMA-119 9.1: a directory record's fixed fields. `room` is how many bytes the record may span. */
function parseRecord(rec: Buffer, where: string, room: number): RawRecord {
  const len = rec[0]!;
  if (len < 34) throw new DataLoss(`${where}: record length ${len} is below the minimum of 34`);
  if (len > room || rec.length < len) throw new DataLoss(`${where}: record length ${len} overruns the sector (${room} bytes left)`);
  const idLen = rec[32]!;
  if (idLen === 0) throw new DataLoss(`${where}: empty file identifier`);
  if (33 + idLen > len) throw new DataLoss(`${where}: file identifier of ${idLen} bytes overruns the record (${len} bytes)`);
  // ECMA-119 9.1.12: a pad byte follows identifiers of even length; system use starts after it.
  const suStart = 33 + idLen + (idLen % 2 === 0 ? 1 : 0);
  return {
    where,
    extentLba: rec.readUInt32LE(2),
    xarBlocks: rec[1]!,
    sizeBytes: rec.readUInt32LE(10),
    flags: rec[25]!,
    interleaved: rec[26] !== 0 || rec[27] !== 0,
    recordedMs: decodeRecordDate(rec, 18),
    id: rec.subarray(33, 33 + idLen),
    systemUse: rec.subarray(Math.min(suStart, len), len),
  };
}

/** ECMA-119 6.8.1.1: records never span sectors; a zero length byte pads to the sector's end. */
function parseSectorRecords(sector: Buffer, lba: number, usableBytes: number): RawRecord[] {
  const out: RawRecord[] = [];
  let offset = 0;
  while (offset < usableBytes) {
    const len = sector[offset]!;
    if (len === 0) break;
    out.push(parseRecord(sector.subarray(offset), `directory record at LBA ${lba} offset ${offset}`, SECTOR_BYTES - offset));
    offset += len;
  }
  return out;
}

function isDotId(id: Buffer, byte: 0 | 1): boolean {
  return id.length === 1 && id[0] === byte;
}

/**
 * ECMA-119 6.5.1: a file may have several extents, each in its own record with the same identifier;
 * all but the last carry the multi-extent flag (9.1.6 bit 7).
 */
function multiExtentGroups(records: readonly RawRecord[], label: string): RawRecord[][] {
  const groups: RawRecord[][] = [];
  let cur: RawRecord[] = [];
  for (const r of records) {
    if (isDotId(r.id, 0) || isDotId(r.id, 1)) throw new DataLoss(`${r.where}: a "." or ".." record after the first two of ${label}`);
    if (cur.length > 0 && !cur[0]!.id.equals(r.id)) {
      throw new DataLoss(`${cur[0]!.where}: multi-extent file continues with a record of another name (${r.where})`);
    }
    cur.push(r);
    if ((r.flags & FLAG_MULTI_EXTENT) !== 0) {
      if ((r.flags & FLAG_DIRECTORY) !== 0) throw new DataLoss(`${r.where}: a directory with the multi-extent flag`);
      continue;
    }
    groups.push(cur);
    cur = [];
  }
  if (cur.length > 0) throw new DataLoss(`${cur[0]!.where}: multi-extent file without its final extent in ${label}`);
  return groups;
}

/**
 * Plain ECMA-119 names the way Linux's map=normal shows them: without the `;1` version (7.5.1),
 * without the '.' a name without extension keeps (`README.` -> `readme`), in lower case.
 * Non-conforming writers put UTF-8 in identifiers; it is kept when it decodes.
 */
function plainName(id: Buffer): string {
  let s = decodeUtf8OrLatin1(id);
  s = s.replace(/;[0-9]*$/, '');
  if (s.length > 1 && s.endsWith('.')) s = s.slice(0, -1);
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/**
 * Joliet: UCS-2 big-endian (UTF-16 pairs decode as such), the `;1` version stripped. Trailing dots
 * are kept: genisoimage and xorriso record `a.` as `a.;1` beside `a;1`, and dropping the dot (as
 * Linux does) would merge two files.
 */
function jolietName(id: Buffer): string {
  return wellFormed(decodeUtf16Be(id)).replace(/;[0-9]*$/, '');
}

function decodeUtf8OrLatin1(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/** Replace lone UTF-16 surrogates with U+FFFD, so every name is valid Unicode (and UTF-8). */
function wellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** Every path component must be a name a POSIX file system can hold in one directory. */
function checkName(name: string, where: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new DataLoss(`${where}: invalid file name ${JSON.stringify(name)}`);
  }
}

/** A-/d-character fields (ECMA-119 7.4), space padded. */
function text(vd: Buffer, offset: number, length: number): string {
  return vd.toString('latin1', offset, offset + length).replace(/[\s\0]+$/, '');
}

function optional<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}

function finiteMs(ms: number): number {
  return Number.isFinite(ms) ? ms : 0;
}
