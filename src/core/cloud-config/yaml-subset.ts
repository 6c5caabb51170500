// A small parser for the YAML most cloud-configs are written in: block mappings and sequences,
// plain and one-line quoted scalars, literal and folded block scalars, one-line flow sequences and
// mappings of scalars, comments. It gives the same located tree as the yaml package does through
// yaml-document.ts, with PyYAML's scalar rules (yaml-scalars.ts), or undefined for anything else:
// anchors, tags, nested flow collections, multi-line plain or quoted scalars, several documents,
// tabs, duplicate keys, errors. parseYaml() then runs the full parser, which also reports errors.
//
// Why a second parser: the yaml package is a complete YAML implementation, and a short command
// pays for loading and running it cold. Validating the web-host example in `atomic seed create`
// (benchmarked against cloud-localds, ~60 ms in all) took ~17 ms with it and takes ~4 ms with
// this parser; every provisioning pass reads its seed the same way.
// test/unit/core/cloud-config/yaml-subset.test.ts checks that whenever this parser answers, the
// full parser answers the same.
import type { MapEntry, MapNode, ScalarNode, SeqNode, YamlNode } from './yaml-document.js';
import { keyId, resolvePlain } from './yaml-scalars.js';

/** Thrown inside this module only: the text is not in the subset (or not valid YAML). */
class OutsideSubset extends Error {}
const OUTSIDE = new OutsideSubset('outside the YAML subset');

// Characters that change how a stream is read (tabs, CR and the YAML 1.1 line breaks NEL, LS,
// PS that PyYAML breaks lines at) or a byte order mark: left to the full parser.
const UNUSUAL = /[\t\r\uFEFF\x85\u2028\u2029]/;
// A line that is a document marker (`---`, `...`) or a directive (`%YAML`).
const MARKER = /^(?:---|\.\.\.)(?: |$)|^%/;
// First characters a plain scalar (or key) in the subset may not have: YAML indicators.
const INDICATOR = /^[-?:,[\]{}#&*!|>'"%@`]/;

interface Line {
  /** Offset of the line's first character in the text. */
  readonly start: number;
  /** Leading spaces. */
  readonly indent: number;
  readonly text: string;
  /** Empty, spaces only, or a comment. */
  readonly blank: boolean;
}

export function parseYamlSubset(text: string): YamlNode | undefined {
  if (UNUSUAL.test(text)) return undefined;
  try {
    return new SubsetParser(text).document();
  } catch (e) {
    if (e === OUTSIDE) return undefined;
    throw e;
  }
}

class SubsetParser {
  private readonly lines: Line[] = [];
  /** The next line to read. */
  private at = 0;

  constructor(private readonly source: string) {
    let start = 0;
    for (const text of source.split('\n')) {
      // YAML indents with spaces only (String.trimStart would also take U+00A0 and the like).
      let indent = 0;
      while (text.charCodeAt(indent) === 0x20) indent++;
      this.lines.push({ start, indent, text, blank: indent === text.length || text[indent] === '#' });
      start += text.length + 1;
    }
  }

  document(): YamlNode {
    this.skipBlank();
    // One leading `---` (with nothing after it but a comment) is allowed; any other marker is not.
    const first = this.lines[this.at];
    if (first !== undefined && /^---(?: +#.*| *)$/.test(first.text)) {
      this.at++;
      this.skipBlank();
    }
    for (let i = this.at; i < this.lines.length; i++) if (MARKER.test(this.lines[i]!.text)) throw OUTSIDE;
    const root = this.lines[this.at];
    if (root === undefined || root.indent !== 0) throw OUTSIDE;
    const node = isSeqItem(root, 0) ? this.seq(0) : this.map(0, this.at, 0);
    this.skipBlank();
    if (this.at < this.lines.length) throw OUTSIDE;
    return node;
  }

  private skipBlank(): void {
    while (this.at < this.lines.length && this.lines[this.at]!.blank) this.at++;
  }

  /** The next line with content, without consuming it. */
  private peek(): Line | undefined {
    this.skipBlank();
    return this.lines[this.at];
  }

  /** A block mapping whose keys are at `indent`; its first key is on line `lineIndex` at column `col`. */
  private map(indent: number, lineIndex: number, col: number): MapNode {
    const entries = new Entries();
    this.at = lineIndex;
    for (;;) {
      this.entry(this.lines[this.at]!, col, indent, entries);
      const next = this.peek();
      if (next === undefined || next.indent < indent) break;
      if (next.indent > indent || isSeqItem(next, indent)) throw OUTSIDE;
      col = indent;
    }
    return { kind: 'map', entries: entries.list, start: entries.list[0]!.keyStart };
  }

  /** `key: value` starting at column `col` of `line`, in a mapping at `indent`. */
  private entry(line: Line, col: number, indent: number, entries: Entries): void {
    const text = line.text;
    if (INDICATOR.test(text.slice(col))) throw OUTSIDE;
    // The key ends at the first `: ` or a `:` that ends the line.
    let colon = -1;
    for (let i = text.indexOf(':', col); i >= 0; i = text.indexOf(':', i + 1)) {
      if (i + 1 === text.length || text[i + 1] === ' ') {
        colon = i;
        break;
      }
    }
    if (colon < 0) throw OUTSIDE;
    const keyText = trimSpaces(text.slice(col, colon));
    if (keyText.includes(' #')) throw OUTSIDE;
    entries.add(keyText, line.start + col, this.valueAfter(line, colon + 1, indent, true));
  }

  /**
   * The node after a mapping's `:` or a sequence's `-` (at column `col` of `line`): on the same
   * line, or on the lines below when the line ends there. `inMap`: a sequence may then start at
   * the mapping's own indentation.
   */
  private valueAfter(line: Line, col: number, indent: number, inMap: boolean): YamlNode {
    let at = col;
    while (line.text[at] === ' ') at++;
    if (at === line.text.length || (line.text[at] === '#' && at > col)) {
      this.at++;
      const next = this.peek();
      if (next !== undefined && next.indent > indent) {
        if (isSeqItem(next, next.indent)) return this.seq(next.indent);
        return this.map(next.indent, this.at, next.indent);
      }
      if (next !== undefined && inMap && next.indent === indent && isSeqItem(next, indent)) return this.seq(indent);
      return nullScalar(line.start + at);
    }
    if (at === col) throw OUTSIDE;
    return this.inline(line, at, indent);
  }

  /** A block sequence whose `-` are at `indent`. */
  private seq(indent: number): SeqNode {
    const items: YamlNode[] = [];
    const start = this.lines[this.at]!.start + indent;
    for (;;) {
      const line = this.lines[this.at]!;
      let at = indent + 1;
      while (line.text[at] === ' ') at++;
      const rest = line.text.slice(at);
      if (rest !== '' && rest[0] !== '#' && isMapEntryStart(rest)) {
        // `- key: value`: a mapping whose keys are at this column.
        if (at === indent + 1) throw OUTSIDE;
        items.push(this.map(at, this.at, at));
      } else {
        items.push(this.valueAfter(line, indent + 1, indent, false));
      }
      const next = this.peek();
      if (next === undefined || next.indent < indent) break;
      if (next.indent > indent) throw OUTSIDE;
      if (!isSeqItem(next, indent)) break;
    }
    return { kind: 'seq', items, start };
  }

  /** A node that starts at column `col` of `line` and (but for block scalars) ends on it. */
  private inline(line: Line, col: number, indent: number): YamlNode {
    const text = line.text;
    const c = text[col];
    if (c === '|' || c === '>') return this.blockScalar(line, col, indent);
    this.at++;
    if (c === '"' || c === "'") {
      const q = quoted(text, col);
      endOfLine(text, q.end);
      return { kind: 'scalar', value: q.value, float: false, start: line.start + col };
    }
    if (c === '[' || c === '{') return flowCollection(line, col);
    let end = text.indexOf(' #', col);
    if (end < 0) end = text.length;
    const plain = trimSpaces(text.slice(col, end));
    if (!mayStartPlain(plain)) throw OUTSIDE;
    if (plain.includes(': ') || plain.endsWith(':')) throw OUTSIDE;
    return plainScalar(plain, line.start + col);
  }

  /** `|` or `>` (with `-` for strip chomping) at column `col`, its content on the lines below. */
  private blockScalar(line: Line, col: number, indent: number): ScalarNode {
    const header = /^([|>])(-?)(?: +#.*| *)$/.exec(line.text.slice(col));
    if (header === null) throw OUTSIDE;
    const folded = header[1] === '>';
    const strip = header[2] === '-';
    this.at++;
    // The content's indentation is that of its first line that is not empty.
    let first = this.at;
    while (first < this.lines.length && this.lines[first]!.indent === this.lines[first]!.text.length) first++;
    const contentIndent = first < this.lines.length ? this.lines[first]!.indent : 0;
    const content: string[] = [];
    if (contentIndent > indent) {
      let i = this.at;
      for (; i < this.lines.length; i++) {
        const l = this.lines[i]!;
        const empty = l.indent === l.text.length;
        if (empty) {
          // Spaces beyond the content's indentation on an empty line are content: left to the full parser.
          if (l.text.length > contentIndent) throw OUTSIDE;
          content.push('');
        } else if (l.indent < contentIndent) {
          break;
        } else {
          // More-indented lines fold differently.
          if (folded && l.indent > contentIndent) throw OUTSIDE;
          content.push(l.text.slice(contentIndent));
        }
      }
      // PyYAML gives a block scalar that ends the stream without a line break no final line break.
      if (i === this.lines.length && !this.source.endsWith('\n')) throw OUTSIDE;
      this.at = i;
    }
    // Trailing empty lines are not content (clip and strip chomping).
    while (content.length > 0 && content[content.length - 1] === '') content.pop();
    let value = folded ? fold(content) : content.join('\n');
    if (!strip && content.length > 0) value += '\n';
    return { kind: 'scalar', value, float: false, start: line.start + col };
  }
}

/** A mapping's entries as they are read; a repeated key (the full parser warns of it) leaves the subset. */
class Entries {
  readonly list: MapEntry[] = [];
  private readonly seen = new Set<string>();

  add(keyText: string, keyStart: number, value: YamlNode): void {
    const key = plainScalar(keyText, keyStart).value;
    const id = keyId(key);
    if (this.seen.has(id)) throw OUTSIDE;
    this.seen.add(id);
    // The name is the key as PyYAML gives it when it is a string, else as written.
    this.list.push({ key, name: typeof key === 'string' ? key : keyText, keyStart, value });
  }
}

/** Whether a plain scalar may start so: not with an indicator, but `-` before anything but a space. */
function mayStartPlain(text: string): boolean {
  return !INDICATOR.test(text) || /^-[^ ]/.test(text);
}

/** A line at `indent` that is a sequence item: `-` then a space or the end of the line. */
function isSeqItem(line: Line, indent: number): boolean {
  return line.indent === indent && line.text[indent] === '-' && (line.text.length === indent + 1 || line.text[indent + 1] === ' ');
}

/**
 * Whether `rest` (not empty, no leading space) starts with `key:` of a mapping entry. A quoted
 * scalar or a flow collection is read as a value, which fails if a `:` follows it (such keys are
 * not in the subset).
 */
function isMapEntryStart(rest: string): boolean {
  if (/^["'[{]/.test(rest)) return false;
  for (let i = rest.indexOf(':'); i >= 0; i = rest.indexOf(':', i + 1)) {
    if (i + 1 === rest.length || rest[i + 1] === ' ') return !rest.slice(0, i).includes(' #');
  }
  return false;
}

/** Without its trailing spaces: YAML's white space is spaces and tabs, not all that String.trimEnd takes. */
function trimSpaces(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x20) end--;
  return text.slice(0, end);
}

function nullScalar(start: number): ScalarNode {
  return { kind: 'scalar', value: null, float: false, plain: '', start };
}

function plainScalar(text: string, start: number): ScalarNode {
  const r = resolvePlain(text);
  if (r === undefined) throw OUTSIDE;
  return { kind: 'scalar', value: r.value, float: r.float, plain: text, start };
}

/** After a scalar that ends at `end`: nothing but spaces and a comment. */
function endOfLine(text: string, end: number): void {
  if (!/^(?: +#.*| *)$/.test(text.slice(end))) throw OUTSIDE;
}

// Escapes of double-quoted scalars the subset reads; others are left to the full parser.
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\', '"': '"', '/': '/', n: '\n', t: '\t', r: '\r', '0': '\0' };

/** A one-line quoted scalar opening at `col`: its value and where it ends (after the quote). */
function quoted(text: string, col: number): { value: string; end: number } {
  const q = text[col];
  let value = '';
  for (let i = col + 1; i < text.length; i++) {
    const c = text[i]!;
    if (q === "'") {
      if (c !== "'") value += c;
      else if (text[i + 1] === "'") {
        value += "'";
        i++;
      } else return { value, end: i + 1 };
    } else if (c === '"') {
      return { value, end: i + 1 };
    } else if (c === '\\') {
      const e = text[i + 1] ?? '';
      const hex = e === 'x' ? 2 : e === 'u' ? 4 : 0;
      if (hex > 0) {
        const digits = text.slice(i + 2, i + 2 + hex);
        if (digits.length !== hex || !/^[0-9a-fA-F]+$/.test(digits)) throw OUTSIDE;
        const cp = parseInt(digits, 16);
        // Surrogate halves are left to the full parser.
        if (cp >= 0xd800 && cp <= 0xdfff) throw OUTSIDE;
        value += String.fromCharCode(cp);
        i += 1 + hex;
      } else {
        const r = ESCAPES[e];
        if (r === undefined) throw OUTSIDE;
        value += r;
        i++;
      }
    } else {
      value += c;
    }
  }
  // Not closed on this line: a multi-line scalar.
  throw OUTSIDE;
}

/**
 * `[a, "b", 'c']` or `{a: 1, b: "c"}` opening at `col` and closing on the same line, holding
 * scalars only (keys plain).
 */
function flowCollection(line: Line, col: number): SeqNode | MapNode {
  const text = line.text;
  const isMap = text[col] === '{';
  const close = isMap ? '}' : ']';
  const items: YamlNode[] = [];
  const entries = new Entries();
  let i = col + 1;
  const skip = (): void => {
    while (text[i] === ' ') i++;
  };
  // A plain scalar in a flow collection ends at `,` or the closing bracket (or `: ` for a key).
  const plainUntil = (stop: (at: number) => boolean): { text: string; start: number } => {
    const start = i;
    while (i < text.length && !stop(i)) i++;
    const plain = trimSpaces(text.slice(start, i));
    if (plain === '' || !mayStartPlain(plain) || /[:#,[\]{}"']/.test(plain)) throw OUTSIDE;
    return { text: plain, start: line.start + start };
  };
  const value = (): YamlNode => {
    const c = text[i];
    if (c === '"' || c === "'") {
      const q = quoted(text, i);
      const node: ScalarNode = { kind: 'scalar', value: q.value, float: false, start: line.start + i };
      i = q.end;
      return node;
    }
    const p = plainUntil((at) => text[at] === ',' || text[at] === close);
    return plainScalar(p.text, p.start);
  };
  skip();
  if (text[i] !== close) {
    for (;;) {
      skip();
      if (isMap) {
        const k = plainUntil((at) => text[at] === ':' && text[at + 1] === ' ');
        if (text[i] !== ':') throw OUTSIDE;
        i += 2;
        skip();
        entries.add(k.text, k.start, value());
      } else {
        items.push(value());
      }
      skip();
      if (text[i] === close) break;
      if (text[i] !== ',') throw OUTSIDE;
      i++;
      skip();
      // A trailing comma, or an empty entry.
      if (text[i] === close || text[i] === ',') throw OUTSIDE;
    }
  }
  endOfLine(text, i + 1);
  const start = line.start + col;
  return isMap ? { kind: 'map', entries: entries.list, start } : { kind: 'seq', items, start };
}

/** Folded content lines: a line break between two lines becomes a space; empty lines stay line breaks. */
function fold(lines: readonly string[]): string {
  let out = '';
  let empties = 0;
  for (const [n, l] of lines.entries()) {
    if (l === '') {
      empties++;
      continue;
    }
    if (n > 0) out += empties > 0 ? '\n'.repeat(empties) : ' ';
    out += l;
    empties = 0;
  }
  return out;
}
