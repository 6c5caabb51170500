// SUSP (IEEE P1281) and RRIP (IEEE P1282, "RRIP_1991A" and 1.12) system use entries, decoded.
// The reader hands every system use area of one directory record (the inline one, then each
// continuation area in chain order) to `decodeSystemUseArea`, which accumulates the fields into
// one `RockRidgeFields`. Nothing here does I/O: following a CE is the reader's job, so that it can
// enforce loop detection and limits in one place.
import { DataLoss } from '../../lib/errors.js';
import { decodeRecordDate } from './ecma119.js';

/** SUSP 5.3 SP check bytes. */
const SP_CHECK = [0xbe, 0xef] as const;

/** RRIP 4.1.4 NM flags. */
const NM_CONTINUE = 0x01;
const NM_CURRENT = 0x02;
const NM_PARENT = 0x04;

/** RRIP 4.1.3.1 SL component record flags. */
const COMP_CONTINUE = 0x01;
const COMP_CURRENT = 0x02;
const COMP_PARENT = 0x04;
const COMP_ROOT = 0x08;
const COMP_VOLROOT = 0x10;
const COMP_HOST = 0x20;

/** RRIP 4.1.6 TF flags: which time stamps follow, in this bit order. */
const TF_CREATION = 0x01;
const TF_MODIFY = 0x02;
const TF_LONG_FORM = 0x80;

/** ER identifiers that announce Rock Ridge (RRIP 1991A, 1.10 draft, 1.12 = IEEE 1282). */
export const RRIP_EXTENSION_IDS: ReadonlySet<string> = new Set(['RRIP_1991A', 'IEEE_P1282', 'IEEE_1282']);

/** SUSP 5.1 CE: where the next continuation area of this record's system use is. */
export interface Continuation {
  readonly lba: number;
  readonly offset: number;
  readonly lengthBytes: number;
}

export interface PosixAttributes {
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  /** RRIP 1.12 PX file serial number (the 44-byte form), when present. */
  readonly ino?: number;
}

/** Everything the reader needs from one record's SUSP/RRIP entries. Mutable while decoding. */
export interface RockRidgeFields {
  /** SUSP 5.3 SP: present in the root directory's "." record only; carries LEN_SKP. */
  sp: { readonly skipBytes: number } | undefined;
  /** SUSP 5.5 ER identifiers. */
  readonly extensionIds: string[];
  /** Any RRIP entry seen (PX, PN, SL, NM, CL, PL, RE, TF, SF, RR). */
  hasRripEntries: boolean;
  px: PosixAttributes | undefined;
  /** RRIP 4.1.4 NM content, concatenated over CONTINUE; undefined when there is no NM. */
  nameBytes: Buffer | undefined;
  /** NM with CURRENT or PARENT: the record claims to be "." or "..". */
  nameIsDotOrDotDot: boolean;
  /** NM CONTINUE set on the last NM seen: the next NM continues the name. */
  nameContinues: boolean;
  symlink: SymlinkBuilder | undefined;
  /** TF modify time (ms since the epoch), when recorded. */
  modifyMs: number | undefined;
  /** RRIP 4.1.5.1 CL: this record stands for a directory relocated to this extent. */
  childLinkLba: number | undefined;
  /** RRIP 4.1.5.2 PL: in a relocated directory's "..", the original parent's extent. */
  parentLinkLba: number | undefined;
  /** RRIP 4.1.5.3 RE: this record is the relocated directory itself; readers hide it. */
  relocated: boolean;
}

export function emptyRockRidgeFields(): RockRidgeFields {
  return {
    sp: undefined,
    extensionIds: [],
    hasRripEntries: false,
    px: undefined,
    nameBytes: undefined,
    nameIsDotOrDotDot: false,
    nameContinues: false,
    symlink: undefined,
    modifyMs: undefined,
    childLinkLba: undefined,
    parentLinkLba: undefined,
    relocated: false,
  };
}

export interface DecodeLimits {
  /** NAME_MAX: longer NM names cannot be created on a POSIX file system. */
  readonly maxNameBytes: number;
  readonly maxSymlinkTargetBytes: number;
}

/**
 * Decode one system use area (SUSP 4: a sequence of entries, each `sig(2) len(1) version(1) data`)
 * into `fields`. Returns the area's CE, if any. `where` names the area for error messages.
 */
export function decodeSystemUseArea(area: Buffer, where: string, fields: RockRidgeFields, limits: DecodeLimits): Continuation | undefined {
  let ce: Continuation | undefined;
  let at = 0;
  // SUSP 4: fewer than 4 bytes left is padding (records are even-sized, areas may end in a pad byte).
  while (at + 4 <= area.length) {
    const len = area[at + 2]!;
    // A zero-length "entry" or NUL signature is padding up to the end of the area, as Linux treats it.
    if (len < 4 || (area[at] === 0 && area[at + 1] === 0)) break;
    if (at + len > area.length) {
      throw new DataLoss(`${where}: system use entry ${sigText(area, at)} (${len} bytes) at byte ${at} overruns its area of ${area.length} bytes`);
    }
    const e = area.subarray(at, at + len);
    const here = `${where}: ${sigText(area, at)} entry at byte ${at}`;
    switch (e.toString('latin1', 0, 2)) {
      case 'CE': // SUSP 5.1
        need(e, 28, here);
        if (ce !== undefined) throw new DataLoss(`${here}: a second CE in one system use area`);
        ce = { lba: e.readUInt32LE(4), offset: e.readUInt32LE(12), lengthBytes: e.readUInt32LE(20) };
        break;
      case 'ST': // SUSP 5.4: stop here, ignore the rest of this area.
        return ce;
      case 'SP': // SUSP 5.3
        need(e, 7, here);
        if (e[4] === SP_CHECK[0] && e[5] === SP_CHECK[1]) fields.sp = { skipBytes: e[6]! };
        break;
      case 'ER': // SUSP 5.5
        fields.extensionIds.push(decodeErId(e, here));
        break;
      case 'PX': // RRIP 4.1.1: 36 bytes (1991A / 1.10) or 44 bytes with the file serial number (1.12)
        need(e, 36, here);
        fields.hasRripEntries = true;
        fields.px = {
          mode: e.readUInt32LE(4),
          nlink: e.readUInt32LE(12),
          uid: e.readUInt32LE(20),
          gid: e.readUInt32LE(28),
          ...(len >= 44 ? { ino: e.readUInt32LE(36) } : {}),
        };
        break;
      case 'NM': // RRIP 4.1.4
        need(e, 5, here);
        fields.hasRripEntries = true;
        decodeNm(e, here, fields, limits);
        break;
      case 'SL': // RRIP 4.1.3
        need(e, 5, here);
        fields.hasRripEntries = true;
        fields.symlink ??= new SymlinkBuilder(limits.maxSymlinkTargetBytes);
        fields.symlink.add(e, here);
        break;
      case 'TF': // RRIP 4.1.6
        need(e, 5, here);
        fields.hasRripEntries = true;
        fields.modifyMs = decodeTfModify(e, here) ?? fields.modifyMs;
        break;
      case 'CL': // RRIP 4.1.5.1
        need(e, 12, here);
        fields.hasRripEntries = true;
        fields.childLinkLba = e.readUInt32LE(4);
        break;
      case 'PL': // RRIP 4.1.5.2
        need(e, 12, here);
        fields.hasRripEntries = true;
        fields.parentLinkLba = e.readUInt32LE(4);
        break;
      case 'RE': // RRIP 4.1.5.3
        fields.hasRripEntries = true;
        fields.relocated = true;
        break;
      case 'PN': // RRIP 4.1.2 device numbers: devices are not extracted
      case 'RR': // RRIP 1.09 "which fields are present" flags, written by genisoimage: informative only
      case 'SF': // RRIP 1.12 sparse file: not written by the tools we read
        fields.hasRripEntries = true;
        break;
      default: // PD (SUSP 5.2 padding), ES (5.6), AAIP (AL/AA) and unknown extensions: skipped
        break;
    }
    at += len;
  }
  return ce;
}

function sigText(area: Buffer, at: number): string {
  const a = area[at] ?? 0;
  const b = area[at + 1] ?? 0;
  const printable = (c: number): boolean => c >= 0x20 && c < 0x7f;
  return printable(a) && printable(b) ? String.fromCharCode(a, b) : `0x${a.toString(16).padStart(2, '0')}${b.toString(16).padStart(2, '0')}`;
}

function need(e: Buffer, bytes: number, where: string): void {
  if (e.length < bytes) throw new DataLoss(`${where}: ${e.length} bytes, at least ${bytes} expected`);
}

/** SUSP 5.5 ER: LEN_ID, LEN_DES, LEN_SRC, EXT_VER, then the three texts. */
function decodeErId(e: Buffer, where: string): string {
  need(e, 8, where);
  const idLen = e[4]!;
  const total = 8 + idLen + e[5]! + e[6]!;
  if (total > e.length) throw new DataLoss(`${where}: identifier, description and source (${total - 8} bytes) overrun the entry (${e.length} bytes)`);
  return e.toString('latin1', 8, 8 + idLen);
}

function decodeNm(e: Buffer, where: string, fields: RockRidgeFields, limits: DecodeLimits): void {
  const flags = e[4]!;
  // RRIP 4.1.4: CURRENT/PARENT say the name is "." or ".."; a record that is neither must not claim it.
  if ((flags & (NM_CURRENT | NM_PARENT)) !== 0) fields.nameIsDotOrDotDot = true;
  const piece = e.subarray(5);
  // A second NM without CONTINUE on the one before is concatenated too, as Linux does.
  const next = fields.nameBytes === undefined ? Buffer.from(piece) : Buffer.concat([fields.nameBytes, piece]);
  if (next.length > limits.maxNameBytes) throw new DataLoss(`${where}: Rock Ridge name longer than ${limits.maxNameBytes} bytes`);
  fields.nameBytes = next;
  fields.nameContinues = (flags & NM_CONTINUE) !== 0;
}

/** The TF modify stamp: stamps follow in flag-bit order, 7 bytes each or 17 with LONG_FORM. */
function decodeTfModify(e: Buffer, where: string): number | undefined {
  const flags = e[4]!;
  const stampBytes = (flags & TF_LONG_FORM) !== 0 ? 17 : 7;
  let count = 0;
  for (let bit = 0; bit < 7; bit++) if ((flags & (1 << bit)) !== 0) count++;
  need(e, 5 + count * stampBytes, where);
  if ((flags & TF_MODIFY) === 0) return undefined;
  const at = 5 + ((flags & TF_CREATION) !== 0 ? stampBytes : 0);
  return stampBytes === 7 ? decodeRecordDate(e, at) : decodeLongDate(e, at);
}

/**
 * ECMA-119 8.4.26.1: "YYYYMMDDHHMMSScc" in ASCII digits plus a signed offset from GMT in 15-minute
 * units. Returns undefined for "not specified" (all zeros) or anything that is not digits.
 */
export function decodeLongDate(bytes: Uint8Array, offset: number): number | undefined {
  const digits: number[] = [];
  for (let i = 0; i < 16; i++) {
    const c = bytes[offset + i] ?? 0;
    if (c < 0x30 || c > 0x39) return undefined;
    digits.push(c - 0x30);
  }
  const num = (from: number, n: number): number => digits.slice(from, from + n).reduce((v, d) => v * 10 + d, 0);
  const year = num(0, 4);
  if (year === 0) return undefined;
  const tz = ((bytes[offset + 16] ?? 0) << 24) >> 24;
  const ms = Date.UTC(year, num(4, 2) - 1, num(6, 2), num(8, 2), num(10, 2), num(12, 2), num(14, 2) * 10);
  return ms - tz * 15 * 60_000;
}

/**
 * RRIP 4.1.3 SL: component records (flags, length, content) spread over one or more SL entries.
 * A component with CONTINUE goes on in the next component record, even across SL entries. The SL
 * entry's own CONTINUE flag needs no state: every SL entry of a record adds to the same target.
 */
export class SymlinkBuilder {
  private readonly components: string[] = [];
  private pending: Buffer[] = [];
  private pendingOpen = false;
  private absolute = false;
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  add(e: Buffer, where: string): void {
    let at = 5;
    while (at < e.length) {
      if (at + 2 > e.length) throw new DataLoss(`${where}: component record header at byte ${at} overruns the entry`);
      const flags = e[at]!;
      const len = e[at + 1]!;
      if (at + 2 + len > e.length) throw new DataLoss(`${where}: component of ${len} bytes at byte ${at} overruns the entry (${e.length} bytes)`);
      const content = e.subarray(at + 2, at + 2 + len);
      at += 2 + len;
      if ((flags & COMP_HOST) !== 0) throw new DataLoss(`${where}: symbolic link component with the HOST flag (not representable)`);
      if ((flags & (COMP_ROOT | COMP_VOLROOT)) !== 0) {
        // ROOT may only start a target: "/" in the middle would be a different path.
        if (this.components.length > 0 || this.pendingOpen) throw new DataLoss(`${where}: ROOT component in the middle of a symbolic link`);
        this.absolute = true;
        continue;
      }
      if ((flags & COMP_CURRENT) !== 0) this.push(Buffer.from('.'), false, where);
      else if ((flags & COMP_PARENT) !== 0) this.push(Buffer.from('..'), false, where);
      else this.push(content, (flags & COMP_CONTINUE) !== 0, where);
    }
  }

  private push(piece: Buffer, more: boolean, where: string): void {
    // Count exactly what target() returns: a '/' before every component but the first (or before
    // the first too, for absolute targets), none inside a continued component.
    const separator = this.pending.length === 0 && (this.components.length > 0 || this.absolute) ? 1 : 0;
    this.bytes += piece.length + separator;
    if (this.bytes > this.maxBytes) throw new DataLoss(`${where}: symbolic link target longer than ${this.maxBytes} bytes`);
    if (piece.includes(0)) throw new DataLoss(`${where}: symbolic link target contains a NUL byte`);
    this.pending.push(piece);
    this.pendingOpen = more;
    if (!more) {
      this.components.push(Buffer.concat(this.pending).toString('utf8'));
      this.pending = [];
    }
  }

  /** The target as a path; a trailing continued component is taken as complete. */
  target(): string {
    const parts = [...this.components];
    if (this.pending.length > 0) parts.push(Buffer.concat(this.pending).toString('utf8'));
    const body = parts.join('/');
    return this.absolute ? `/${body}` : body;
  }
}
