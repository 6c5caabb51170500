// A small reader for JSON documents received from registries: it walks the parsed value with a
// JSON pointer (RFC 6901) and collects every problem it finds, so one error can say which fields
// of a manifest or config are wrong instead of stopping at the first.
import { InvalidArgument } from '../../lib/errors.js';

export type JsonObject = { readonly [key: string]: unknown };

export class JsonChecker {
  readonly problems: string[] = [];

  /** Note a problem at `pointer` ('' is the whole document). */
  add(pointer: string, message: string): void {
    this.problems.push(`${pointer === '' ? '/' : pointer}: ${message}`);
  }

  object(value: unknown, pointer: string): JsonObject | undefined {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as JsonObject;
    this.add(pointer, `must be an object, not ${kindOf(value)}`);
    return undefined;
  }

  optionalObject(value: unknown, pointer: string): JsonObject | undefined {
    return value === undefined || value === null ? undefined : this.object(value, pointer);
  }

  string(value: unknown, pointer: string): string | undefined {
    if (typeof value === 'string') return value;
    this.add(pointer, value === undefined ? 'is required' : `must be a string, not ${kindOf(value)}`);
    return undefined;
  }

  optionalString(value: unknown, pointer: string): string | undefined {
    return value === undefined || value === null ? undefined : this.string(value, pointer);
  }

  /** A non-negative integer that JavaScript represents exactly. */
  size(value: unknown, pointer: string): number | undefined {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
    this.add(pointer, value === undefined ? 'is required' : `must be a non-negative integer, not ${JSON.stringify(value)}`);
    return undefined;
  }

  array(value: unknown, pointer: string): readonly unknown[] | undefined {
    if (Array.isArray(value)) return value;
    this.add(pointer, value === undefined ? 'is required' : `must be an array, not ${kindOf(value)}`);
    return undefined;
  }

  optionalArray(value: unknown, pointer: string): readonly unknown[] | undefined {
    return value === undefined || value === null ? undefined : this.array(value, pointer);
  }

  optionalStringArray(value: unknown, pointer: string): string[] | undefined {
    const items = this.optionalArray(value, pointer);
    if (items === undefined) return undefined;
    const out: string[] = [];
    items.forEach((item, i) => {
      const s = this.string(item, `${pointer}/${i}`);
      if (s !== undefined) out.push(s);
    });
    return out;
  }

  /** An object whose values are all strings (annotations, labels). */
  optionalStringMap(value: unknown, pointer: string): Record<string, string> | undefined {
    const obj = this.optionalObject(value, pointer);
    if (obj === undefined) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj)) {
      const s = this.string(v, childPointer(pointer, k));
      if (s !== undefined) out[k] = s;
    }
    return out;
  }

  /** Throw an InvalidArgument listing every problem, if there are any. */
  throwIfProblems(what: string, subject?: string): void {
    if (this.problems.length === 0) return;
    const more = this.problems.length > 1 ? ` (and ${this.problems.length - 1} more)` : '';
    throw new InvalidArgument(`${what}: ${this.problems[0]}${more}`, { problems: this.problems, ...(subject === undefined ? {} : { subject }) });
  }
}

/** RFC 6901: `~` is written `~0` and `/` is written `~1` inside a reference token. */
export function childPointer(parent: string, key: string | number): string {
  return `${parent}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** JSON.parse for received bytes: malformed JSON is InvalidArgument naming what it was. */
export function parseJsonBytes(bytes: Uint8Array, what: string, subject?: string): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    throw new InvalidArgument(`${what}: not UTF-8`, { cause: e, ...(subject === undefined ? {} : { subject }) });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new InvalidArgument(`${what}: not JSON (${e instanceof Error ? e.message : String(e)})`, { cause: e, ...(subject === undefined ? {} : { subject }) });
  }
}
