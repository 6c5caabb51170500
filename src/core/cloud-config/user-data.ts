// User-data split into parts the way cloud-init's UserDataProcessor does (cloudinit/user_data.py,
// handlers/__init__.py, Debian cloud-init 22.4):
//
//   1. gzip data (magic 1f 8b) is decompressed first (we cap the output, cloud-init does not);
//   2. if `mime-version:` occurs in the first 4096 bytes (any case) the data is a MIME message,
//      otherwise it is one part of type text/x-not-multipart;
//   3. every non-multipart part whose type is application/gzip or a sibling is decompressed and
//      then typed as text/plain; parts typed text/plain, text/x-not-multipart or
//      text/x-shellscript get the type their first characters name (`#cloud-config`, `#!`,
//      `#include`, ... compared case-insensitively after leading white space), the longest
//      prefix first; other declared types are kept as they are;
//   4. text/x-include-url and text/x-include-once-url parts are lists of URLs to fetch, and
//      text/cloud-config-archive parts are YAML lists of parts, which are added as they are
//      (their types are not looked at again).
//
// We do not fetch includes: an include part stays in the list with its URLs. Parts are numbered
// from 1 in the order found, archive entries right after their archive (with `parent` set).
// Problems inside a part are reported against `FILE#part-N` or `FILE#part-N(filename)`, with
// lines and columns counted in the part's decoded content; problems in the MIME structure itself
// are reported against FILE with positions in the (decompressed) message. User-data that is one
// part (not MIME) is reported against FILE itself.
import { gunzipCapped, isGzip, MAX_DECOMPRESSED_BYTES } from './gunzip-capped.js';
import { contentTypeOf, decodeBody, decodeText, filenameOf, headerOffset, headerValue, parseMimeEntity, type MimeEntity } from './mime.js';
import { isHttpUrl } from './net-address.js';
import { LineIndex, ProblemReport, type Problem } from './problem.js';
import { parseYaml, scalarText, type YamlNode } from './yaml-document.js';

export type UserDataKind =
  | 'cloud-config'
  | 'x-shellscript'
  | 'x-shellscript-per-boot'
  | 'x-shellscript-per-instance'
  | 'x-shellscript-per-once'
  | 'cloud-boothook'
  | 'x-include-url'
  | 'x-include-once-url'
  | 'cloud-config-archive'
  | 'part-handler'
  | 'jsonp'
  | 'jinja2'
  /** text/plain or text/x-not-multipart with no known first line: cloud-init ignores it. */
  | 'text/plain'
  /** Any other content type: cloud-init has no handler for it and ignores it. */
  | 'unknown';

export interface IncludeUrl {
  readonly url: string;
  /** After `#include-once`: fetched once per instance and then read from cloud-init's cache. */
  readonly once: boolean;
  readonly line: number;
  readonly column: number;
}

export interface UserDataPart {
  /** 1-based, in the order parts were found. */
  readonly index: number;
  readonly kind: UserDataKind;
  /** The content type cloud-init gives the part, e.g. text/cloud-config or text/x-not-multipart. */
  readonly contentType: string;
  /** The type a MIME header or archive entry declared, when one did. */
  readonly declaredContentType?: string;
  readonly filename?: string;
  /** Size of the decoded (and decompressed) content. */
  readonly sizeBytes: number;
  readonly data: Uint8Array;
  /** How the part was found: the whole user-data, a MIME part, or an archive entry. */
  readonly origin: 'whole' | 'mime' | 'archive';
  /** Content-Transfer-Encoding of a MIME part. */
  readonly transferEncoding?: string;
  /** Decompressed from gzip (the whole user-data or this part). */
  readonly compressed: boolean;
  /** Merge-Type / X-Merge-Type header (or archive key), for cloud-config merging. */
  readonly mergeType?: string;
  /** The archive part this entry came from. */
  readonly parent?: number;
  /** For include parts: the URLs, in order. */
  readonly includes?: readonly IncludeUrl[];
  /** The name problems in this part are reported under. */
  readonly label: string;
}

export interface ParsedUserData {
  readonly parts: readonly UserDataPart[];
  readonly problems: readonly Problem[];
  /** The user-data was a MIME message. */
  readonly mime: boolean;
  /** The whole user-data was gzip-compressed. */
  readonly compressed: boolean;
}

export interface ParseUserDataOptions {
  /** Ceiling on all gzip output together; default 64 MiB. */
  readonly maxDecompressedBytes?: number;
}

// handlers/__init__.py INCLUSION_TYPES_MAP, matched longest first.
const STARTS_WITH: readonly (readonly [string, string])[] = (
  [
    ['#include', 'text/x-include-url'],
    ['#include-once', 'text/x-include-once-url'],
    ['#!', 'text/x-shellscript'],
    ['#cloud-config', 'text/cloud-config'],
    ['#part-handler', 'text/part-handler'],
    ['#cloud-boothook', 'text/cloud-boothook'],
    ['#cloud-config-archive', 'text/cloud-config-archive'],
    ['#cloud-config-jsonp', 'text/cloud-config-jsonp'],
    ['## template: jinja', 'text/jinja2'],
    ['text/x-shellscript-per-boot', 'text/x-shellscript-per-boot'],
    ['text/x-shellscript-per-instance', 'text/x-shellscript-per-instance'],
    ['text/x-shellscript-per-once', 'text/x-shellscript-per-once'],
  ] as const
)
  .slice()
  .sort((a, b) => b[0].length - a[0].length);

const KIND_BY_TYPE: Readonly<Record<string, UserDataKind>> = {
  'text/cloud-config': 'cloud-config',
  'text/x-shellscript': 'x-shellscript',
  'text/x-shellscript-per-boot': 'x-shellscript-per-boot',
  'text/x-shellscript-per-instance': 'x-shellscript-per-instance',
  'text/x-shellscript-per-once': 'x-shellscript-per-once',
  'text/cloud-boothook': 'cloud-boothook',
  'text/x-include-url': 'x-include-url',
  'text/x-include-once-url': 'x-include-once-url',
  'text/cloud-config-archive': 'cloud-config-archive',
  'text/part-handler': 'part-handler',
  'text/cloud-config-jsonp': 'jsonp',
  'text/jinja2': 'jinja2',
  'text/plain': 'text/plain',
  'text/x-not-multipart': 'text/plain',
};

export function kindOfContentType(contentType: string): UserDataKind {
  return KIND_BY_TYPE[contentType] ?? 'unknown';
}

// user_data.py DECOMP_TYPES.
const GZIP_TYPES = new Set([
  'application/gzip', 'application/gzip-compressed', 'application/gzipped', 'application/x-compress',
  'application/x-compressed', 'application/x-gunzip', 'application/x-gzip', 'application/x-gzip-compressed',
]);
/** Parts of these types are typed by their first characters. */
const TYPE_NEEDED = new Set(['text/plain', 'text/x-not-multipart', 'text/x-shellscript']);

// Python's str.isspace() characters: what str.lstrip() removes. Not JavaScript's trimStart, which
// also removes U+FEFF (a byte order mark), which hides the header from cloud-init.
// eslint-disable-next-line no-control-regex
const PY_LEADING_SPACE = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*/;

/** handlers.type_from_starts_with: the type named by the first characters, if any. */
export function typeFromStartsWith(text: string): string | undefined {
  const start = PY_LEADING_SPACE.exec(text)?.[0].length ?? 0;
  const head = text.slice(start, start + 64).toLowerCase();
  return STARTS_WITH.find(([prefix]) => head.startsWith(prefix))?.[1];
}

interface ParseState {
  readonly file: string;
  readonly parts: UserDataPart[];
  readonly problems: Problem[];
  budget: number;
}

function partLabel(file: string, index: number, filename: string | undefined): string {
  return `${file}#part-${index}${filename === undefined ? '' : `(${filename})`}`;
}

/** Split user-data into parts; see the top of this file. Never throws on any input. */
export function parseUserData(data: Uint8Array, file = 'user-data', options: ParseUserDataOptions = {}): ParsedUserData {
  const st: ParseState = { file, parts: [], problems: [], budget: options.maxDecompressedBytes ?? MAX_DECOMPRESSED_BYTES };
  let bytes = data;
  let compressed = false;
  if (isGzip(bytes)) {
    const g = gunzipCapped(bytes, st.budget);
    if (!g.ok) {
      st.problems.push({ severity: 'error', file, path: '', line: 1, column: 1, message: `gzip user-data ${g.message}` });
      return { parts: [], problems: st.problems, mime: false, compressed: true };
    }
    bytes = g.data;
    compressed = true;
    st.budget -= bytes.length;
  }
  // user_data.convert_string: a MIME message only if a MIME-Version header is in the first 4 KiB.
  const head = Buffer.from(bytes.subarray(0, 4096)).toString('latin1').toLowerCase();
  if (head.includes('mime-version:')) {
    const { text, valid } = decodeText(bytes);
    const report = new ProblemReport(file, new LineIndex(text));
    if (!valid) report.error(0, '', 'MIME user-data is not valid UTF-8: cloud-init fails to read it');
    walkMime(parseMimeEntity(text), st, report);
    st.problems.push(...report.problems);
    return { parts: st.parts, problems: st.problems, mime: true, compressed };
  }
  if (/^\s*content-type:\s*multipart\//i.test(head)) {
    st.problems.push({ severity: 'error', file, path: '', line: 1, column: 1, message: 'a MIME message without a MIME-Version header: cloud-init does not read it as MIME and ignores all of it' });
  }
  addPart(st, { data: bytes, contentType: 'text/x-not-multipart', origin: 'whole', compressed, label: file });
  return { parts: st.parts, problems: st.problems, mime: false, compressed };
}

function walkMime(entity: MimeEntity, st: ParseState, report: ProblemReport): void {
  for (const d of entity.defects) report.warning(d.offset, '', `MIME: ${d.message}`);
  if (entity.parts !== undefined) {
    for (const p of entity.parts) walkMime(p, st, report);
    return;
  }
  const ct = contentTypeOf(entity);
  // user_data.is_skippable: multipart/* are containers; one whose boundary is missing is dropped.
  if (ct.type.startsWith('multipart/')) return;
  const body = decodeBody(entity);
  const cteAt = headerOffset(entity, 'content-transfer-encoding');
  for (const p of body.problems) report.warning(cteAt, '', `MIME: ${p}`);
  if (body.rawNonAscii && ct.type.startsWith('text/')) {
    // Python's email package turns a non-ASCII 7bit/8bit payload into bytes with
    // raw-unicode-escape, so cloud-init 22.4 sees 'é' as '\udce9' and '日' as '\u65e5'.
    report.warning(entity.bodyOffset, '', 'MIME: a part with characters beyond ASCII and no base64 or quoted-printable transfer encoding: cloud-init 22.4 mangles those characters; encode the part as base64 (atomic cloud-init mime does)');
  }
  const mergeType = headerValue(entity, 'merge-type') ?? headerValue(entity, 'x-merge-type');
  const filename = filenameOf(entity);
  addPart(st, {
    data: body.data,
    contentType: ct.type,
    ...(ct.declared ? { declaredContentType: ct.type } : {}),
    charset: ct.params.get('charset'),
    origin: 'mime',
    compressed: false,
    transferEncoding: body.encoding,
    ...(mergeType === undefined || mergeType.trim() === '' ? {} : { mergeType: mergeType.trim() }),
    ...(filename === undefined ? {} : { filename }),
    report,
    at: entity.offset,
  });
}

interface PartInput {
  readonly data: Uint8Array;
  readonly contentType: string;
  readonly declaredContentType?: string;
  readonly charset?: string | undefined;
  readonly origin: UserDataPart['origin'];
  readonly compressed: boolean;
  readonly transferEncoding?: string;
  readonly mergeType?: string;
  readonly filename?: string;
  /** For the whole user-data: the label is the file itself. */
  readonly label?: string;
  /** Where structural problems about this part go (the MIME message), and the part's offset there. */
  readonly report?: ProblemReport;
  readonly at?: number;
}

function structuralProblem(st: ParseState, input: PartInput, label: string, severity: 'error' | 'warning', message: string): void {
  if (input.report !== undefined) input.report.add(severity, input.at ?? 0, '', message);
  else st.problems.push({ severity, file: label, path: '', line: 1, column: 1, message });
}

function addPart(st: ParseState, input: PartInput): void {
  let data = input.data;
  let contentType = input.contentType;
  let compressed = input.compressed;
  const index = st.parts.length + 1;
  const label = input.label ?? partLabel(st.file, index, input.filename);
  if (GZIP_TYPES.has(contentType)) {
    const g = gunzipCapped(data, st.budget);
    if (!g.ok) {
      // cloud-init logs "Failed decompressing payload" and drops the part.
      structuralProblem(st, input, label, 'error', `part ${index}: ${contentType} content ${g.message}; cloud-init drops the part`);
      return;
    }
    st.budget -= g.data.length;
    data = g.data;
    compressed = true;
    if (!decodeText(data).valid) {
      structuralProblem(st, input, label, 'error', `part ${index}: the decompressed ${contentType} content is not UTF-8 text; cloud-init drops the part`);
      return;
    }
    contentType = 'text/plain';
  }
  const text = decodeText(data, input.charset ?? 'utf-8').text;
  if (TYPE_NEEDED.has(contentType)) contentType = typeFromStartsWith(text) ?? contentType;
  if (input.declaredContentType === 'text/x-shellscript' && contentType !== 'text/x-shellscript') {
    structuralProblem(st, input, label, 'warning', `part ${index} is declared text/x-shellscript but its first line makes cloud-init read it as ${contentType}`);
  }
  const kind = kindOfContentType(contentType);
  const part: UserDataPart = {
    index,
    kind,
    contentType,
    ...(input.declaredContentType === undefined ? {} : { declaredContentType: input.declaredContentType }),
    ...(input.filename === undefined ? {} : { filename: input.filename }),
    sizeBytes: data.length,
    data,
    origin: input.origin,
    ...(input.transferEncoding === undefined ? {} : { transferEncoding: input.transferEncoding }),
    compressed,
    ...(input.mergeType === undefined ? {} : { mergeType: input.mergeType }),
    label,
  };
  if (kind === 'x-include-url' || kind === 'x-include-once-url') {
    const report = new ProblemReport(label, new LineIndex(text));
    st.parts.push({ ...part, includes: parseIncludes(text, report) });
    st.problems.push(...report.problems);
    return;
  }
  st.parts.push(part);
  if (kind === 'cloud-config-archive') explodeArchive(text, part, st);
}

/** user_data._do_include: one URL a line; `#include` / `#include-once` switch the mode. */
function parseIncludes(text: string, report: ProblemReport): IncludeUrl[] {
  const urls: IncludeUrl[] = [];
  let once = false;
  let offset = 0;
  const lc = new LineIndex(text);
  for (const rawLine of text.split(/\r\n|\n|\r/)) {
    const lineStart = offset;
    offset += rawLine.length + (text.startsWith('\r\n', offset + rawLine.length) ? 2 : 1);
    let line = rawLine;
    let skipped = 0;
    const lower = line.toLowerCase();
    if (lower.startsWith('#include-once')) {
      const rest = line.slice('#include-once'.length);
      line = rest.replace(/^\s+/, '');
      skipped = rawLine.length - line.length;
      once = true;
    } else if (lower.startsWith('#include')) {
      const rest = line.slice('#include'.length);
      line = rest.replace(/^\s+/, '');
      skipped = rawLine.length - line.length;
      once = false;
    }
    if (line.startsWith('#')) continue;
    const url = line.trim();
    if (url === '') continue;
    const at = lineStart + skipped + (line.length - line.trimStart().length);
    const { line: ln, col } = lc.linePos(at);
    urls.push({ url, once, line: ln, column: col });
    if (!isHttpUrl(url)) {
      report.error(at, '', `${JSON.stringify(url)} is not an http(s) URL (cloud-init would try it as a file on the instance; atomicd fetches only http and https)`);
    }
  }
  if (urls.length === 0) report.warning(0, '', 'the include list names no URL');
  return urls;
}


/** user_data._explode_archive: a YAML list of strings or {content, type, filename, ...}. */
function explodeArchive(text: string, archive: UserDataPart, st: ParseState): void {
  const lc = new LineIndex(text);
  const report = new ProblemReport(archive.label, lc);
  const { root } = parseYaml(text, report);
  try {
    if (root === undefined) {
      report.error(0, '', 'cloud-init cannot load this archive and ignores it');
      return;
    }
    if (root.kind !== 'seq') {
      if (!(root.kind === 'scalar' && root.value === null)) report.error(root.start, '', 'a cloud-config-archive is a YAML list of parts; cloud-init ignores anything else');
      else report.warning(root.start, '', 'the archive is empty');
      return;
    }
    root.items.forEach((item, i) => archiveEntry(item, i, archive, st, report));
  } finally {
    st.problems.push(...report.problems);
  }
}

function archiveEntry(item: YamlNode, i: number, archive: UserDataPart, st: ParseState, report: ProblemReport): void {
  const path = `/${i}`;
  let content: Uint8Array | undefined;
  let type: string | undefined;
  let filename: string | undefined;
  let mergeType: string | undefined;
  if (item.kind === 'scalar' && typeof item.value === 'string') {
    content = Buffer.from(item.value, 'utf8');
  } else if (item.kind === 'map') {
    for (const e of item.entries) {
      const v = e.value;
      const key = e.name.toLowerCase();
      const scalar = v.kind === 'scalar' ? v.value : undefined;
      // cloud-init reads content, type and filename with exact names; other keys become headers.
      if (e.name === 'content') {
        if (typeof scalar === 'string') content = Buffer.from(scalar, 'utf8');
        else if (scalar instanceof Uint8Array) content = scalar;
        else if (scalar !== null) {
          report.error(v.start, `${path}/content`, 'archive content must be a string (cloud-init fails on anything else)');
          return;
        }
      } else if (e.name === 'type') {
        if (scalar === null || scalar === '' || scalar === false) continue;
        if (typeof scalar !== 'string' || scalar.split('/').length < 2) {
          report.error(v.start, `${path}/type`, `archive type ${JSON.stringify(scalar === undefined ? 'a collection' : scalarText(scalar))} is not type/subtype (cloud-init fails on it)`);
          return;
        }
        type = scalar.toLowerCase();
      } else if (e.name === 'filename') {
        if (scalar !== null && scalar !== undefined) filename = scalarText(scalar);
      } else if ((key === 'merge-type' || key === 'x-merge-type') && typeof scalar === 'string') {
        mergeType = scalar;
      }
    }
  } else {
    report.warning(item.start, path, 'an archive entry is a string or a mapping with content; cloud-init skips this one');
    return;
  }
  const data = content ?? new Uint8Array();
  // Without a type the entry is typed by its first characters, defaulting to text/cloud-config.
  const contentType = type ?? typeFromStartsWith(decodeText(data).text) ?? 'text/cloud-config';
  const index = st.parts.length + 1;
  const kind = kindOfContentType(contentType);
  const label = partLabel(st.file, index, filename);
  const part: UserDataPart = {
    index,
    kind,
    contentType,
    ...(type === undefined ? {} : { declaredContentType: type }),
    ...(filename === undefined ? {} : { filename }),
    sizeBytes: data.length,
    data,
    origin: 'archive',
    compressed: false,
    ...(mergeType === undefined ? {} : { mergeType }),
    parent: archive.index,
    label,
  };
  if (kind === 'x-include-url' || kind === 'x-include-once-url' || kind === 'cloud-config-archive') {
    // Archive entries are attached as they are: cloud-init neither fetches nor explodes them.
    report.warning(item.start, path, `cloud-init does not process ${contentType} inside an archive; the entry is ignored`);
  }
  st.parts.push(part);
}
