// Verification of upstream libostree's ed25519 commit signatures (the `ostree sign` engine,
// libostree 2020.2+), without libostree: Debian's 2022.7 is built without it.
//
// What upstream does (ostreedev/ostree, src/libostree/):
// - ostree-sign.c ostree_sign_commit: signs g_variant_get_data_as_bytes(commit), i.e. the exact
//   bytes of the `.commit` object, and appends the 64-byte signature to the `aay` stored under
//   `ostree.sign.ed25519` in the commit's detached metadata (the `.commitmeta` a{sv}).
// - ostree-sign.c ostree_sign_commit_verify: reads the detached metadata (absent -> NULL) and
//   looks the key up with g_variant_lookup_value(metadata, key, "aay"): the FIRST entry with that
//   key, and NULL when its variant is not of type aay.
// - ostree-sign-ed25519.c ostree_sign_ed25519_data_verify:
//     * NULL signatures -> "ed25519: commit have no signatures of my type";
//     * for each signature in order: a signature that is not exactly 64 bytes fails the whole
//       verification at once ("Invalid signature", validate_length; newer releases); then each
//       loaded public key, skipping keys on the revoked list; the first signature that verifies
//       with any key makes the commit verified (one good signature among bad ones is enough);
//     * if some check was made and none succeeded -> "Signature couldn't be verified";
//       if none was made (no signatures, or every key revoked) -> "ed25519: no signatures found";
//     * with no keys loaded at all, keys come from the system files, else "no keys loaded".
// - ostree-sign-ed25519.c _load_pk_from_stream: a key file is one base64 public key per line;
//   each line goes through g_base64_decode and must give exactly 32 bytes.
// - ostree-repo-pull-verify.c _sign_verify_for_remote: the verifiers configured for a remote
//   (`sign-verify`, keys from `verification-ed25519-key` / `verification-ed25519-file`) must
//   find at least one valid signature; no detached metadata -> "Can't verify commit without
//   detached metadata".
//
// Choice: every "not verified" outcome, including corrupt detached metadata, is a result
// ({ valid: false, reason }) rather than an exception, so a caller cannot mistake an exception
// path for success; only caller bugs (a trusted key that is not 32 bytes) throw InvalidArgument.
// Which keys to pass (system trusted.ed25519{,.d} files, per-remote keys) and which revoked keys
// apply is the adapter's policy; note that upstream loads revoked.ed25519 only together with
// the system key files (ostree_sign_ed25519_load_pk without `filename`).
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { DataLoss, InvalidArgument } from '../../lib/errors.js';
import { isGVariantDict, lookupVardict, parseVariant } from '../../formats/gvariant/parse-variant.js';

/** OSTREE_SIGN_METADATA_ED25519_KEY / _TYPE in ostree-sign-ed25519.h. */
export const OSTREE_SIGN_METADATA_ED25519_KEY = 'ostree.sign.ed25519';
export const OSTREE_SIGN_METADATA_ED25519_TYPE = 'aay';
/** OSTREE_SIGN_ED25519_PUBKEY_SIZE and OSTREE_SIGN_ED25519_SIG_SIZE (RFC 8032). */
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

/** RFC 8410 SubjectPublicKeyInfo for id-Ed25519 (1.3.101.112), up to the 32 key bytes. */
const ED25519_SPKI_PREFIX = Uint8Array.of(0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00);

export type Ed25519FailureReason =
  /** No `.commitmeta` for the commit. */
  | 'no-detached-metadata'
  /** The detached metadata is not a normal-form a{sv}. */
  | 'malformed-detached-metadata'
  /** No `ostree.sign.ed25519` entry of type aay, or an empty one. */
  | 'no-signatures'
  /** A signature (reached before any verified) is not 64 bytes; upstream fails outright. */
  | 'malformed-signature'
  /** The caller passed no trusted keys (upstream: "no keys loaded"). */
  | 'no-trusted-keys'
  /** There are signatures, but every trusted key is revoked. */
  | 'all-keys-revoked'
  /** No signature verified with any trusted, unrevoked key. */
  | 'bad-signature';

export type Ed25519Verification =
  | {
      readonly valid: true;
      /** Index into `trustedKeys` of the key that verified. */
      readonly keyIndex: number;
      /** Index of the verified signature in the `aay`. */
      readonly signatureIndex: number;
      readonly publicKey: Uint8Array;
      readonly message: string;
    }
  | {
      readonly valid: false;
      readonly reason: Ed25519FailureReason;
      readonly message: string;
      /** The DataLoss behind 'malformed-detached-metadata'. */
      readonly cause?: DataLoss;
    };

export interface VerifyCommitEd25519Input {
  /** The commit object's serialised bytes: the `.commit` file, exactly. */
  readonly commitBytes: Uint8Array;
  /** The `.commitmeta` bytes, or undefined when the commit has none. */
  readonly detachedMetadata: Uint8Array | undefined;
  /** Raw 32-byte ed25519 public keys. */
  readonly trustedKeys: readonly Uint8Array[];
  /** Raw 32-byte public keys that must not verify anything, even when also trusted. */
  readonly revokedKeys?: readonly Uint8Array[];
  /** Names the commit in messages (e.g. its checksum). */
  readonly subject?: string;
}

function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function publicKeyObject(raw: Uint8Array, what: string): KeyObject {
  if (raw.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new InvalidArgument(`${what} is ${raw.length} bytes; an ed25519 public key is ${ED25519_PUBLIC_KEY_BYTES}`);
  }
  const der = new Uint8Array(ED25519_SPKI_PREFIX.length + raw.length);
  der.set(ED25519_SPKI_PREFIX, 0);
  der.set(raw, ED25519_SPKI_PREFIX.length);
  try {
    return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  } catch (e) {
    throw new InvalidArgument(`${what} is not a usable ed25519 public key`, { cause: e });
  }
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Verify a commit's ed25519 signatures the way libostree's ed25519 engine does (see above). */
export function verifyCommitEd25519(input: VerifyCommitEd25519Input): Ed25519Verification {
  const what = input.subject === undefined ? 'commit' : `commit ${input.subject}`;
  // Check the caller's keys first: a bad key is a configuration bug whatever the commit holds.
  const trusted = input.trustedKeys.map((k, i) => ({ raw: k, index: i, key: publicKeyObject(k, `trusted key ${i}`) }));
  const revoked = input.revokedKeys ?? [];
  revoked.forEach((k, i) => {
    if (k.length !== ED25519_PUBLIC_KEY_BYTES) throw new InvalidArgument(`revoked key ${i} is ${k.length} bytes; an ed25519 public key is ${ED25519_PUBLIC_KEY_BYTES}`);
  });

  if (input.detachedMetadata === undefined) {
    return { valid: false, reason: 'no-detached-metadata', message: `${what} has no detached metadata, so no ed25519 signature` };
  }
  let signatures: readonly Uint8Array[] | undefined;
  try {
    const meta = parseVariant('a{sv}', input.detachedMetadata, { subject: `${what} detached metadata` });
    if (!isGVariantDict(meta)) throw new DataLoss('detached metadata is not a dictionary');
    const found = lookupVardict(meta, OSTREE_SIGN_METADATA_ED25519_KEY, OSTREE_SIGN_METADATA_ED25519_TYPE);
    signatures = Array.isArray(found) ? found.filter((s): s is Uint8Array => s instanceof Uint8Array) : undefined;
  } catch (e) {
    if (!(e instanceof DataLoss)) throw e;
    return { valid: false, reason: 'malformed-detached-metadata', message: e.message, cause: e };
  }
  // Same order of checks as ostree_sign_ed25519_data_verify: absent entry, then keys, then the
  // signatures one by one.
  if (signatures === undefined) {
    return { valid: false, reason: 'no-signatures', message: `ed25519: ${what} has no signatures of type ${OSTREE_SIGN_METADATA_ED25519_TYPE} under ${OSTREE_SIGN_METADATA_ED25519_KEY}` };
  }
  if (trusted.length === 0) {
    return { valid: false, reason: 'no-trusted-keys', message: 'ed25519: no trusted keys loaded' };
  }

  const usable = trusted.filter((t) => !revoked.some((r) => sameKey(r, t.raw)));
  const failedKeys: string[] = [];
  for (const [signatureIndex, sig] of signatures.entries()) {
    if (sig.length !== ED25519_SIGNATURE_BYTES) {
      return {
        valid: false,
        reason: 'malformed-signature',
        message: `ed25519: invalid signature ${signatureIndex} of ${what}: expected ${ED25519_SIGNATURE_BYTES} bytes, got ${sig.length}`,
      };
    }
    for (const t of usable) {
      if (verify(null, input.commitBytes, t.key, sig)) {
        return {
          valid: true,
          keyIndex: t.index,
          signatureIndex,
          publicKey: t.raw,
          message: `ed25519: signature verified successfully with key '${toHex(t.raw)}'`,
        };
      }
      failedKeys.push(`key '${toHex(t.raw)}'`);
    }
  }
  if (signatures.length === 0) {
    return { valid: false, reason: 'no-signatures', message: `ed25519: no signatures found in ${what}'s ${OSTREE_SIGN_METADATA_ED25519_KEY} entry` };
  }
  if (failedKeys.length === 0) {
    return { valid: false, reason: 'all-keys-revoked', message: `ed25519: every trusted key is revoked; ${what} cannot be verified` };
  }
  // Upstream caps the list at 3 keys ("tried N keys") to keep the message short.
  const tried = failedKeys.length > 3 ? `tried ${failedKeys.length} keys` : `with: ${failedKeys.join('; ')}`;
  return { valid: false, reason: 'bad-signature', message: `ed25519: signature of ${what} couldn't be verified ${tried}` };
}

/**
 * Decode one base64 ed25519 public key (a `verification-ed25519-key` value or one line of a key
 * file). Strict: the standard alphabet, canonical, padding optional, exactly 32 bytes after
 * decoding. Surrounding whitespace is ignored (g_base64_decode skips it too).
 */
export function parseEd25519PublicKey(base64: string, where: string): Uint8Array {
  const s = base64.trim();
  if (!/^[A-Za-z0-9+/]{43}=?$/.test(s)) {
    throw new InvalidArgument(`${where}: not a base64-encoded ${ED25519_PUBLIC_KEY_BYTES}-byte ed25519 public key`);
  }
  const raw = Buffer.from(s, 'base64');
  // The 43rd character carries 2 bits that must be zero for the encoding to be canonical.
  if (raw.length !== ED25519_PUBLIC_KEY_BYTES || raw.toString('base64').replace(/=$/, '') !== s.replace(/=$/, '')) {
    throw new InvalidArgument(`${where}: not a canonical base64-encoded ${ED25519_PUBLIC_KEY_BYTES}-byte ed25519 public key`);
  }
  return new Uint8Array(raw);
}

/**
 * Parse a trusted.ed25519 / revoked.ed25519 style file: one base64 public key per line
 * (ostree-sign-ed25519.c _load_pk_from_stream). A final newline ends the last line rather than
 * starting an empty one (GDataInputStream line reading). Every other line must be a key: upstream
 * rejects blank lines and has no comment syntax. Bad lines -> InvalidArgument listing each
 * `file:line: ...` in `problems`. An empty file gives [] (the caller decides whether that is an
 * error; upstream reports "no valid keys in file").
 */
export function parseTrustedKeys(text: string, file: string): Uint8Array[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const keys: Uint8Array[] = [];
  const problems: string[] = [];
  lines.forEach((line, i) => {
    try {
      keys.push(parseEd25519PublicKey(line, `${file}:${i + 1}`));
    } catch (e) {
      if (!(e instanceof InvalidArgument)) throw e;
      problems.push(e.message);
    }
  });
  if (problems.length > 0) {
    throw new InvalidArgument(problems.length === 1 ? (problems[0] as string) : `${problems[0] as string} (and ${problems.length - 1} more bad lines)`, {
      subject: file,
      problems,
    });
  }
  return keys;
}
