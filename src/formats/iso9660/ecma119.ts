// ECMA-119 (ISO 9660) primitive encodings shared by the writer and the reader.

export const SECTOR_BYTES = 2048;
/** ECMA-119 6.2.1: sectors 0-15 are the system area; the volume descriptor set starts at 16. */
export const FIRST_DESCRIPTOR_LBA = 16;
export const STANDARD_ID = 'CD001';

export const VD_PRIMARY = 1;
export const VD_SUPPLEMENTARY = 2;
export const VD_TERMINATOR = 255;

/** ECMA-119 9.1.6: file flags. */
export const FLAG_HIDDEN = 0x01;
export const FLAG_DIRECTORY = 0x02;
export const FLAG_MULTI_EXTENT = 0x80;

/** Fixed part of a directory record before the file identifier (ECMA-119 9.1). */
export const DIR_RECORD_BASE_BYTES = 33;
/** A directory record's length is one byte. We stay one below 255 so a pad byte always fits. */
export const DIR_RECORD_MAX_BYTES = 254;

/** Joliet: the escape sequence for UCS-2 level 3 in an SVD's escape-sequences field (offset 88). */
export const JOLIET_ESCAPES = ['%/@', '%/C', '%/E'] as const;

export function sectorsFor(sizeBytes: number): number {
  return Math.ceil(sizeBytes / SECTOR_BYTES);
}

/**
 * ECMA-119 7.2.3 / 7.3.3: a number recorded both little- and big-endian. Plain byte stores: these
 * run for every directory record and Rock Ridge entry, and Buffer's checked writers cost several
 * calls each.
 */
export function writeBoth16(buf: Uint8Array, offset: number, value: number): void {
  const lo = value & 0xff;
  const hi = (value >>> 8) & 0xff;
  buf[offset] = lo;
  buf[offset + 1] = hi;
  buf[offset + 2] = hi;
  buf[offset + 3] = lo;
}

export function writeBoth32(buf: Uint8Array, offset: number, value: number): void {
  if (!(value >= 0 && value <= 0xffff_ffff)) throw new RangeError(`${value} does not fit in 32 bits`);
  const b0 = value & 0xff;
  const b1 = (value >>> 8) & 0xff;
  const b2 = (value >>> 16) & 0xff;
  const b3 = (value >>> 24) & 0xff;
  buf[offset] = b0;
  buf[offset + 1] = b1;
  buf[offset + 2] = b2;
  buf[offset + 3] = b3;
  buf[offset + 4] = b3;
  buf[offset + 5] = b2;
  buf[offset + 6] = b1;
  buf[offset + 7] = b0;
}

/** Fill `length` bytes with `text` padded by spaces (a-/d-characters fields, ECMA-119 7.4). */
export function writePadded(buf: Buffer, offset: number, length: number, text: string): void {
  buf.fill(0x20, offset, offset + length);
  buf.write(text.slice(0, length), offset, 'latin1');
}

/** Joliet fields are UCS-2 big-endian, padded with U+0020. */
export function writePaddedUcs2(buf: Buffer, offset: number, length: number, text: string): void {
  for (let i = 0; i + 1 < length; i += 2) buf.writeUInt16BE(0x0020, offset + i);
  const enc = encodeUtf16Be(text);
  enc.copy(buf, offset, 0, Math.min(enc.length, length - (length % 2)));
}

/** UTF-16 code units, big-endian, as they are (lone surrogates too: 'utf16le' copies units verbatim). */
export function encodeUtf16Be(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

export function decodeUtf16Be(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  return s;
}

/** ECMA-119 9.1.5: the 7-byte recording date of a directory record, in UTC (offset 0). */
export function encodeRecordDate(buf: Buffer, offset: number, ms: number): void {
  const d = new Date(clampDate(ms));
  buf[offset] = d.getUTCFullYear() - 1900;
  buf[offset + 1] = d.getUTCMonth() + 1;
  buf[offset + 2] = d.getUTCDate();
  buf[offset + 3] = d.getUTCHours();
  buf[offset + 4] = d.getUTCMinutes();
  buf[offset + 5] = d.getUTCSeconds();
  buf[offset + 6] = 0;
}

/** Decode a 7-byte date; the offset byte counts 15-minute intervals from GMT (signed). */
export function decodeRecordDate(bytes: Uint8Array, offset: number): number {
  const g = (i: number): number => bytes[offset + i] ?? 0;
  const tz = (g(6) << 24) >> 24;
  const ms = Date.UTC(1900 + g(0), g(1) - 1, g(2), g(3), g(4), g(5));
  return ms - tz * 15 * 60_000;
}

/** ECMA-119 8.4.26.1: the 17-byte volume date "YYYYMMDDHHMMSScc" + GMT offset, in UTC. */
export function encodeVolumeDate(buf: Buffer, offset: number, ms: number | undefined): void {
  if (ms === undefined) {
    // "not specified": sixteen '0' digits and a zero offset.
    buf.write('0000000000000000', offset, 'latin1');
    buf[offset + 16] = 0;
    return;
  }
  const d = new Date(clampDate(ms));
  const p = (n: number, w: number): string => String(n).padStart(w, '0');
  const text =
    p(d.getUTCFullYear(), 4) + p(d.getUTCMonth() + 1, 2) + p(d.getUTCDate(), 2) +
    p(d.getUTCHours(), 2) + p(d.getUTCMinutes(), 2) + p(d.getUTCSeconds(), 2) + p(Math.floor(d.getUTCMilliseconds() / 10), 2);
  buf.write(text, offset, 'latin1');
  buf[offset + 16] = 0;
}

/** The 7-byte form can carry years 1900-2155; clamp rather than wrap. */
function clampDate(ms: number): number {
  const min = Date.UTC(1900, 0, 1);
  const max = Date.UTC(2155, 11, 31, 23, 59, 59);
  return Math.min(Math.max(ms, min), max);
}
