// MIME (RFC 2045/2046) as cloud-init reads and writes user-data.
//
// Reading follows Python's email.feedparser, which cloud-init's user_data.py uses
// (email.message_from_string): headers end at the first line that is not a header (a blank line
// is consumed, anything else starts the body); a multipart body is split at lines that are exactly
// `--boundary` or `--boundary--` plus optional blanks, and the line break before a delimiter
// belongs to the delimiter. Writing follows `cloud-init devel make-mime` (email.mime.*):
// `multipart/mixed`, each part with Content-Type (charset), MIME-Version,
// Content-Transfer-Encoding and Content-Disposition: attachment; filename="...".
import { TextDecoder } from 'node:util';
import { InvalidArgument } from '../../lib/errors.js';

export interface MimeHeader {
  /** As written; compare case-insensitively. */
  readonly name: string;
  /** Unfolded value (continuation lines joined), leading blanks removed. */
  readonly value: string;
  readonly offset: number;
}

export interface MimeDefect {
  readonly offset: number;
  readonly message: string;
}

export interface MimeEntity {
  readonly headers: readonly MimeHeader[];
  /** Offset of the entity (its first header line) in the parsed text. */
  readonly offset: number;
  readonly bodyOffset: number;
  /** The raw body, transfer encoding not yet undone. */
  readonly body: string;
  /** Sub-entities of a multipart whose boundary was found; undefined otherwise. */
  readonly parts?: readonly MimeEntity[];
  readonly defects: readonly MimeDefect[];
}

// email.feedparser headerRE: a header line, or a continuation line starting with a blank.
const HEADER_LINE = /^(?:From |[\x21-\x39\x3b-\x7e]*:|[\t ])/;

interface Line {
  readonly text: string; // without the line break
  readonly start: number;
  /** Offset just past the line break (or the end of the text). */
  readonly next: number;
  /** Length of the line break: 0, 1 or 2. */
  readonly eol: number;
}

function* lines(text: string, from: number, to: number): Generator<Line> {
  let i = from;
  while (i < to) {
    let j = i;
    while (j < to && text[j] !== '\n' && text[j] !== '\r') j++;
    let eol = 0;
    if (j < to) eol = text[j] === '\r' && text[j + 1] === '\n' && j + 1 < to ? 2 : 1;
    yield { text: text.slice(i, j), start: i, next: j + eol, eol };
    i = j + eol;
  }
}

/** Parse the entity in text[from, to); nested multiparts are parsed too. */
export function parseMimeEntity(text: string, from = 0, to: number = text.length, depth = 0): MimeEntity {
  const headers: { name: string; value: string; offset: number }[] = [];
  const defects: MimeDefect[] = [];
  let bodyOffset = to;
  let first = true;
  for (const line of lines(text, from, to)) {
    if (!HEADER_LINE.test(line.text)) {
      // The separator is consumed; any other line starts the body (MissingHeaderBodySeparatorDefect).
      bodyOffset = line.text === '' ? line.next : line.start;
      break;
    }
    if (/^[\t ]/.test(line.text)) {
      const last = headers[headers.length - 1];
      if (last === undefined || first) defects.push({ offset: line.start, message: 'a continuation line before the first header' });
      else last.value += line.text;
    } else if (line.text.startsWith('From ') && first) {
      // An mbox "From " line: Python keeps it aside as the unixfrom; it is not a header.
    } else {
      const colon = line.text.indexOf(':');
      headers.push({ name: line.text.slice(0, colon), value: line.text.slice(colon + 1).replace(/^[ \t]+/, ''), offset: line.start });
    }
    first = false;
    bodyOffset = line.next;
  }
  const entity = { headers, offset: from, bodyOffset, body: text.slice(bodyOffset, to), defects };
  const ct = contentTypeOf(entity);
  if (!ct.type.startsWith('multipart/')) return entity;
  const boundary = ct.params.get('boundary')?.trimEnd();
  if (boundary === undefined || boundary === '') {
    defects.push({ offset: from, message: `${ct.type} without a boundary parameter: cloud-init skips its content` });
    return entity;
  }
  if (depth >= 20) {
    defects.push({ offset: from, message: 'multipart nested more than 20 levels deep' });
    return entity;
  }
  const parts: MimeEntity[] = [];
  let partStart: number | undefined;
  let closed = false;
  let previous: Line | undefined;
  for (const line of lines(text, bodyOffset, to)) {
    const isDelimiter = line.text.startsWith(`--${boundary}`) && /^(?:--)?[ \t]*$/.test(line.text.slice(2 + boundary.length));
    if (isDelimiter) {
      if (partStart !== undefined) {
        // The line break before the delimiter belongs to the delimiter (RFC 2046 5.1.1).
        const end = Math.max(partStart, line.start - (previous?.eol ?? 0));
        parts.push(parseMimeEntity(text, partStart, end, depth + 1));
      }
      if (line.text.slice(2 + boundary.length).startsWith('--')) {
        closed = true;
        partStart = undefined;
        break;
      }
      partStart = line.next;
    }
    previous = line;
  }
  if (partStart === undefined && parts.length === 0 && !closed) {
    defects.push({ offset: bodyOffset, message: `the boundary "${boundary}" never occurs: cloud-init skips this ${ct.type}` });
    return entity;
  }
  if (partStart !== undefined) {
    defects.push({ offset: to, message: `no closing --${boundary}-- delimiter` });
    parts.push(parseMimeEntity(text, partStart, to, depth + 1));
  }
  return { ...entity, parts };
}

export function headerValue(entity: Pick<MimeEntity, 'headers'>, name: string): string | undefined {
  const n = name.toLowerCase();
  return entity.headers.find((h) => h.name.toLowerCase() === n)?.value;
}

export function headerOffset(entity: MimeEntity, name: string): number {
  const n = name.toLowerCase();
  return entity.headers.find((h) => h.name.toLowerCase() === n)?.offset ?? entity.offset;
}

/** Split `value; a=b; c="d"` into the value and its parameters (email.message._parseparam). */
export function parseHeaderParams(value: string): { value: string; params: Map<string, string> } {
  const pieces: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] ?? '';
    if (c === '\\' && quoted) {
      cur += c + (value[i + 1] ?? '');
      i++;
    } else if (c === '"') {
      quoted = !quoted;
      cur += c;
    } else if (c === ';' && !quoted) {
      pieces.push(cur);
      cur = '';
    } else cur += c;
  }
  pieces.push(cur);
  const params = new Map<string, string>();
  // RFC 2231 sections: name*N (plain) and name*N* or name* (charset'lang'%XX encoded).
  const sections = new Map<string, { text: string; encoded: boolean }[]>();
  for (const p of pieces.slice(1)) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const key = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    const m = /^(.+?)\*(?:(\d+)(\*)?)?$/.exec(key);
    if (m !== null) {
      // More sections than any real header has would only make a huge sparse array.
      if (Number(m[2] ?? 0) > 64) continue;
      const base = m[1] ?? key;
      const list = sections.get(base) ?? [];
      list[Number(m[2] ?? 0)] = { text: v, encoded: m[2] === undefined || m[3] !== undefined };
      sections.set(base, list);
    } else if (!params.has(key)) params.set(key, v);
  }
  for (const [base, list] of sections) {
    const parts = Array.from(list, (s) => s ?? { text: '', encoded: false });
    let charset = 'us-ascii';
    const decoded = parts.map((s, i) => {
      if (!s.encoded) return s.text;
      let t = s.text;
      if (i === 0) {
        // The first encoded section starts with charset'language'.
        const q1 = t.indexOf("'");
        const q2 = q1 < 0 ? -1 : t.indexOf("'", q1 + 1);
        if (q2 >= 0) {
          charset = t.slice(0, q1) || 'us-ascii';
          t = t.slice(q2 + 1);
        }
      }
      return decodePercent(t, charset);
    });
    params.set(base, decoded.join(''));
  }
  return { value: (pieces[0] ?? '').trim(), params };
}

function decodePercent(s: string, charset: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? '';
    if (c === '%' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
  }
  return decodeText(Uint8Array.from(bytes), charset).text;
}

/** Content type the way Python's Message.get_content_type() reports it. */
export function contentTypeOf(entity: Pick<MimeEntity, 'headers'>): { type: string; params: Map<string, string>; declared: boolean } {
  const raw = headerValue(entity, 'content-type');
  if (raw === undefined) return { type: 'text/plain', params: new Map(), declared: false };
  const { value, params } = parseHeaderParams(raw);
  const type = value.toLowerCase().trim();
  // A malformed type (not exactly one '/') is text/plain (RFC 2045 5.2).
  return { type: type.split('/').length === 2 ? type : 'text/plain', params, declared: true };
}

/** The part's file name: Content-Disposition filename, else Content-Type name (get_filename). */
export function filenameOf(entity: Pick<MimeEntity, 'headers'>): string | undefined {
  const disposition = headerValue(entity, 'content-disposition');
  const fromDisposition = disposition === undefined ? undefined : parseHeaderParams(disposition).params.get('filename');
  const name = fromDisposition ?? contentTypeOf(entity).params.get('name');
  const trimmed = name?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** Decode bytes as `charset` (TextDecoder labels: utf-8, us-ascii, iso-8859-1, ...); unknown -> utf-8. */
export function decodeText(data: Uint8Array, charset = 'utf-8'): { text: string; valid: boolean } {
  let label = charset.trim().toLowerCase();
  // Python maps us-ascii text to utf-8 when decoding payloads (Charset input_codec is None).
  if (label === 'us-ascii' || label === 'ascii' || label === '') label = 'utf-8';
  // ignoreBOM keeps a byte order mark as U+FEFF, as Python's decode does: it matters, because
  // cloud-init then does not see the #cloud-config header behind it.
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label, { fatal: true, ignoreBOM: true });
  } catch {
    decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  }
  try {
    return { text: decoder.decode(data), valid: true };
  } catch {
    return { text: new TextDecoder(decoder.encoding, { ignoreBOM: true }).decode(data), valid: false };
  }
}

export interface DecodedBody {
  readonly data: Uint8Array;
  readonly encoding: string;
  readonly problems: readonly string[];
  /** The body is neither base64 nor quoted-printable and has characters beyond ASCII. */
  readonly rawNonAscii: boolean;
}

/** Undo Content-Transfer-Encoding (base64, quoted-printable; 7bit/8bit/binary are as they are). */
export function decodeBody(entity: MimeEntity): DecodedBody {
  const encoding = (headerValue(entity, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
  const problems: string[] = [];
  if (encoding === 'base64') {
    const compact = entity.body.replace(/[\r\n]/g, '');
    const stripped = compact.replace(/[\t ]/g, '');
    if (/[^A-Za-z0-9+/=]/.test(stripped)) problems.push('the base64 body has characters outside the base64 alphabet; they are skipped');
    const body = stripped.replace(/[^A-Za-z0-9+/]/g, '');
    if (body.length % 4 === 1) problems.push('the base64 body is truncated (its length is 1 more than a multiple of 4); cloud-init uses it undecoded');
    return { data: Buffer.from(body, 'base64'), encoding, problems, rawNonAscii: false };
  }
  if (encoding === 'quoted-printable') return { data: decodeQuotedPrintable(entity.body), encoding, problems, rawNonAscii: false };
  if (!['7bit', '8bit', 'binary'].includes(encoding)) problems.push(`unknown Content-Transfer-Encoding '${encoding}'; the body is used as it is`);
  // eslint-disable-next-line no-control-regex
  return { data: Buffer.from(entity.body, 'utf8'), encoding, problems, rawNonAscii: /[^\x00-\x7f]/.test(entity.body) };
}

/** RFC 2045 6.7 (lenient like Python's quopri: malformed escapes stay as they are). */
export function decodeQuotedPrintable(body: string): Uint8Array {
  const out: number[] = [];
  const src = Buffer.from(body, 'utf8');
  for (let i = 0; i < src.length; i++) {
    const b = src[i] ?? 0;
    if (b !== 0x3d) {
      out.push(b);
      continue;
    }
    const hex = String.fromCharCode(src[i + 1] ?? 0, src[i + 2] ?? 0);
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      out.push(parseInt(hex, 16));
      i += 2;
      continue;
    }
    // Soft line break: '=' then optional blanks then the line break.
    let j = i + 1;
    while (src[j] === 0x20 || src[j] === 0x09) j++;
    if (src[j] === 0x0a) {
      i = j;
      continue;
    }
    if (src[j] === 0x0d && src[j + 1] === 0x0a) {
      i = j + 1;
      continue;
    }
    if (j >= src.length) {
      i = j;
      continue;
    }
    out.push(b);
  }
  return Uint8Array.from(out);
}

// --- writing -------------------------------------------------------------------------------------

export interface MimePartInput {
  readonly filename: string;
  /** A full type like text/cloud-config. */
  readonly contentType: string;
  readonly data: Uint8Array;
  /** Written as an X-Merge-Type header (cloud-init merging). */
  readonly mergeType?: string;
}

export interface MakeMimeOptions {
  /** The multipart boundary; the same parts and boundary give the same bytes. */
  readonly boundary: string;
}

// RFC 2046 5.1.1 bcharsnospace plus space (not last), 1 to 70 characters.
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function quoteParam(name: string, value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return `${name}="${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  // RFC 2231 for names beyond ASCII.
  const pct = [...Buffer.from(value, 'utf8')].map((b) => (/[A-Za-z0-9!#$&+\-.^_`|~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
  return `${name}*=utf-8''${pct}`;
}

/** 7bit is safe when every byte is ASCII, there are no NUL or lone CR, and lines fit in 998. */
function fitsSevenBit(data: Uint8Array): boolean {
  let lineLength = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i] ?? 0;
    if (b >= 0x80 || b === 0) return false;
    if (b === 0x0d && data[i + 1] !== 0x0a) return false;
    if (b === 0x0a) lineLength = 0;
    else if (++lineLength > 998) return false;
  }
  return true;
}

function base64Lines(data: Uint8Array): string {
  const b64 = Buffer.from(data).toString('base64');
  const out: string[] = [];
  for (let i = 0; i < b64.length; i += 76) out.push(b64.slice(i, i + 76));
  return out.join('\n');
}

/**
 * MIME multipart/mixed user-data from parts, like `cloud-init devel make-mime`. ASCII text goes
 * as 7bit with charset us-ascii; other UTF-8 text as base64 with charset utf-8 (cloud-init 22.4
 * mangles non-ASCII characters in 7bit/8bit parts, see user-data.ts); other bytes as base64.
 */
export function makeMime(parts: readonly MimePartInput[], options: MakeMimeOptions): Uint8Array {
  const { boundary } = options;
  if (!BOUNDARY.test(boundary)) throw new InvalidArgument(`MIME boundary ${JSON.stringify(boundary)}: 1 to 70 characters of letters, digits and '()+_,-./:=? (RFC 2046)`);
  const out: string[] = [`Content-Type: multipart/mixed; boundary="${boundary}"`, 'MIME-Version: 1.0', ''];
  for (const p of parts) {
    const [type, subtype, ...rest] = p.contentType.toLowerCase().split('/');
    if (type === undefined || subtype === undefined || rest.length > 0 || !TOKEN.test(type) || !TOKEN.test(subtype)) {
      throw new InvalidArgument(`${p.filename}: content type ${JSON.stringify(p.contentType)} is not type/subtype`);
    }
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(p.filename)) throw new InvalidArgument(`part file name ${JSON.stringify(p.filename)} has control characters`);
    if (p.mergeType !== undefined && /[\r\n]/.test(p.mergeType)) throw new InvalidArgument(`${p.filename}: merge type must be one line`);
    const text = type === 'text' ? decodeText(p.data) : { text: '', valid: false };
    const sevenBit = fitsSevenBit(p.data);
    const charset = type !== 'text' ? '' : sevenBit ? '; charset="us-ascii"' : text.valid ? '; charset="utf-8"' : '';
    out.push(`--${boundary}`, `Content-Type: ${type}/${subtype}${charset}`, 'MIME-Version: 1.0', `Content-Transfer-Encoding: ${sevenBit ? '7bit' : 'base64'}`);
    out.push(`Content-Disposition: attachment; ${quoteParam('filename', p.filename)}`);
    if (p.mergeType !== undefined) out.push(`X-Merge-Type: ${p.mergeType}`);
    out.push('');
    if (sevenBit) {
      const body = Buffer.from(p.data).toString('latin1');
      if (body.split(/\r?\n/).some((l) => l.startsWith(`--${boundary}`))) {
        throw new InvalidArgument(`${p.filename}: contains a line starting with the MIME boundary --${boundary}; choose another boundary`);
      }
      out.push(body);
    } else out.push(base64Lines(p.data));
  }
  out.push(`--${boundary}--`, '');
  return Buffer.from(out.join('\n'), 'utf8');
}
