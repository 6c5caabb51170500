// SUSP (IEEE P1281) and RRIP (IEEE P1282, "RRIP_1991A") system use entries, encoded.
// Every entry starts with a 2-byte signature, a length byte and a version byte (SUSP 4.1).
import { writeBoth32 } from './ecma119.js';

/** SUSP 5.3 SP: marks SUSP use; recorded first in the root directory's "." record. */
export function spEntry(): Buffer {
  return Buffer.from([0x53, 0x50, 7, 1, 0xbe, 0xef, 0]);
}

// RRIP 1991A identifiers for the ER entry (SUSP 5.5). The ID is what readers check.
const RRIP_ID = 'RRIP_1991A';
const RRIP_DESCRIPTION = 'THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS';
const RRIP_SOURCE = 'PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE. SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.';

export function erEntry(): Buffer {
  const id = Buffer.from(RRIP_ID, 'latin1');
  const des = Buffer.from(RRIP_DESCRIPTION, 'latin1');
  const src = Buffer.from(RRIP_SOURCE, 'latin1');
  const head = Buffer.from([0x45, 0x52, 8 + id.length + des.length + src.length, 1, id.length, des.length, src.length, 1]);
  return Buffer.concat([head, id, des, src]);
}

/** SUSP 5.1 CE: continuation area; 28 bytes, filled in once the area has a place. */
export const CE_BYTES = 28;
// Entries below are filled completely, so they may use Buffer.allocUnsafe's pooled memory: one
// ArrayBuffer per entry made planning large trees allocation-bound.
export function ceEntry(lba: number, offset: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(CE_BYTES);
  b[0] = 0x43; // 'C'
  b[1] = 0x45; // 'E'
  b[2] = CE_BYTES;
  b[3] = 1;
  writeBoth32(b, 4, lba);
  writeBoth32(b, 12, offset);
  writeBoth32(b, 20, length);
  return b;
}

/** RRIP 4.1.1 PX, the 36-byte RRIP 1991A form: mode, links, uid, gid. */
export function pxEntry(mode: number, nlink: number, uid: number, gid: number): Buffer {
  const b = Buffer.allocUnsafe(36);
  b[0] = 0x50; // 'P'
  b[1] = 0x58; // 'X'
  b[2] = 36;
  b[3] = 1;
  writeBoth32(b, 4, mode >>> 0);
  writeBoth32(b, 12, nlink >>> 0);
  writeBoth32(b, 20, uid >>> 0);
  writeBoth32(b, 28, gid >>> 0);
  return b;
}

const TF_MODIFY = 0x02;
const TF_ACCESS = 0x04;

/**
 * RRIP 4.1.6 TF with modify and access times (7-byte form, second precision). Access is recorded
 * as the modify time: the real atime changes whenever the source is read, and recording it would
 * make two builds of the same tree differ.
 */
export function tfEntry(mtimeMs: number, encodeDate: (buf: Buffer, offset: number, ms: number) => void): Buffer {
  const b = Buffer.allocUnsafe(5 + 2 * 7);
  b[0] = 0x54; // 'T'
  b[1] = 0x46; // 'F'
  b[2] = b.length;
  b[3] = 1;
  b[4] = TF_MODIFY | TF_ACCESS;
  encodeDate(b, 5, mtimeMs);
  b.copyWithin(12, 5, 12);
  return b;
}

/** Bytes of name or link text per entry; small enough that entries fit beside PX/TF in a record. */
const PIECE_BYTES = 200;
const NM_CONTINUE = 0x01;

/** RRIP 4.1.4 NM: the POSIX name, split into several entries with CONTINUE when long. */
export function nmEntries(name: string): Buffer[] {
  const length = Buffer.byteLength(name, 'utf8');
  if (length <= PIECE_BYTES) {
    // The usual case, one entry: header and name written into one buffer.
    const b = Buffer.allocUnsafe(5 + length);
    b[0] = 0x4e;
    b[1] = 0x4d;
    b[2] = 5 + length;
    b[3] = 1;
    b[4] = 0;
    b.write(name, 5, 'utf8');
    return [b];
  }
  const bytes = Buffer.from(name, 'utf8');
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += PIECE_BYTES) {
    const piece = bytes.subarray(i, i + PIECE_BYTES);
    const more = i + PIECE_BYTES < bytes.length;
    out.push(Buffer.concat([Buffer.from([0x4e, 0x4d, 5 + piece.length, 1, more ? NM_CONTINUE : 0]), piece]));
  }
  return out;
}

const SL_CONTINUE = 0x01;
const COMP_CONTINUE = 0x01;
const COMP_CURRENT = 0x02;
const COMP_PARENT = 0x04;
const COMP_ROOT = 0x08;
/** An SL entry is at most 255 bytes; keep room for its 5-byte header. */
const SL_BODY_MAX = 250;

/** RRIP 4.1.3 SL: a symlink target as component records, spread over entries as needed. */
export function slEntries(target: string): Buffer[] {
  const records: Buffer[] = [];
  const parts = target.split('/');
  if (target.startsWith('/')) records.push(Buffer.from([COMP_ROOT, 0]));
  for (const part of parts) {
    if (part === '') continue;
    if (part === '.') records.push(Buffer.from([COMP_CURRENT, 0]));
    else if (part === '..') records.push(Buffer.from([COMP_PARENT, 0]));
    else {
      const bytes = Buffer.from(part, 'utf8');
      for (let i = 0; i < bytes.length; i += PIECE_BYTES) {
        const piece = bytes.subarray(i, i + PIECE_BYTES);
        const more = i + PIECE_BYTES < bytes.length;
        records.push(Buffer.concat([Buffer.from([more ? COMP_CONTINUE : 0, piece.length]), piece]));
      }
    }
  }
  if (records.length === 0) records.push(Buffer.from([COMP_CURRENT, 0])); // "" or "/" alone handled above
  const entries: Buffer[][] = [[]];
  let used = 0;
  for (const r of records) {
    if (used + r.length > SL_BODY_MAX) {
      entries.push([]);
      used = 0;
    }
    entries[entries.length - 1]!.push(r);
    used += r.length;
  }
  return entries.map((recs, i) => {
    const body = Buffer.concat(recs);
    const more = i < entries.length - 1;
    return Buffer.concat([Buffer.from([0x53, 0x4c, 5 + body.length, 1, more ? SL_CONTINUE : 0]), body]);
  });
}

/**
 * Lay out a record's system use entries: as many as fit in the record itself, the rest in a chain
 * of continuation areas (SUSP 5.1), each at most one sector. CE entries are placeholders here; the
 * writer fills them once the areas have sectors.
 */
export interface SuspLayout {
  readonly inline: readonly Buffer[];
  /** Continuation areas in chain order; each but the last ends with a CE to the next. */
  readonly areas: readonly (readonly Buffer[])[];
}

export function layoutSusp(entries: readonly Buffer[], inlineBytes: number, areaBytes: number): SuspLayout {
  const chunks: Buffer[][] = [];
  let i = 0;
  let capacity = inlineBytes;
  while (true) {
    const cur: Buffer[] = [];
    let rest = 0;
    for (let j = i; j < entries.length; j++) rest += entries[j]!.length;
    if (rest <= capacity) {
      cur.push(...entries.slice(i));
      chunks.push(cur);
      break;
    }
    let used = 0;
    while (i < entries.length && used + entries[i]!.length <= capacity - CE_BYTES) {
      used += entries[i]!.length;
      cur.push(entries[i]!);
      i++;
    }
    chunks.push(cur);
    capacity = areaBytes;
  }
  const [inline = [], ...areas] = chunks;
  return { inline, areas };
}

export function suspBytes(layout: SuspLayout): { inline: number; areas: number[] } {
  const sum = (l: readonly Buffer[]): number => l.reduce((n, b) => n + b.length, 0);
  const n = layout.areas.length;
  return {
    inline: sum(layout.inline) + (n > 0 ? CE_BYTES : 0),
    areas: layout.areas.map((a, k) => sum(a) + (k < n - 1 ? CE_BYTES : 0)),
  };
}
