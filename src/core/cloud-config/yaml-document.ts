// YAML as cloud-init reads it, kept with source positions.
//
// cloud-init loads every YAML file with PyYAML's SafeLoader (cloudinit/safeyaml.py), which
// implements YAML 1.1: `yes`/`no`/`on`/`off` are booleans, `0644` is the octal integer 420 and
// `22:30` is the base-60 integer 1350. Validating with YAML 1.2 rules would pass configs that
// cloud-init reads differently, so the yaml package is run with `version: '1.1'` and its 1.1
// schema. That schema is close to PyYAML's resolver but not equal (it also takes `y`/`n` as
// booleans, `1e3` as a float, `09` as the integer 9 and `2020-1-5` as a date, none of which PyYAML
// does), so the implicit bool/int/float/timestamp tags are replaced below by PyYAML's own regular
// expressions (yaml/resolver.py, in yaml-scalars.ts). Every node is then converted into a small
// located tree: values as PyYAML would construct them, each with the offsets of its key and value.
//
// Most cloud-configs are plain block YAML: yaml-subset.ts reads those into the same tree without
// the yaml package, which is loaded (dist/vendor/yaml.cjs) only for the rest, errors included.
import type { Document, Node, ScalarTag, Tags } from '#yaml';
import type { ProblemReport } from './problem.js';
import { childPointer } from './problem.js';
import { yamlPackage } from './yaml-package.js';
import { BOOL_TAG, FLOAT_TAG, INT_TAG, PY_BOOL, PY_FLOAT, PY_INT, PY_TIMESTAMP, PY_TRUE, TIMESTAMP_TAG, keyId, resolveFloat, resolveInt, resolveTimestamp } from './yaml-scalars.js';
import { parseYamlSubset } from './yaml-subset.js';

export type YamlScalar = string | number | boolean | null | Date | Uint8Array;

export interface ScalarNode {
  readonly kind: 'scalar';
  readonly value: YamlScalar;
  /** PyYAML would construct a float (1.0 is a float, not the integer 1). */
  readonly float: boolean;
  /** The text as written, for plain (unquoted) scalars only: lets messages explain YAML 1.1. */
  readonly plain?: string;
  readonly start: number;
}

export interface MapEntry {
  readonly key: YamlScalar;
  /** The key as text, for paths and messages. */
  readonly name: string;
  readonly keyStart: number;
  readonly value: YamlNode;
}

export interface MapNode {
  readonly kind: 'map';
  readonly entries: readonly MapEntry[];
  readonly start: number;
}

export interface SeqNode {
  readonly kind: 'seq';
  readonly items: readonly YamlNode[];
  readonly start: number;
}

export type YamlNode = ScalarNode | MapNode | SeqNode;

/** What PyYAML would construct, as plain JavaScript (mappings become objects with string keys). */
export type PlainValue = YamlScalar | PlainValue[] | { [key: string]: PlainValue };

const pyBool: ScalarTag = {
  tag: BOOL_TAG,
  default: true,
  identify: (v) => typeof v === 'boolean',
  test: PY_BOOL,
  resolve: (s) => PY_TRUE.has(s),
};
const pyInt: ScalarTag = {
  tag: INT_TAG,
  default: true,
  identify: (v) => typeof v === 'number' && Number.isInteger(v),
  test: PY_INT,
  resolve: resolveInt,
};
const pyFloat: ScalarTag = {
  tag: FLOAT_TAG,
  default: true,
  identify: (v) => typeof v === 'number',
  test: PY_FLOAT,
  resolve: resolveFloat,
};
const pyTimestamp: ScalarTag = {
  tag: TIMESTAMP_TAG,
  default: true,
  identify: (v) => v instanceof Date,
  test: PY_TIMESTAMP,
  resolve: resolveTimestamp,
};

// Explicit tags (`!!int "42"`, `!!float 1`) are constructed from any text that Python's int(),
// float() or PyYAML's bool table accept, not only from what the implicit resolver matches. The
// yaml package uses a tag without `default` for explicit tags without testing the text.
const PY_INT_TEXT = /^[-+]?(?:0b[01_]+|0x[0-9a-fA-F_]+|0[0-7_]*|[1-9][0-9_]*(?::[0-5]?[0-9])*)$/;
const PY_FLOAT_TEXT = /^[-+]?(?:(?:[0-9][0-9_]*)?\.?[0-9_]*(?:[eE][-+]?[0-9]+)?|\.inf|\.nan|inf|nan|infinity|[0-9][0-9_]*(?::[0-5]?[0-9])+\.?[0-9_]*)$/i;
const PY_BOOL_TEXT = /^(?:yes|no|true|false|on|off)$/i;
const explicitInt: ScalarTag = {
  tag: INT_TAG,
  resolve: (s, onError) => (PY_INT_TEXT.test(s) && /[0-9]/.test(s) ? resolveInt(s) : (onError(`PyYAML cannot construct an int from '${s}'`), s)),
};
const explicitFloat: ScalarTag = {
  tag: FLOAT_TAG,
  resolve: (s, onError) => {
    if (!PY_FLOAT_TEXT.test(s) || !/[0-9]|inf|nan/i.test(s)) {
      onError(`PyYAML cannot construct a float from '${s}'`);
      return s;
    }
    const lower = s.toLowerCase().replace(/^([-+]?)(inf|infinity|nan)$/, '$1.$2').replace('.infinity', '.inf');
    return resolveFloat(lower);
  },
};
const explicitBool: ScalarTag = {
  tag: BOOL_TAG,
  resolve: (s, onError) => (PY_BOOL_TEXT.test(s) ? PY_TRUE.has(s.toLowerCase()) : (onError(`PyYAML cannot construct a bool from '${s}'`), s)),
};
// PyYAML resolves a plain `=` to tag:yaml.org,2002:value, which its safe loader cannot construct.
const pyValue: ScalarTag = {
  tag: 'tag:yaml.org,2002:value',
  default: true,
  test: /^=$/,
  resolve: (s, onError) => {
    onError("PyYAML's safe loader cannot construct a plain '=' (the YAML 1.1 value key); quote it");
    return s;
  },
};

function pyYamlTags(tags: Tags): Tags {
  const replaced = new Set([BOOL_TAG, INT_TAG, FLOAT_TAG, TIMESTAMP_TAG]);
  const kept = tags.filter((t) => typeof t === 'string' || !replaced.has(t.tag));
  return [...kept, pyBool, pyInt, pyFloat, pyTimestamp, pyValue, explicitBool, explicitInt, explicitFloat];
}

// PyYAML reader.py NON_PRINTABLE (the complement of what a YAML stream may contain).
// eslint-disable-next-line no-control-regex
const NON_PRINTABLE = /[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * Bounds the nodes reached through aliases: PyYAML shares an aliased node, but the located tree
 * copies it, so nested aliases ("billion laughs") would grow exponentially. Nodes written out in
 * the text are bounded by its size and not counted.
 */
const MAX_ALIASED_NODES = 100_000;

export interface ParsedYaml {
  /** Undefined when the text is not YAML PyYAML would load (the errors are in the report). */
  readonly root?: YamlNode;
}

/**
 * Parse `text` the way cloud-init's safeyaml.load would; YAML errors and duplicate keys go into
 * `report` with their positions. An empty document is the null scalar, like PyYAML's None.
 */
export function parseYaml(text: string, report: ProblemReport): ParsedYaml {
  // PyYAML's Reader refuses these characters anywhere in the stream, even inside quotes.
  const bad = NON_PRINTABLE.exec(text);
  if (bad !== null) {
    const cp = bad[0].codePointAt(0) ?? 0;
    report.error(bad.index, '', `YAML: the character U+${cp.toString(16).toUpperCase().padStart(4, '0')} is not allowed (PyYAML accepts only printable characters, tab and line breaks)`);
    return {};
  }
  const root = parseYamlSubset(text);
  return root === undefined ? parseWithYamlPackage(text, report) : { root };
}

/**
 * parseYaml() with the yaml package alone: what it runs when the subset parser declines (the
 * differential test compares the two on the texts the subset parser takes).
 */
export function parseWithYamlPackage(text: string, report: ProblemReport): ParsedYaml {
  const doc = yamlPackage().parseDocument(text, {
    version: '1.1',
    schema: 'yaml-1.1',
    customTags: pyYamlTags,
    prettyErrors: false,
    // PyYAML keeps the last of duplicate keys; they are reported as warnings below instead.
    uniqueKeys: false,
    intAsBigInt: false,
  });
  const firstError = doc.errors[0];
  if (firstError !== undefined) {
    // PyYAML stops at the first error; later ones are usually consequences of it.
    report.error(firstError.pos[0], '', `YAML: ${firstLine(firstError.message)}`);
    return {};
  }
  for (const w of doc.warnings) {
    // An explicit tag PyYAML's SafeLoader cannot construct (e.g. !!python/object) fails there too.
    if (w.code === 'TAG_RESOLVE_FAILED') report.error(w.pos[0], '', `YAML: ${firstLine(w.message)} (PyYAML's safe loader refuses unknown tags)`);
  }
  if (report.errorCount() > 0) return {};
  const state: ConvertState = { doc, text, report, aliasDepth: 0, aliasedNodes: 0, active: new Set(), exhausted: false };
  const root = doc.contents === null ? nullNode(0) : convert(doc.contents, '', state);
  return state.exhausted || root === undefined ? {} : { root };
}

interface ConvertState {
  readonly doc: Document.Parsed;
  readonly text: string;
  readonly report: ProblemReport;
  /** How many aliases the conversion is inside, and how many nodes it copied through them. */
  aliasDepth: number;
  aliasedNodes: number;
  /** Nodes being converted, to refuse an alias that points into its own anchor. */
  readonly active: Set<Node>;
  exhausted: boolean;
}

function nullNode(at: number): ScalarNode {
  return { kind: 'scalar', value: null, float: false, start: at };
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

function rangeOf(node: Node): [number, number] {
  const r = node.range;
  return r === undefined || r === null ? [0, 0] : [r[0], r[1]];
}

function convert(node: Node, path: string, st: ConvertState): YamlNode | undefined {
  if (st.exhausted) return undefined;
  if (st.aliasDepth > 0 && ++st.aliasedNodes > MAX_ALIASED_NODES) {
    st.exhausted = true;
    st.report.error(rangeOf(node)[0], path, `YAML: aliases expand to more than ${MAX_ALIASED_NODES} nodes`);
    return undefined;
  }
  if (yamlPackage().isAlias(node)) {
    const target = node.resolve(st.doc);
    if (target === undefined) {
      st.report.error(rangeOf(node)[0], path, `YAML: unknown alias *${node.source}`);
      st.exhausted = true;
      return undefined;
    }
    if (st.active.has(target)) {
      st.report.error(rangeOf(node)[0], path, `YAML: alias *${node.source} refers to a node that contains it`);
      st.exhausted = true;
      return undefined;
    }
    st.aliasDepth += 1;
    const inner = convert(target, path, st);
    st.aliasDepth -= 1;
    // Positions of an alias are the alias's own, so problems point at where the value is used.
    if (inner === undefined) return undefined;
    return { ...inner, start: rangeOf(node)[0] };
  }
  const { isMap, isPair, isScalar, isSeq } = yamlPackage();
  const [start, end] = rangeOf(node);
  if (isScalar(node)) {
    const v = node.value;
    const plain = node.type === 'PLAIN' && typeof node.source === 'string' ? node.source : undefined;
    if (plain === '<<' && node.tag === undefined) {
      // PyYAML tags a plain << as a merge key wherever it is; as a value it cannot be constructed.
      st.report.error(start, path, "YAML: a plain '<<' is a merge key; PyYAML cannot construct it as a value (quote it)");
      st.exhausted = true;
      return undefined;
    }
    let value: YamlScalar =
      v === null || v === undefined ? null : typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : v instanceof Date || v instanceof Uint8Array ? v : String(v);
    // A block scalar that ends the stream without a line break has no final line break in
    // PyYAML; the yaml package adds one.
    if ((node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED') && typeof value === 'string' && value.endsWith('\n') && end >= st.text.length && !/[\n\r]$/.test(st.text)) {
      value = value.slice(0, -1);
    }
    const float = typeof value === 'number' && (node.tag === FLOAT_TAG || (node.tag === undefined && plain !== undefined && PY_FLOAT.test(plain)));
    return { kind: 'scalar', value, float, ...(plain === undefined ? {} : { plain }), start };
  }
  st.active.add(node);
  try {
    if (isMap(node)) return convertMap(node.items, start, path, st);
    if (isSeq(node)) {
      // !!omap and !!pairs are sequences of one-key mappings in PyYAML's terms.
      const items: YamlNode[] = [];
      for (const [i, item] of node.items.entries()) {
        const child = isPair(item) ? convertMap([item], rangeOf(item.key as Node)[0], childPointer(path, i), st) : convert(item as Node, childPointer(path, i), st);
        if (child === undefined) return undefined;
        items.push(child);
      }
      return { kind: 'seq', items, start };
    }
  } finally {
    st.active.delete(node);
  }
  return nullNode(start);
}

interface PairLike {
  readonly key: unknown;
  readonly value: unknown;
}

function isMergeKey(key: unknown): boolean {
  return yamlPackage().isScalar(key) && (typeof key.value === 'symbol' || (key.value === '<<' && key.type === 'PLAIN'));
}

function convertMap(pairs: readonly PairLike[], start: number, path: string, st: ConvertState): MapNode | undefined {
  // Keyed by keyId so that large mappings stay linear.
  const explicit = new Map<string, MapEntry>();
  const merged = new Map<string, MapEntry>();
  for (const pair of pairs) {
    const keyNode = pair.key as Node | null;
    const valueNode = pair.value as Node | null;
    if (keyNode !== null && isMergeKey(keyNode)) {
      // YAML 1.1 merge key: PyYAML's flatten_mapping. Explicit keys win over merged ones; among
      // merged mappings (one, or a list of them), the first one to give a key wins.
      const sources = valueNode === null ? undefined : convert(valueNode, path, st);
      if (sources === undefined) return undefined;
      for (const m of sources.kind === 'seq' ? sources.items : [sources]) {
        if (m.kind !== 'map') {
          st.report.error(m.start, path, 'YAML: a merge key (<<) takes a mapping or a list of mappings');
          st.exhausted = true;
          return undefined;
        }
        for (const e of m.entries) if (!merged.has(keyId(e.key))) merged.set(keyId(e.key), e);
      }
      continue;
    }
    let key: YamlScalar = null;
    let name = 'null';
    let keyStart = valueNode === null ? start : rangeOf(valueNode)[0];
    if (keyNode !== null) {
      keyStart = rangeOf(keyNode)[0];
      const k = convert(keyNode, path, st);
      if (k === undefined) return undefined;
      if (k.kind !== 'scalar') {
        st.report.error(keyStart, path, 'YAML: a mapping key must be a scalar (PyYAML: found unhashable key)');
        st.exhausted = true;
        return undefined;
      }
      key = k.value;
      name = keyName(k);
    }
    const childPath = childPointer(path, name);
    const value = valueNode === null ? nullNode(keyStart) : convert(valueNode, childPath, st);
    if (value === undefined) return undefined;
    const id = keyId(key);
    // Like a Python dict, a repeated key keeps its first place and takes the last value.
    if (explicit.has(id)) st.report.warning(keyStart, childPath, `duplicate key '${name}': PyYAML keeps only this last value`);
    explicit.set(id, { key, name, keyStart, value });
  }
  const entries = [...[...merged].filter(([id]) => !explicit.has(id)).map(([, e]) => e), ...explicit.values()];
  return { kind: 'map', entries, start };
}

function keyName(k: ScalarNode): string {
  if (typeof k.value === 'string') return k.value;
  if (k.plain !== undefined) return k.plain;
  return scalarText(k.value);
}

export function scalarText(v: YamlScalar): string {
  if (v === null) return 'null';
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'invalid date' : v.toISOString();
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  return String(v);
}

/** The value PyYAML would construct, as JSON-compatible-ish JavaScript. */
export function toPlain(node: YamlNode): PlainValue {
  if (node.kind === 'scalar') return node.value;
  if (node.kind === 'seq') return node.items.map(toPlain);
  // fromEntries defines own properties, so a key named __proto__ stays data.
  return Object.fromEntries(node.entries.map((e) => [e.name, toPlain(e.value)]));
}

/** The entry for `key` in a mapping node (string keys only). */
export function entryOf(node: YamlNode | undefined, key: string): MapEntry | undefined {
  if (node === undefined || node.kind !== 'map') return undefined;
  return node.entries.find((e) => e.key === key);
}
