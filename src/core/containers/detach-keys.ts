// Docker's detach keys (`--detach-keys`, `detachKeys` of attach, `DetachKeys` of exec): a key
// sequence on an attached stdin that ends the attach and leaves the container running. The
// notation and matching are moby/term's (ToBytes, escapeProxy): keys separated by ",", each a
// single character or "ctrl-X" with X in a-z, @, [, \, ], ^, _; the default is ctrl-p,ctrl-q.
import { InvalidArgument } from '../../lib/errors.js';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

const CTRL_SPECIAL: Readonly<Record<string, number>> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 };

/** The bytes of a detach key sequence; InvalidArgument (naming `field`) for a key it cannot be. */
export function parseDetachKeys(text: string, field = 'detachKeys'): Uint8Array {
  const out: number[] = [];
  for (const raw of text.split(',')) {
    const key = raw.trim();
    if (key.length === 1) {
      out.push(key.charCodeAt(0));
      continue;
    }
    const m = /^ctrl-(.)$/i.exec(key);
    const c = m?.[1];
    if (c === undefined) throw new InvalidArgument(`${field}: invalid detach key ${JSON.stringify(key)} (a character or ctrl-<value>)`, { subject: field });
    const lower = c.toLowerCase();
    if (lower >= 'a' && lower <= 'z') out.push(lower.charCodeAt(0) - 96);
    else if (CTRL_SPECIAL[c] !== undefined) out.push(CTRL_SPECIAL[c]);
    else throw new InvalidArgument(`${field}: invalid detach key ${JSON.stringify(key)}: ctrl- takes a-z, @, [, \\, ], ^ or _`, { subject: field });
  }
  return Uint8Array.from(out);
}

/**
 * Watches stdin for the detach sequence. As moby/term's escapeProxy, only reads of one byte (keys
 * typed on a terminal) are matched: bulk input (a file piped in) passes untouched even when it
 * contains the sequence. Bytes held back as a possible start of the sequence are given back when
 * the sequence breaks off.
 */
export class DetachKeyScanner {
  private pos = 0;

  constructor(private readonly keys: Uint8Array) {}

  /** The bytes to forward, and whether the sequence is now complete (nothing after it is forwarded). */
  push(chunk: Uint8Array): { readonly data: Uint8Array; readonly detach: boolean } {
    if (this.keys.length === 0) return { data: chunk, detach: false };
    const held = this.keys.subarray(0, this.pos);
    if (chunk.length !== 1 || chunk[0] !== this.keys[this.pos]) {
      this.pos = 0;
      return { data: held.length === 0 ? chunk : concat(held, chunk), detach: false };
    }
    if (this.pos === this.keys.length - 1) {
      this.pos = 0;
      return { data: new Uint8Array(0), detach: true };
    }
    this.pos++;
    return { data: new Uint8Array(0), detach: false };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
