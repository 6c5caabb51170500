// SHA-512 crypt ("$6$"), the algorithm of glibc's crypt(3) as specified by Ulrich Drepper,
// "Unix crypt using SHA-256 and SHA-512" (https://www.akkadia.org/drepper/SHA-crypt.txt). We hash
// clear-text passwords (plain_text_passwd, chpasswd type text) ourselves because
// `chpasswd --root DIR` cannot run PAM inside the target root, while `chpasswd -e --root DIR`
// takes a finished hash.
import { requireCrypto } from '../../lib/builtin.js';

/** node:crypto is loaded by the first hash (a password in the config), not with the planners. */
function createHash(algorithm: string): import('node:crypto').Hash {
  return requireCrypto().createHash(algorithm);
}

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ROUNDS_DEFAULT = 5000;
const ROUNDS_MIN = 1000;
const ROUNDS_MAX = 999_999_999;
const SALT_MAX = 16;

function sha512(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** `length` bytes of `block` repeated (the spec's "sequence P" and "sequence S"). */
function repeatTo(block: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += block.length) out.set(block.subarray(0, Math.min(block.length, length - i)), i);
  return out;
}

function b64From24(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let s = '';
  for (let i = 0; i < n; i++) {
    s += ALPHABET[w & 0x3f];
    w >>>= 6;
  }
  return s;
}

export interface Sha512CryptOptions {
  /** Up to 16 characters are used; longer salts are cut, like glibc. */
  readonly salt: string;
  /** Omitted: 5000 rounds and no `rounds=` in the output. Clamped to 1000..999999999. */
  readonly rounds?: number;
}

/** The crypt(3) string `$6$[rounds=N$]salt$hash` for `password`. */
export function sha512Crypt(password: string | Uint8Array, opts: Sha512CryptOptions): string {
  const p = typeof password === 'string' ? Buffer.from(password, 'utf8') : Buffer.from(password);
  // The salt stops at the first '$' and at 16 bytes (spec step 2 and the glibc implementation).
  const saltText = opts.salt.split('$')[0] ?? '';
  const s = Buffer.from(saltText, 'utf8').subarray(0, SALT_MAX);
  const custom = opts.rounds !== undefined;
  const rounds = custom ? Math.min(ROUNDS_MAX, Math.max(ROUNDS_MIN, Math.floor(opts.rounds ?? ROUNDS_DEFAULT))) : ROUNDS_DEFAULT;

  // Steps 4-8: digest B = H(P S P).
  const b = sha512(p, s, p);
  // Steps 1-3, 9-12: digest A.
  const a = createHash('sha512');
  a.update(p);
  a.update(s);
  a.update(repeatTo(b, p.length));
  for (let n = p.length; n > 0; n >>>= 1) a.update(n & 1 ? b : p);
  let c = a.digest();
  // Steps 13-16: DP and the sequence P.
  const dpCtx = createHash('sha512');
  for (let i = 0; i < p.length; i++) dpCtx.update(p);
  const pSeq = repeatTo(dpCtx.digest(), p.length);
  // Steps 17-20: DS and the sequence S (16 + A[0] copies of the salt).
  const dsCtx = createHash('sha512');
  for (let i = 0; i < 16 + (c[0] ?? 0); i++) dsCtx.update(s);
  const sSeq = repeatTo(dsCtx.digest(), s.length);
  // Step 21: the rounds.
  for (let i = 0; i < rounds; i++) {
    const r = createHash('sha512');
    r.update(i & 1 ? pSeq : c);
    if (i % 3 !== 0) r.update(sSeq);
    if (i % 7 !== 0) r.update(pSeq);
    r.update(i & 1 ? c : pSeq);
    c = r.digest();
  }
  // Step 22: the byte order of the encoding; triples (i, i+21, i+42) rotated by i mod 3.
  let out = '';
  for (let i = 0; i < 21; i++) {
    const t = [i, i + 21, i + 42];
    const k = i % 3;
    const [x = 0, y = 0, z = 0] = [0, 1, 2].map((m) => c[t[(m + k) % 3] ?? 0] ?? 0);
    out += b64From24(x, y, z, 4);
  }
  out += b64From24(0, 0, c[63] ?? 0, 2);
  return `$6$${custom ? `rounds=${rounds}$` : ''}${s.toString('utf8')}$${out}`;
}

/** A random 16-character salt from crypt(3)'s alphabet. */
export function randomSalt(random: (size: number) => Uint8Array = (size) => requireCrypto().randomBytes(size)): string {
  return Array.from(random(SALT_MAX), (byte) => ALPHABET[byte & 0x3f]).join('');
}
