// ISO 9660 image writer: ECMA-119 primary tree with Rock Ridge (SUSP/RRIP 1991A), a Joliet tree,
// L and M path tables for both, and file data shared by the two trees.
//
// Layout (sectors of 2048 bytes):
//   0-15 system area (zero) | 16 PVD | 17 Joliet SVD | terminator | file data
//   | path tables (L, M per tree) | primary directories | Joliet directories | SUSP continuation areas
//
// File data comes first so its place is known before the hierarchies are planned: an adapter can
// copy it while the metadata is encoded (planIso). The metadata is encoded in memory (it grows
// with the number of entries, not their size); file content is streamed through a few reused
// window buffers, and all-zero windows are skipped so sparse input stays sparse (file-data.ts). Output is a pure
// function of the tree and the options: children are sorted, times are clamped to
// SOURCE_DATE_EPOCH, and nothing depends on the order the file system lists.
//
// Deep directories are recorded in place, not relocated to rr_moved: ECMA-119 6.8.2.1's depth
// limit of 8 is waived the way mkisofs -D and libisofs' allow_deep_paths do; Linux, xorriso and
// libarchive read such trees.
import { InvalidArgument, OutOfRange } from '../../lib/errors.js';
import {
  DIR_RECORD_BASE_BYTES, DIR_RECORD_MAX_BYTES, FIRST_DESCRIPTOR_LBA, FLAG_DIRECTORY, SECTOR_BYTES, STANDARD_ID,
  VD_PRIMARY, VD_SUPPLEMENTARY, VD_TERMINATOR, encodeRecordDate, encodeUtf16Be, encodeVolumeDate, sectorsFor,
  writeBoth16, writeBoth32, writePadded, writePaddedUcs2,
} from './ecma119.js';
import { dataWindows, writeDataWindows, type DataExtent, type DataWindow } from './file-data.js';
import { formatJoliet, formatPrimary, jolietIdentifier, jolietMaxBase, primaryIdentifier, primaryMaxBase, uniquify } from './names.js';
import { ceEntry, erEntry, layoutSusp, nmEntries, pxEntry, slEntries, spEntry, suspBytes, tfEntry, type SuspLayout } from './rrip-encode.js';
import { S_IFDIR, S_IFLNK, S_IFREG } from './types.js';

/** Largest file one extent can hold (ECMA-119 9.1.4: a 32-bit data length). */
export const MAX_FILE_BYTES = 0xffff_ffff;

interface SourceNodeBase {
  readonly name: string;
  /** Permission bits (mode & 0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtimeMs: number;
}
export interface SourceFile extends SourceNodeBase {
  readonly type: 'file';
  readonly sizeBytes: number;
  /** In-memory content (seed files); otherwise the writer asks `openContent`. */
  readonly data?: Uint8Array;
  /** Opaque to the writer: where `openContent` finds the bytes (a path, for the fs adapter). */
  readonly source?: string;
  /** Files with the same key are hard links to one inode: one extent, nlink = their count. */
  readonly linkKey?: string;
}
export interface SourceDirectory extends SourceNodeBase {
  readonly type: 'directory';
  readonly children: readonly SourceNode[];
}
export interface SourceSymlink extends SourceNodeBase {
  readonly type: 'symlink';
  readonly target: string;
}
export type SourceNode = SourceFile | SourceDirectory | SourceSymlink;

export interface ContentReader {
  /** Like fs.read: returns the number of bytes read, 0 at end of file. */
  read(buf: Buffer, offset: number, length: number, position: number): Promise<number>;
  close(): Promise<void>;
}

export interface ImageSink {
  write(data: Buffer, position: number): Promise<void>;
}

export interface IsoWriteOptions {
  /** Volume identifier, recorded as given (cloud-init's `cidata` is lower case, as cloud-localds writes it). */
  readonly volumeId: string;
  readonly systemId?: string;
  readonly publisherId?: string;
  readonly preparerId?: string;
  readonly applicationId?: string;
  readonly joliet?: boolean;
  readonly rockRidge?: boolean;
  /** SOURCE_DATE_EPOCH (seconds): the volume dates, and an upper bound for every recorded time. */
  readonly sourceDateEpoch?: number;
  /** The build time when there is no SOURCE_DATE_EPOCH. */
  readonly nowMs?: number;
  readonly openContent?: (file: SourceFile) => Promise<ContentReader>;
  readonly signal?: AbortSignal;
  /** File-data windows in flight at once (file-data.ts). */
  readonly concurrency?: number;
}

export interface IsoWriteResult {
  readonly sizeBytes: number;
  readonly sectors: number;
  readonly files: number;
  readonly directories: number;
  readonly symlinks: number;
}

type TreeKind = 'primary' | 'joliet';

interface RecordPlan {
  /** Directory record's file identifier bytes: 0x00 for ".", 0x01 for "..". */
  readonly id: Buffer;
  readonly node: SourceNode;
  readonly susp: SuspLayout | undefined;
  readonly lengthBytes: number;
  /** Filled when continuation areas get their places: one per area. */
  ce: { lba: number; offset: number; length: number }[];
  /** The plan of the directory this record names ("." and ".." excluded). */
  dir?: DirPlan;
}

interface DirPlan {
  readonly node: SourceDirectory;
  readonly parent: DirPlan | undefined;
  /** Path-table identifier (primary: d-characters; Joliet: UCS-2). */
  readonly id: Buffer;
  readonly records: RecordPlan[];
  /** Child directory plans in record order. */
  readonly subdirs: DirPlan[];
  sizeBytes: number;
  lba: number;
  /** Path table directory number (1 = root). */
  number: number;
}

/**
 * An image planned in two steps. The file data's place is fixed first: it starts right after the
 * volume descriptors, in tree order, so copying it can begin (dataExtents, dataWindows) while the directory
 * hierarchies, which cost CPU per entry, are still being planned and encoded (encodeMetadata).
 * ECMA-119 sets no order among extents; path tables and directories simply follow the data.
 */
export interface IsoPlan {
  /** Every file with content, where it goes, in image order: for copiers that go file by file. */
  readonly dataExtents: readonly DataExtent[];
  /** The same content as fixed windows of the image in image order (file-data.ts), computed on call. */
  dataWindows(): readonly DataWindow[];
  /** Plan the hierarchies and encode all metadata: each chunk's bytes and where they go. */
  encodeMetadata(): { readonly chunks: readonly { position: number; data: Buffer }[]; readonly result: IsoWriteResult };
}

export function planIso(root: SourceDirectory, opts: Omit<IsoWriteOptions, 'openContent' | 'signal'>): IsoPlan {
  const rockRidge = opts.rockRidge ?? true;
  const joliet = opts.joliet ?? true;
  const sdeMs = opts.sourceDateEpoch === undefined ? undefined : opts.sourceDateEpoch * 1000;
  const volumeMs = sdeMs ?? opts.nowMs ?? Date.now();
  const clampMs = (ms: number): number => (sdeMs !== undefined && ms > sdeMs ? sdeMs : ms);

  validateVolumeId(opts.volumeId);
  const stats = checkTree(root);
  const descriptors = joliet ? 3 : 2;

  // --- file data: depth-first in name order, hard links sharing one extent ---------------------
  let lba = FIRST_DESCRIPTOR_LBA + descriptors;
  const extents = new Map<SourceFile, number>();
  const byLink = new Map<string, number>();
  const order: SourceFile[] = [];
  const placeFiles = (d: SourceDirectory): void => {
    for (const c of sortedChildren(d)) {
      if (c.type === 'directory') {
        placeFiles(c);
        continue;
      }
      if (c.type !== 'file') continue;
      const linked = c.linkKey === undefined ? undefined : byLink.get(c.linkKey);
      if (linked !== undefined) {
        extents.set(c, linked);
        continue;
      }
      // ECMA-119 leaves an empty file's extent unspecified; 0 with length 0 is what readers expect.
      const at = c.sizeBytes === 0 ? 0 : lba;
      extents.set(c, at);
      if (c.linkKey !== undefined) byLink.set(c.linkKey, at);
      if (c.sizeBytes > 0) order.push(c);
      lba += sectorsFor(c.sizeBytes);
    }
  };
  placeFiles(root);
  const dataEndLba = lba;

  const encodeMetadata = (): { chunks: { position: number; data: Buffer }[]; result: IsoWriteResult } => {
    const plan = new Planner(rockRidge, clampMs);
    const primary = plan.buildTree(root, 'primary');
    const jolietTree = joliet ? plan.buildTree(root, 'joliet') : undefined;

    // --- sector allocation after the data --------------------------------------------------
    let at = dataEndLba;
    const primaryDirs = breadthFirst(primary);
    const jolietDirs = jolietTree === undefined ? [] : breadthFirst(jolietTree);
    const pathTables = { primary: pathTableBytes(primaryDirs), joliet: pathTableBytes(jolietDirs) };
    const ptLba = { primaryL: 0, primaryM: 0, jolietL: 0, jolietM: 0 };
    ptLba.primaryL = at; at += sectorsFor(pathTables.primary);
    ptLba.primaryM = at; at += sectorsFor(pathTables.primary);
    if (joliet) {
      ptLba.jolietL = at; at += sectorsFor(pathTables.joliet);
      ptLba.jolietM = at; at += sectorsFor(pathTables.joliet);
    }
    for (const d of [...primaryDirs, ...jolietDirs]) {
      d.lba = at;
      at += d.sizeBytes / SECTOR_BYTES;
    }
    // Continuation areas are packed into sectors in record order; an area never spans sectors.
    const ceStart = at;
    let ceSector = 0;
    let ceOffset = 0;
    for (const d of primaryDirs) {
      for (const r of d.records) {
        if (r.susp === undefined || r.susp.areas.length === 0) continue;
        for (const bytes of suspBytes(r.susp).areas) {
          if (ceOffset + bytes > SECTOR_BYTES) {
            ceSector++;
            ceOffset = 0;
          }
          r.ce.push({ lba: ceStart + ceSector, offset: ceOffset, length: bytes });
          ceOffset += bytes;
        }
      }
    }
    const totalSectors = ceStart + (ceOffset > 0 || ceSector > 0 ? ceSector + 1 : 0);

    // --- encode: descriptors in front of the data, the rest behind it -----------------------
    const front = Buffer.alloc((FIRST_DESCRIPTOR_LBA + descriptors) * SECTOR_BYTES);
    const back = Buffer.alloc((totalSectors - dataEndLba) * SECTOR_BYTES);
    const backBase = dataEndLba * SECTOR_BYTES;
    const vd = (n: number): Buffer => front.subarray((FIRST_DESCRIPTOR_LBA + n) * SECTOR_BYTES, (FIRST_DESCRIPTOR_LBA + n + 1) * SECTOR_BYTES);
    const descriptorFields = {
      volumeId: opts.volumeId,
      systemId: opts.systemId ?? 'LINUX',
      publisherId: opts.publisherId ?? '',
      preparerId: opts.preparerId ?? 'ATOMIC',
      applicationId: opts.applicationId ?? 'ATOMIC ISO 9660 WRITER',
      volumeMs,
      totalSectors,
    };
    encodeVolumeDescriptor(vd(0), 'primary', primary, pathTables.primary, ptLba.primaryL, ptLba.primaryM, descriptorFields, clampMs);
    if (jolietTree !== undefined) {
      encodeVolumeDescriptor(vd(1), 'joliet', jolietTree, pathTables.joliet, ptLba.jolietL, ptLba.jolietM, descriptorFields, clampMs);
    }
    const term = vd(descriptors - 1);
    term[0] = VD_TERMINATOR;
    term.write(STANDARD_ID, 1, 'latin1');
    term[6] = 1;

    encodePathTables(back, backBase, primaryDirs, ptLba.primaryL, ptLba.primaryM);
    if (joliet) encodePathTables(back, backBase, jolietDirs, ptLba.jolietL, ptLba.jolietM);
    const fileExtent = (n: SourceNode): { lba: number; size: number } =>
      n.type === 'file' ? { lba: extents.get(n) ?? 0, size: n.sizeBytes } : { lba: 0, size: 0 };
    for (const dirs of [primaryDirs, jolietDirs]) {
      for (const d of dirs) encodeDirectory(back, backBase, d, fileExtent, clampMs);
    }
    return {
      chunks: [{ position: 0, data: front }, { position: backBase, data: back }],
      result: { sizeBytes: totalSectors * SECTOR_BYTES, sectors: totalSectors, ...stats },
    };
  };

  return {
    dataExtents: order.map((file) => ({ file, imagePosition: extents.get(file)! * SECTOR_BYTES })),
    dataWindows: () => dataWindows(order, (f) => extents.get(f)!),
    encodeMetadata,
  };
}

/** Plan, encode and write a whole image to `sink` (the in-memory and generic path). */
export async function writeIso(root: SourceDirectory, sink: ImageSink, opts: IsoWriteOptions): Promise<IsoWriteResult> {
  const plan = planIso(root, opts);
  const { chunks, result } = plan.encodeMetadata();
  for (const c of chunks) await sink.write(c.data, c.position);
  await writeDataWindows(plan.dataWindows(), sink, opts);
  return result;
}

/**
 * The whole image as one buffer, for small trees whose files all carry their data (seed media):
 * no sink, no file handles, nothing asynchronous. Byte-identical to writeIso's output.
 */
export function encodeIsoImage(root: SourceDirectory, opts: Omit<IsoWriteOptions, 'openContent' | 'signal'>): { readonly image: Buffer; readonly result: IsoWriteResult } {
  const plan = planIso(root, opts);
  const { chunks, result } = plan.encodeMetadata();
  const image = Buffer.alloc(result.sizeBytes);
  for (const c of chunks) image.set(c.data, c.position);
  for (const e of plan.dataExtents) {
    if (e.file.data === undefined) throw new InvalidArgument('encodeIsoImage: every file needs its data in memory (use writeIso)');
    image.set(e.file.data, e.imagePosition);
  }
  return { image, result };
}

/**
 * Children in byte order of their names: the one order every step that walks the tree uses.
 * Scanners usually list them sorted already; then the array is used as it is (no copy, no sort).
 */
function sortedChildren(d: SourceDirectory): readonly SourceNode[] {
  const c = d.children;
  let sorted = true;
  for (let i = 1; i < c.length && sorted; i++) sorted = c[i - 1]!.name < c[i]!.name;
  return sorted ? c : [...c].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function validateVolumeId(id: string): void {
  if (id.length === 0 || id.length > 32 || !/^[\x20-\x7e]+$/.test(id)) {
    throw new InvalidArgument(`volume label ${JSON.stringify(id)} must be 1-32 printable ASCII characters (ECMA-119 8.4.6)`);
  }
}

/** Names and sizes the writer can record, checked before anything is written. */
function checkTree(root: SourceDirectory): { files: number; directories: number; symlinks: number } {
  const stats = { files: 0, directories: 1, symlinks: 0 };
  const walk = (dir: SourceDirectory, path: string, depth: number): void => {
    const seen = new Set<string>();
    for (const c of dir.children) {
      const p = path === '' ? c.name : `${path}/${c.name}`;
      if (c.name === '' || c.name === '.' || c.name === '..' || c.name.includes('/') || c.name.includes('\0')) {
        throw new InvalidArgument(`${JSON.stringify(p)}: not a valid file name`);
      }
      if (Buffer.byteLength(c.name, 'utf8') > 255) throw new OutOfRange(`${p}: name longer than 255 bytes`);
      if (seen.has(c.name)) throw new InvalidArgument(`${p}: duplicate name`);
      seen.add(c.name);
      if (c.type === 'file') {
        stats.files++;
        if (c.sizeBytes > MAX_FILE_BYTES) throw new OutOfRange(`${p}: ${c.sizeBytes} bytes; an ISO 9660 file extent holds at most 4 GiB - 1`);
        if (c.data !== undefined && c.data.length !== c.sizeBytes) throw new InvalidArgument(`${p}: size does not match its data`);
      } else if (c.type === 'symlink') {
        stats.symlinks++;
      } else {
        stats.directories++;
        if (depth > 4096) throw new OutOfRange(`${p}: directory tree deeper than 4096 levels`);
        walk(c, p, depth + 1);
      }
    }
  };
  walk(root, '', 1);
  return stats;
}

class Planner {
  /** nlink per hard-link group, so PX records the links the image really has. */
  private readonly linkCounts = new Map<string, number>();

  constructor(
    private readonly rockRidge: boolean,
    private readonly clampMs: (ms: number) => number,
  ) {}

  buildTree(root: SourceDirectory, kind: TreeKind): DirPlan {
    if (kind === 'primary') this.countLinks(root);
    return this.buildDir(root, undefined, Buffer.from([0]), kind);
  }

  private countLinks(dir: SourceDirectory): void {
    for (const c of dir.children) {
      if (c.type === 'file' && c.linkKey !== undefined) this.linkCounts.set(c.linkKey, (this.linkCounts.get(c.linkKey) ?? 0) + 1);
      if (c.type === 'directory') this.countLinks(c);
    }
  }

  private buildDir(node: SourceDirectory, parent: DirPlan | undefined, id: Buffer, kind: TreeKind): DirPlan {
    const rr = kind === 'primary' && this.rockRidge;
    const parentNode = parent?.node ?? node;
    const dir: DirPlan = { node, parent, id, records: [], subdirs: [], sizeBytes: 0, lba: 0, number: 0 };
    const selfEntries = rr ? [...(parent === undefined ? [spEntry()] : []), ...this.attributeEntries(node), ...(parent === undefined ? [erEntry()] : [])] : [];
    dir.records.push(this.record(Buffer.from([0]), node, selfEntries, rr));
    dir.records.push(this.record(Buffer.from([1]), parentNode, rr ? this.attributeEntries(parentNode) : [], rr));

    const children = sortedChildren(node);
    const ids = identifiersFor(children, kind);
    // Sort keys are split once per identifier, not once per comparison.
    const order = children.map((c, i) => ({ c, id: ids[i]!, key: sortKey(ids[i]!) })).sort((a, b) => compareSortKeys(a.key, b.key));
    for (const { c, id: ident } of order) {
      const idBytes = kind === 'primary' ? Buffer.from(ident, 'latin1') : encodeUtf16Be(ident);
      const entries = rr ? [...this.attributeEntries(c), ...nmEntries(c.name), ...(c.type === 'symlink' ? slEntries(c.target) : [])] : [];
      const r = this.record(idBytes, c, entries, rr);
      dir.records.push(r);
      if (c.type === 'directory') {
        r.dir = this.buildDir(c, dir, idBytes, kind);
        dir.subdirs.push(r.dir);
      }
    }
    dir.sizeBytes = directoryBytes(dir.records);
    return dir;
  }

  /** PX and TF of a node; a directory's are needed three times (own ".", children's "..", parent's record). */
  private readonly attributes = new Map<SourceNode, Buffer[]>();

  private attributeEntries(n: SourceNode): Buffer[] {
    const cached = this.attributes.get(n);
    if (cached !== undefined) return cached;
    const type = n.type === 'directory' ? S_IFDIR : n.type === 'symlink' ? S_IFLNK : S_IFREG;
    let nlink = 1;
    if (n.type === 'directory') {
      nlink = 2;
      for (const c of n.children) if (c.type === 'directory') nlink++;
    } else if (n.type === 'file' && n.linkKey !== undefined) {
      nlink = this.linkCounts.get(n.linkKey) ?? 1;
    }
    const entries = [pxEntry(type | (n.mode & 0o7777), nlink, n.uid, n.gid), tfEntry(this.clampMs(n.mtimeMs), encodeRecordDate)];
    this.attributes.set(n, entries);
    return entries;
  }

  private record(id: Buffer, node: SourceNode, entries: Buffer[], rr: boolean): RecordPlan {
    const fixed = DIR_RECORD_BASE_BYTES + id.length + (id.length % 2 === 0 ? 1 : 0);
    const susp = rr ? layoutSusp(entries, DIR_RECORD_MAX_BYTES - fixed, SECTOR_BYTES) : undefined;
    let lengthBytes = fixed + (susp === undefined ? 0 : suspBytes(susp).inline);
    if (lengthBytes % 2 === 1) lengthBytes++; // keep records even-sized: SUSP readers expect it
    return { id, node, susp, lengthBytes, ce: [] };
  }
}

function identifiersFor(children: readonly SourceNode[], kind: TreeKind): string[] {
  const raw = children.map((c) => {
    const isDirectory = c.type === 'directory';
    return { ...(kind === 'primary' ? primaryIdentifier(c.name, isDirectory) : jolietIdentifier(c.name)), isDirectory };
  });
  return kind === 'primary'
    ? uniquify(raw, formatPrimary, primaryMaxBase, true)
    : uniquify(raw, formatJoliet, jolietMaxBase, false);
}

/**
 * ECMA-119 9.3: records ordered by name, then extension, each compared as if padded with spaces.
 * Joliet identifiers follow the same rule on their UCS-2 code units.
 */
function sortKey(identifier: string): readonly [string, string] {
  const bare = identifier.endsWith(';1') ? identifier.slice(0, -2) : identifier;
  const dot = bare.lastIndexOf('.');
  return dot < 0 ? [bare, ''] : [bare.slice(0, dot), bare.slice(dot + 1)];
}

function compareSortKeys(a: readonly [string, string], b: readonly [string, string]): number {
  return comparePadded(a[0], b[0]) || comparePadded(a[1], b[1]);
}

/** Compare code units as if the shorter string were padded with spaces (0x20). */
function comparePadded(x: string, y: string): number {
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const cx = i < x.length ? x.charCodeAt(i) : 0x20;
    const cy = i < y.length ? y.charCodeAt(i) : 0x20;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
  return 0;
}

/** ECMA-119 6.8.1.1: a directory record never spans a sector boundary. */
function directoryBytes(records: readonly RecordPlan[]): number {
  let sector = 0;
  let offset = 0;
  for (const r of records) {
    if (offset + r.lengthBytes > SECTOR_BYTES) {
      sector++;
      offset = 0;
    }
    offset += r.lengthBytes;
  }
  return (sector + 1) * SECTOR_BYTES;
}

/** ECMA-119 6.9.1: path table order is by level, then parent number, then identifier; breadth-first over sorted children gives exactly that. */
function breadthFirst(root: DirPlan): DirPlan[] {
  const out: DirPlan[] = [root];
  for (let i = 0; i < out.length; i++) out.push(...out[i]!.subdirs);
  out.forEach((d, i) => (d.number = i + 1));
  if (out.length > 0xffff) throw new OutOfRange(`${out.length} directories; ISO 9660 path tables number at most 65535`);
  return out;
}

function pathTableBytes(dirs: readonly DirPlan[]): number {
  return dirs.reduce((n, d) => n + 8 + d.id.length + (d.id.length % 2), 0);
}

/** `head` holds the image from byte `base` on. */
function encodePathTables(head: Buffer, base: number, dirs: readonly DirPlan[], lLba: number, mLba: number): void {
  let lo = lLba * SECTOR_BYTES - base;
  let mo = mLba * SECTOR_BYTES - base;
  for (const d of dirs) {
    const parentNumber = d.parent?.number ?? 1;
    for (const [off, le] of [[lo, true], [mo, false]] as const) {
      head[off] = d.id.length;
      head[off + 1] = 0;
      if (le) {
        head.writeUInt32LE(d.lba, off + 2);
        head.writeUInt16LE(parentNumber, off + 6);
      } else {
        head.writeUInt32BE(d.lba, off + 2);
        head.writeUInt16BE(parentNumber, off + 6);
      }
      d.id.copy(head, off + 8);
    }
    const len = 8 + d.id.length + (d.id.length % 2);
    lo += len;
    mo += len;
  }
}

function encodeDirectory(
  head: Buffer,
  base: number,
  d: DirPlan,
  fileExtent: (n: SourceNode) => { lba: number; size: number },
  clampMs: (ms: number) => number,
): void {
  let sector = 0;
  let offset = 0;
  d.records.forEach((r, i) => {
    if (offset + r.lengthBytes > SECTOR_BYTES) {
      sector++;
      offset = 0;
    }
    const at = (d.lba + sector) * SECTOR_BYTES + offset - base;
    // "." and ".." point at this directory and its parent; child directories at their own extent.
    const dirTarget = i === 0 ? d : i === 1 ? (d.parent ?? d) : r.dir;
    const extent = dirTarget !== undefined ? { lba: dirTarget.lba, size: dirTarget.sizeBytes } : fileExtent(r.node);
    encodeRecord(head, at, r, extent.lba, extent.size, dirTarget !== undefined, clampMs(r.node.mtimeMs));
    if (r.susp !== undefined) encodeContinuations(head, base, r);
    offset += r.lengthBytes;
  });
}

function encodeRecord(buf: Buffer, at: number, r: RecordPlan, lba: number, size: number, isDir: boolean, mtimeMs: number): void {
  buf[at] = r.lengthBytes;
  buf[at + 1] = 0;
  writeBoth32(buf, at + 2, lba);
  writeBoth32(buf, at + 10, size);
  encodeRecordDate(buf, at + 18, mtimeMs);
  buf[at + 25] = isDir ? FLAG_DIRECTORY : 0;
  writeBoth16(buf, at + 28, 1);
  buf[at + 32] = r.id.length;
  r.id.copy(buf, at + 33);
  if (r.susp === undefined) return;
  let o = at + DIR_RECORD_BASE_BYTES + r.id.length + (r.id.length % 2 === 0 ? 1 : 0);
  for (const e of r.susp.inline) o += e.copy(buf, o);
  const first = r.ce[0];
  if (first !== undefined) ceEntry(first.lba, first.offset, first.length).copy(buf, o);
}

function encodeContinuations(head: Buffer, base: number, r: RecordPlan): void {
  r.susp!.areas.forEach((area, k) => {
    const loc = r.ce[k]!;
    let o = loc.lba * SECTOR_BYTES + loc.offset - base;
    for (const e of area) o += e.copy(head, o);
    const next = r.ce[k + 1];
    if (next !== undefined) ceEntry(next.lba, next.offset, next.length).copy(head, o);
  });
}

interface DescriptorFields {
  readonly volumeId: string;
  readonly systemId: string;
  readonly publisherId: string;
  readonly preparerId: string;
  readonly applicationId: string;
  readonly volumeMs: number;
  readonly totalSectors: number;
}

/** ECMA-119 8.4 (PVD) and 8.5 (SVD); Joliet differs in type, escape sequences and UCS-2 text. */
function encodeVolumeDescriptor(
  b: Buffer,
  kind: TreeKind,
  root: DirPlan,
  pathTableSize: number,
  lLba: number,
  mLba: number,
  f: DescriptorFields,
  clampMs: (ms: number) => number,
): void {
  const text = kind === 'primary' ? writePadded : writePaddedUcs2;
  b[0] = kind === 'primary' ? VD_PRIMARY : VD_SUPPLEMENTARY;
  b.write(STANDARD_ID, 1, 'latin1');
  b[6] = 1;
  text(b, 8, 32, f.systemId);
  text(b, 40, 32, f.volumeId);
  writeBoth32(b, 80, f.totalSectors);
  if (kind === 'joliet') b.write('%/E', 88, 'latin1'); // UCS-2 level 3
  writeBoth16(b, 120, 1);
  writeBoth16(b, 124, 1);
  writeBoth16(b, 128, SECTOR_BYTES);
  writeBoth32(b, 132, pathTableSize);
  b.writeUInt32LE(lLba, 140);
  b.writeUInt32BE(mLba, 148);
  // Root directory record (34 bytes, identifier 0x00, no system use).
  const rootRecord: RecordPlan = { id: Buffer.from([0]), node: root.node, susp: undefined, lengthBytes: 34, ce: [] };
  encodeRecord(b, 156, rootRecord, root.lba, root.sizeBytes, true, clampMs(root.node.mtimeMs));
  text(b, 190, 128, f.volumeId);
  text(b, 318, 128, f.publisherId);
  text(b, 446, 128, f.preparerId);
  text(b, 574, 128, f.applicationId);
  text(b, 702, 37, '');
  text(b, 739, 37, '');
  text(b, 776, 37, '');
  encodeVolumeDate(b, 813, f.volumeMs);
  encodeVolumeDate(b, 830, f.volumeMs);
  encodeVolumeDate(b, 847, undefined);
  encodeVolumeDate(b, 864, undefined);
  b[881] = 1;
}
