// A small validator for schemas written as data (schema.ts, network-config.ts, meta-data.ts). It
// walks the located YAML tree, so every problem carries the position of the node it is about: the
// key for unknown keys, the value for wrong values, the mapping for missing keys. It reports
// everything it finds instead of stopping at the first problem (shared/DESIGN.md).
//
// The vocabulary is JSON Schema's (type, enum, required, oneOf, minItems) because cloud-init's own
// schema (config/schemas/schema-cloud-config-v1.json) is JSON Schema; keeping the same words makes
// the two easy to compare. Checks JSON Schema cannot express (cross-field rules, YAML 1.1 traps)
// are plain functions attached to the schema node.
import { didYouMean, Suggester } from './did-you-mean.js';
import { childPointer, type ProblemReport } from './problem.js';
import { scalarText, type YamlNode } from './yaml-document.js';

/** The type PyYAML would construct for a node, in Python's words for people. */
export type YamlType = 'string' | 'integer' | 'float' | 'boolean' | 'null' | 'list' | 'mapping' | 'date' | 'binary';

export function yamlTypeOf(node: YamlNode): YamlType {
  if (node.kind === 'map') return 'mapping';
  if (node.kind === 'seq') return 'list';
  const v = node.value;
  if (v === null) return 'null';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return node.float ? 'float' : 'integer';
  if (v instanceof Date) return 'date';
  return 'binary';
}

/** Where in the document a check is: the report to write to and the JSON pointer so far. */
export class Cursor {
  constructor(
    readonly report: ProblemReport,
    readonly path: string,
  ) {}

  child(key: string | number): Cursor {
    return new Cursor(this.report, childPointer(this.path, key));
  }

  error(at: YamlNode | number, message: string): void {
    this.report.error(typeof at === 'number' ? at : at.start, this.path, message);
  }

  warning(at: YamlNode | number, message: string): void {
    this.report.warning(typeof at === 'number' ? at : at.start, this.path, message);
  }
}

interface SchemaBase {
  /** How the expected value is named in messages ("an octal mode string or an integer"). */
  readonly title?: string;
  /** cloud-init accepts it but has deprecated it: validated, and this warning added. */
  readonly deprecated?: string;
  /** Further checks, run once the node has the right type. */
  readonly check?: (node: YamlNode, at: Cursor) => void;
}

export interface StringSchema extends SchemaBase {
  readonly type: 'string';
  readonly enum?: readonly string[];
  readonly pattern?: RegExp;
  /** Said when `pattern` does not match, after the value. */
  readonly patternMessage?: string;
  readonly minLength?: number;
}
export interface IntegerSchema extends SchemaBase {
  readonly type: 'integer';
  readonly minimum?: number;
  readonly maximum?: number;
}
/** An integer or a float. */
export interface NumberSchema extends SchemaBase {
  readonly type: 'number';
  readonly minimum?: number;
}
export interface BooleanSchema extends SchemaBase {
  readonly type: 'boolean';
  readonly enum?: readonly boolean[];
}
export interface NullSchema extends SchemaBase {
  readonly type: 'null';
}
export interface ArraySchema extends SchemaBase {
  readonly type: 'array';
  readonly items: Schema;
  readonly minItems?: number;
}
/** A mapping with known keys. */
export interface ObjectSchema extends SchemaBase {
  readonly type: 'object';
  readonly properties: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  /**
   * What an unknown key is: an error (cloud-init's additionalProperties: false), a warning, or
   * nothing unless it is close to a known key ('suggest', for free-form data like meta-data).
   */
  readonly unknownKeys: 'error' | 'warning' | 'suggest';
  /** Added to unknown-key warnings, e.g. "cloud-init and atomicd ignore it". */
  readonly unknownKeyNote?: string;
}
/** A mapping from free-form names to values of one schema (netplan's ethernets, groups). */
export interface MapSchema extends SchemaBase {
  readonly type: 'map';
  readonly values: Schema;
  readonly keyPattern?: RegExp;
  readonly keyMessage?: string;
  readonly minProperties?: number;
}
export interface OneOfSchema extends SchemaBase {
  readonly type: 'oneOf';
  readonly oneOf: readonly Schema[];
}
export interface AnySchema extends SchemaBase {
  readonly type: 'any';
}
/** A key cloud-init knows but atomicd does not apply: a warning, and its value is not checked. */
export interface UnsupportedSchema {
  readonly type: 'unsupported';
  readonly message: string;
}

export type Schema =
  | StringSchema
  | IntegerSchema
  | NumberSchema
  | BooleanSchema
  | NullSchema
  | ArraySchema
  | ObjectSchema
  | MapSchema
  | OneOfSchema
  | AnySchema
  | UnsupportedSchema;

// Constructors, so schemas read as data (an object schema's unknown keys are errors by default).
export const str = (extra: Omit<StringSchema, 'type'> = {}): StringSchema => ({ type: 'string', ...extra });
export const bool = (extra: Omit<BooleanSchema, 'type'> = {}): BooleanSchema => ({ type: 'boolean', ...extra });
export const int = (extra: Omit<IntegerSchema, 'type'> = {}): IntegerSchema => ({ type: 'integer', ...extra });
export const list = (items: Schema, extra: Omit<ArraySchema, 'type' | 'items'> = {}): ArraySchema => ({ type: 'array', items, ...extra });
export const oneOf = (alternatives: readonly Schema[], extra: Omit<OneOfSchema, 'type' | 'oneOf'> = {}): OneOfSchema => ({ type: 'oneOf', oneOf: alternatives, ...extra });
export const obj = (properties: Record<string, Schema>, extra: Omit<ObjectSchema, 'type' | 'properties' | 'unknownKeys'> & { unknownKeys?: ObjectSchema['unknownKeys'] } = {}): ObjectSchema => ({
  type: 'object',
  properties,
  unknownKeys: 'error',
  ...extra,
});
export const nul: Schema = { type: 'null' };

const ALL_TYPES: readonly YamlType[] = ['string', 'integer', 'float', 'boolean', 'null', 'list', 'mapping', 'date', 'binary'];

function acceptedTypes(s: Schema): readonly YamlType[] {
  switch (s.type) {
    case 'string':
      return ['string'];
    case 'integer':
      return ['integer'];
    case 'number':
      return ['integer', 'float'];
    case 'boolean':
      return ['boolean'];
    case 'null':
      return ['null'];
    case 'array':
      return ['list'];
    case 'object':
    case 'map':
      return ['mapping'];
    case 'oneOf':
      return [...new Set(s.oneOf.flatMap(acceptedTypes))];
    case 'any':
    case 'unsupported':
      return ALL_TYPES;
  }
}

function expected(s: Schema): string {
  if ('title' in s && s.title !== undefined) return s.title;
  switch (s.type) {
    case 'string':
      return s.enum !== undefined ? `one of ${s.enum.join(', ')}` : 'a string';
    case 'integer':
      return 'an integer';
    case 'number':
      return 'a number';
    case 'boolean':
      return s.enum !== undefined && s.enum.length === 1 ? String(s.enum[0]) : 'a boolean';
    case 'null':
      return 'null';
    case 'array':
      return 'a list';
    case 'object':
    case 'map':
      return 'a mapping';
    case 'oneOf':
      return [...new Set(s.oneOf.map(expected))].join(' or ');
    case 'any':
    case 'unsupported':
      return 'anything';
  }
}

/** `an integer (420)`, `a string ("x")`, ... for messages. */
export function describeNode(node: YamlNode): string {
  const t = yamlTypeOf(node);
  if (node.kind !== 'scalar') return t === 'list' ? 'a list' : 'a mapping';
  const shown = node.plain ?? (typeof node.value === 'string' ? JSON.stringify(node.value) : scalarText(node.value));
  const short = shown.length > 40 ? `${shown.slice(0, 37)}...` : shown;
  switch (t) {
    case 'null':
      return 'nothing (null)';
    case 'integer':
      return `an integer (${short})`;
    case 'float':
      return `a float (${short})`;
    case 'boolean':
      return `a boolean (${short})`;
    case 'date':
      return `a date (${short})`;
    case 'binary':
      return 'binary data';
    default:
      return `a string (${short})`;
  }
}

/**
 * Why a plain scalar is not the string it looks like, in YAML 1.1 terms; '' when it is not a YAML
 * 1.1 surprise. PyYAML is what cloud-init parses with, so these are what the user has to fix.
 */
export function yaml11Hint(node: YamlNode): string {
  if (node.kind !== 'scalar' || node.plain === undefined) return '';
  const p = node.plain;
  const v = node.value;
  const pre = `YAML 1.1 (PyYAML, which cloud-init uses) reads unquoted ${p} as`;
  if (typeof v === 'boolean') return `${pre} the boolean ${v}; quote it to keep the text`;
  if (typeof v === 'number' && !node.float && p.includes(':')) return `${pre} the base-60 integer ${v}; quote it`;
  if (typeof v === 'number' && !node.float && /^[-+]?0[0-7_]+$/.test(p)) return `${pre} the octal integer ${v}; quote it to keep the text`;
  if (typeof v === 'number' && node.float) return `${pre} the number ${v}; quote it to keep the text`;
  if (typeof v === 'number') return `${pre} the integer ${v}; quote it to make it a string`;
  if (v instanceof Date) return `${pre} a date; quote it`;
  return '';
}

function typeMismatch(node: YamlNode, s: Schema, at: Cursor): void {
  const wanted = expected(s);
  const accepts = acceptedTypes(s);
  const hint = accepts.includes('string') ? yaml11Hint(node) : '';
  at.error(node, `expected ${wanted}, got ${describeNode(node)}${hint === '' ? '' : ` (${hint})`}`);
}

/** Validate `node` against `schema`, adding every problem found to the cursor's report. */
export function validateNode(node: YamlNode, schema: Schema, at: Cursor): void {
  if (schema.type === 'unsupported') return;
  const t = yamlTypeOf(node);
  if (!acceptedTypes(schema).includes(t)) {
    typeMismatch(node, schema, at);
    return;
  }
  if (schema.deprecated !== undefined) at.warning(node, schema.deprecated);
  switch (schema.type) {
    case 'oneOf':
      validateOneOf(node, schema, t, at);
      break;
    case 'string':
      validateString(node, schema, at);
      break;
    case 'integer':
      if (node.kind === 'scalar' && typeof node.value === 'number') {
        if (schema.minimum !== undefined && node.value < schema.minimum) at.error(node, `${node.value} is less than the minimum ${schema.minimum}`);
        if (schema.maximum !== undefined && node.value > schema.maximum) at.error(node, `${node.value} is more than the maximum ${schema.maximum}`);
      }
      break;
    case 'number':
      if (node.kind === 'scalar' && typeof node.value === 'number' && schema.minimum !== undefined && !(node.value >= schema.minimum)) {
        at.error(node, `${node.value} is less than the minimum ${schema.minimum}`);
      }
      break;
    case 'boolean':
      if (schema.enum !== undefined && node.kind === 'scalar' && !schema.enum.includes(node.value as boolean)) {
        at.error(node, `expected ${expected(schema)}, got ${describeNode(node)}`);
      }
      break;
    case 'array':
      if (node.kind === 'seq') {
        if (schema.minItems !== undefined && node.items.length < schema.minItems) {
          at.error(node, node.items.length === 0 ? 'the list is empty' : `the list needs at least ${schema.minItems} items`);
        }
        node.items.forEach((item, i) => validateNode(item, schema.items, at.child(i)));
      }
      break;
    case 'object':
      if (node.kind === 'map') validateObject(node, schema, at);
      break;
    case 'map':
      if (node.kind === 'map') {
        if (schema.minProperties !== undefined && node.entries.length < schema.minProperties) at.error(node, 'the mapping is empty');
        for (const e of node.entries) {
          const child = at.child(e.name);
          if (schema.keyPattern !== undefined && (typeof e.key !== 'string' || !schema.keyPattern.test(e.key))) {
            child.error(e.keyStart, `'${e.name}' ${schema.keyMessage ?? `does not match ${String(schema.keyPattern)}`}`);
          }
          validateNode(e.value, schema.values, child);
        }
      }
      break;
    case 'null':
      break;
  }
  schema.check?.(node, at);
}

function validateString(node: YamlNode, s: StringSchema, at: Cursor): void {
  if (node.kind !== 'scalar' || typeof node.value !== 'string') return;
  const v = node.value;
  if (s.enum !== undefined && !s.enum.includes(v)) {
    const near = didYouMean(v, s.enum);
    at.error(node, `${JSON.stringify(v)} is not one of ${s.enum.join(', ')}${near === undefined ? '' : ` (did you mean ${near}?)`}`);
    return;
  }
  if (s.minLength !== undefined && v.length < s.minLength) {
    at.error(node, v.length === 0 ? 'must not be empty' : `must be at least ${s.minLength} characters`);
    return;
  }
  if (s.pattern !== undefined && !s.pattern.test(v)) at.error(node, `${JSON.stringify(v)} ${s.patternMessage ?? `does not match ${String(s.pattern)}`}`);
}

function validateOneOf(node: YamlNode, s: OneOfSchema, t: YamlType, at: Cursor): void {
  const candidates = s.oneOf.filter((c) => acceptedTypes(c).includes(t));
  const only = candidates[0];
  if (candidates.length === 1 && only !== undefined) {
    validateNode(node, only, at);
    return;
  }
  // Several alternatives take this type (e.g. 'now' or a '+N' string): the first that passes wins;
  // if none does, the first one's problems are the most useful ones to show.
  let firstTry: ProblemReport | undefined;
  for (const c of candidates) {
    const scratch = at.report.fork();
    validateNode(node, c, new Cursor(scratch, at.path));
    if (scratch.errorCount() === 0) {
      at.report.absorb(scratch);
      return;
    }
    firstTry ??= scratch;
  }
  if (firstTry === undefined) return;
  // With a title, one message says what was expected; without, the first alternative explains.
  if (s.title !== undefined) at.error(node, `expected ${s.title}, got ${describeNode(node)}`);
  else at.report.absorb(firstTry);
}

function validateObject(node: YamlNode & { kind: 'map' }, s: ObjectSchema, at: Cursor): void {
  let suggester: Suggester | undefined;
  let unknown = 0;
  for (const e of node.entries) {
    const child = at.child(e.name);
    const prop = typeof e.key === 'string' && Object.hasOwn(s.properties, e.key) ? s.properties[e.key] : undefined;
    if (prop === undefined) {
      suggester ??= new Suggester(Object.keys(s.properties));
      // Past a few hundred unknown keys this is not a typo: stop spending time on suggestions.
      const near = ++unknown > 200 ? undefined : suggester.suggest(e.name);
      const keyHint = typeof e.key === 'boolean' ? ` (YAML 1.1 reads the key ${e.name} as the boolean ${String(e.key)})` : '';
      const msg = `unknown key '${e.name}'${keyHint}${near === undefined ? '' : ` (did you mean '${near}'?)`}${s.unknownKeyNote === undefined ? '' : `: ${s.unknownKeyNote}`}`;
      if (s.unknownKeys === 'error') child.error(e.keyStart, msg);
      else if (s.unknownKeys === 'warning' || near !== undefined) child.warning(e.keyStart, msg);
      continue;
    }
    if (prop.type === 'unsupported') {
      child.warning(e.keyStart, prop.message);
      continue;
    }
    validateNode(e.value, prop, child);
  }
  for (const r of s.required ?? []) {
    if (!node.entries.some((e) => e.key === r)) at.error(node, `missing required key '${r}'`);
  }
}
