// Content digests (OCI image-spec descriptor.md "Digests"): `algorithm ":" encoded`. Registered
// algorithms are sha256 (the one everything uses) and sha512; their encoded part is lower-case hex
// of a fixed length, and upper-case hex MUST NOT be accepted (it would give one blob two names).
import { createHash, type Hash } from 'node:crypto';
import { InvalidArgument, Unimplemented } from '../../lib/errors.js';

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface ParsedDigest {
  readonly algorithm: DigestAlgorithm;
  /** Lower-case hex. */
  readonly hex: string;
  /** `algorithm:hex`. */
  readonly text: string;
}

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
// descriptor.md grammar: algorithm-component (separator algorithm-component)*, then ':' encoded.
const GRAMMAR = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

/** Why `text` is not a digest we can verify, or undefined when it is one. */
export function digestProblem(text: string): string | undefined {
  const m = GRAMMAR.exec(text);
  if (m === null) return `${JSON.stringify(text)} is not a digest (algorithm:encoded)`;
  const algorithm = m[1]!;
  const encoded = m[2]!;
  if (algorithm !== 'sha256' && algorithm !== 'sha512') return `digest algorithm ${JSON.stringify(algorithm)} is not supported (sha256, sha512)`;
  const length = HEX_LENGTH[algorithm];
  if (!new RegExp(`^[a-f0-9]{${length}}$`).test(encoded)) return `${algorithm} digest must be ${length} lower-case hex digits: ${JSON.stringify(text)}`;
  return undefined;
}

export function isDigest(text: string): boolean {
  return digestProblem(text) === undefined;
}

/** Parse a digest; a malformed one is InvalidArgument, a well-formed one of an unknown algorithm Unimplemented. */
export function parseDigest(text: string, what = 'digest'): ParsedDigest {
  const problem = digestProblem(text);
  if (problem !== undefined) {
    const m = GRAMMAR.exec(text);
    if (m !== null && m[1] !== 'sha256' && m[1] !== 'sha512') throw new Unimplemented(`${what}: ${problem}`);
    throw new InvalidArgument(`${what}: ${problem}`);
  }
  const colon = text.indexOf(':');
  return { algorithm: text.slice(0, colon) as DigestAlgorithm, hex: text.slice(colon + 1), text };
}

/** A hash that yields the digest of what was fed to it. */
export function digester(algorithm: DigestAlgorithm = 'sha256'): Hash {
  return createHash(algorithm);
}

export function digestOf(data: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** Docker's short image ID: the first 12 hex digits, without the algorithm (stringid.TruncateID). */
export function shortId(digest: string): string {
  const colon = digest.indexOf(':');
  return digest.slice(colon + 1, colon + 13);
}
