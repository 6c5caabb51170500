// ISO 9660 image writer: ECMA-119 primary tree with Rock Ridge (SUSP/RRIP 1991A), a Joliet tree,
// L and M path tables for both, and file data shared by the two trees.
//
// Layout (sectors of 2048 bytes):
//   0-15 system area (zero) | 16 PVD | 17 Joliet SVD | terminator | path tables (L, M per tree)
//   | primary directories | Joliet directories | SUSP continuation areas | file data
//
// Everything before the file data is planned and encoded in memory (it grows with the number of
// entries, not their size); file content is streamed through two reused buffers, and all-zero
// chunks are skipped so sparse input stays sparse in the image (the sink is a file whose length is
// set at the end). Output is a pure function of the tree and the options: children are sorted,
// times are clamped to SOURCE_DATE_EPOCH, and nothing depends on the order the file system lists.
//
// Deep directories are recorded in place, not relocated to rr_moved: ECMA-119 6.8.2.1's depth
// limit of 8 is waived the way mkisofs -D and libisofs' allow_deep_paths do; Linux, xorriso and
// libarchive read such trees.
import { Cancelled, FailedPrecondition, InvalidArgument, OutOfRange } from '../../lib/errors.js';
import {
  DIR_RECORD_BASE_BYTES, DIR_RECORD_MAX_BYTES, FIRST_DESCRIPTOR_LBA, FLAG_DIRECTORY, SECTOR_BYTES, STANDARD_ID,
  VD_PRIMARY, VD_SUPPLEMENTARY, VD_TERMINATOR, encodeRecordDate, encodeUtf16Be, encodeVolumeDate, sectorsFor,
  writeBoth16, writeBoth32, writePadded, writePaddedUcs2,
} from './ecma119.js';
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

const CHUNK_BYTES = 1 << 20;

export async function writeIso(root: SourceDirectory, sink: ImageSink, opts: IsoWriteOptions): Promise<IsoWriteResult> {
  const rockRidge = opts.rockRidge ?? true;
  const joliet = opts.joliet ?? true;
  const sdeMs = opts.sourceDateEpoch === undefined ? undefined : opts.sourceDateEpoch * 1000;
  const volumeMs = sdeMs ?? opts.nowMs ?? Date.now();
  const clampMs = (ms: number): number => (sdeMs !== undefined && ms > sdeMs ? sdeMs : ms);

  validateVolumeId(opts.volumeId);
  const stats = checkTree(root);
  const plan = new Planner(rockRidge, clampMs);
  const primary = plan.buildTree(root, 'primary');
  const jolietTree = joliet ? plan.buildTree(root, 'joliet') : undefined;

  // --- sector allocation --------------------------------------------------------------------
  const descriptors = joliet ? 3 : 2;
  let lba = FIRST_DESCRIPTOR_LBA + descriptors;
  const primaryDirs = breadthFirst(primary);
  const jolietDirs = jolietTree === undefined ? [] : breadthFirst(jolietTree);
  const pathTables = { primary: pathTableBytes(primaryDirs), joliet: pathTableBytes(jolietDirs) };
  const ptLba = { primaryL: 0, primaryM: 0, jolietL: 0, jolietM: 0 };
  ptLba.primaryL = lba; lba += sectorsFor(pathTables.primary);
  ptLba.primaryM = lba; lba += sectorsFor(pathTables.primary);
  if (joliet) {
    ptLba.jolietL = lba; lba += sectorsFor(pathTables.joliet);
    ptLba.jolietM = lba; lba += sectorsFor(pathTables.joliet);
  }
  for (const d of [...primaryDirs, ...jolietDirs]) {
    d.lba = lba;
    lba += d.sizeBytes / SECTOR_BYTES;
  }
  // Continuation areas are packed into sectors in record order; an area never spans sectors.
  const ceStart = lba;
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
  lba = ceStart + (ceOffset > 0 || ceSector > 0 ? ceSector + 1 : 0);
  const metadataSectors = lba;

  // File data: in primary-tree order, hard links sharing one extent.
  const extents = new Map<SourceFile, number>();
  const byLink = new Map<string, number>();
  const order: SourceFile[] = [];
  const placeFiles = (d: DirPlan): void => {
    for (const r of d.records.slice(2)) {
      if (r.node.type !== 'file') continue;
      const f = r.node;
      const linked = f.linkKey === undefined ? undefined : byLink.get(f.linkKey);
      if (linked !== undefined) {
        extents.set(f, linked);
        continue;
      }
      // ECMA-119 leaves an empty file's extent unspecified; 0 with length 0 is what readers expect.
      const at = f.sizeBytes === 0 ? 0 : lba;
      extents.set(f, at);
      if (f.linkKey !== undefined) byLink.set(f.linkKey, at);
      if (f.sizeBytes > 0) order.push(f);
      lba += sectorsFor(f.sizeBytes);
    }
    for (const s of d.subdirs) placeFiles(s);
  };
  placeFiles(primary);
  const totalSectors = lba;

  // --- encode metadata ----------------------------------------------------------------------
  const head = Buffer.alloc(metadataSectors * SECTOR_BYTES);
  const vd = (n: number): Buffer => head.subarray((FIRST_DESCRIPTOR_LBA + n) * SECTOR_BYTES, (FIRST_DESCRIPTOR_LBA + n + 1) * SECTOR_BYTES);
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

  encodePathTables(head, primaryDirs, ptLba.primaryL, ptLba.primaryM);
  if (joliet) encodePathTables(head, jolietDirs, ptLba.jolietL, ptLba.jolietM);
  const fileExtent = (n: SourceNode): { lba: number; size: number } =>
    n.type === 'file' ? { lba: extents.get(n) ?? 0, size: n.sizeBytes } : { lba: 0, size: 0 };
  for (const dirs of [primaryDirs, jolietDirs]) {
    for (const d of dirs) encodeDirectory(head, d, fileExtent, clampMs);
  }

  await sink.write(head, 0);
  await writeFileData(order, extents, sink, opts);
  return {
    sizeBytes: totalSectors * SECTOR_BYTES,
    sectors: totalSectors,
    files: stats.files,
    directories: stats.directories,
    symlinks: stats.symlinks,
  };
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

    const children = [...node.children].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const ids = identifiersFor(children, kind);
    const order = children.map((c, i) => ({ c, id: ids[i]! })).sort((a, b) => compareIdentifiers(a.id, b.id));
    for (const { c, id: ident } of order) {
      const idBytes = kind === 'primary' ? Buffer.from(ident, 'latin1') : encodeUtf16Be(ident);
      const entries = rr ? [...this.attributeEntries(c), ...nmEntries(c.name), ...(c.type === 'symlink' ? slEntries(c.target) : [])] : [];
      dir.records.push(this.record(idBytes, c, entries, rr));
      if (c.type === 'directory') dir.subdirs.push(this.buildDir(c, dir, idBytes, kind));
    }
    dir.sizeBytes = directoryBytes(dir.records);
    return dir;
  }

  private attributeEntries(n: SourceNode): Buffer[] {
    const type = n.type === 'directory' ? S_IFDIR : n.type === 'symlink' ? S_IFLNK : S_IFREG;
    const nlink =
      n.type === 'directory'
        ? 2 + n.children.filter((c) => c.type === 'directory').length
        : n.type === 'file' && n.linkKey !== undefined
          ? (this.linkCounts.get(n.linkKey) ?? 1)
          : 1;
    return [pxEntry(type | (n.mode & 0o7777), nlink, n.uid, n.gid), tfEntry(this.clampMs(n.mtimeMs), encodeRecordDate)];
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
function compareIdentifiers(a: string, b: string): number {
  const split = (s: string): [string, string] => {
    const bare = s.replace(/;1$/, '');
    const dot = bare.lastIndexOf('.');
    return dot < 0 ? [bare, ''] : [bare.slice(0, dot), bare.slice(dot + 1)];
  };
  const padCompare = (x: string, y: string): number => {
    const n = Math.max(x.length, y.length);
    const xp = x.padEnd(n, ' ');
    const yp = y.padEnd(n, ' ');
    return xp < yp ? -1 : xp > yp ? 1 : 0;
  };
  const [an, ae] = split(a);
  const [bn, be] = split(b);
  return padCompare(an, bn) || padCompare(ae, be);
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

function encodePathTables(head: Buffer, dirs: readonly DirPlan[], lLba: number, mLba: number): void {
  let lo = lLba * SECTOR_BYTES;
  let mo = mLba * SECTOR_BYTES;
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
    const at = (d.lba + sector) * SECTOR_BYTES + offset;
    // "." and ".." point at this directory and its parent; child directories at their own extent.
    const dirTarget = i === 0 ? d : i === 1 ? (d.parent ?? d) : d.subdirs.find((s) => s.node === r.node);
    const extent = dirTarget !== undefined ? { lba: dirTarget.lba, size: dirTarget.sizeBytes } : fileExtent(r.node);
    encodeRecord(head, at, r, extent.lba, extent.size, dirTarget !== undefined, clampMs(r.node.mtimeMs));
    if (r.susp !== undefined) encodeContinuations(head, r);
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

function encodeContinuations(head: Buffer, r: RecordPlan): void {
  r.susp!.areas.forEach((area, k) => {
    const loc = r.ce[k]!;
    let o = loc.lba * SECTOR_BYTES + loc.offset;
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

async function writeFileData(order: readonly SourceFile[], extents: ReadonlyMap<SourceFile, number>, sink: ImageSink, opts: IsoWriteOptions): Promise<void> {
  // Two buffers: the next chunk is read while the previous one is being written.
  const bufs = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)] as const;
  const zero = Buffer.alloc(CHUNK_BYTES);
  let pending: Promise<void> = Promise.resolve();
  let k = 0;
  const queue = (chunk: Buffer, position: number): void => {
    const write = sink.write(chunk, position);
    write.catch(() => undefined); // awaited below; this only marks it handled meanwhile
    pending = pending.then(() => write);
  };
  for (const f of order) {
    checkAborted(opts.signal);
    const base = extents.get(f)! * SECTOR_BYTES;
    if (f.data !== undefined) {
      await pending;
      queue(Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength), base);
      continue;
    }
    if (opts.openContent === undefined) throw new InvalidArgument(`${f.name}: no content and no way to read it`);
    const reader = await opts.openContent(f);
    try {
      for (let pos = 0; pos < f.sizeBytes; ) {
        checkAborted(opts.signal);
        const buf = (k++ & 1) === 0 ? bufs[0] : bufs[1];
        const len = Math.min(CHUNK_BYTES, f.sizeBytes - pos);
        let got = 0;
        while (got < len) {
          const n = await reader.read(buf, got, len - got, pos + got);
          if (n === 0) break;
          got += n;
        }
        if (got < len) {
          throw new FailedPrecondition(`${f.source ?? f.name}: file shrank while the image was written (${f.sizeBytes} bytes expected)`, {
            subject: f.source,
          });
        }
        const chunk = buf.subarray(0, len);
        await pending; // the other buffer's write is done before this one is reused next round
        if (!chunk.equals(zero.subarray(0, len))) queue(chunk, base + pos);
        pos += len;
      }
    } finally {
      await reader.close();
    }
  }
  await pending;
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new Cancelled('writing the image was cancelled', { cause: signal.reason });
}
