// GLib errors from libostree -> the error taxonomy of src/lib/errors.ts. Pure (no addon needed),
// so it is unit-tested on its own. Classification uses the GError domain and code only, never the
// message text; the GLib error stays reachable as `cause` (with its `domain` and `code`).
import { type AtomicError, type ErrorCode, errorOfCode, isAtomicError } from '../../lib/errors.js';

/** GQuark strings of the error domains libostree calls return. */
export const ERROR_DOMAIN = {
  io: 'g-io-error-quark',
  /** OSTREE_GPG_ERROR (ostree-gpg-verify-result.h); its quark string is "OstreeGpgError". */
  gpg: 'OstreeGpgError',
  /** The binding's own domain (native/src/common.h NativeErrorCode). */
  native: 'atomic-native-error-quark',
  keyFile: 'g-key-file-error-quark',
  file: 'g-file-error-quark',
  variantParse: 'g-variant-parse-error-quark',
} as const;

/** GIOErrorEnum (gio/gioenums.h); the integration test checks it against the running GLib. */
export const G_IO_ERROR = {
  FAILED: 0,
  NOT_FOUND: 1,
  EXISTS: 2,
  IS_DIRECTORY: 3,
  NOT_DIRECTORY: 4,
  NOT_EMPTY: 5,
  NOT_REGULAR_FILE: 6,
  NOT_SYMBOLIC_LINK: 7,
  NOT_MOUNTABLE_FILE: 8,
  FILENAME_TOO_LONG: 9,
  INVALID_FILENAME: 10,
  TOO_MANY_LINKS: 11,
  NO_SPACE: 12,
  INVALID_ARGUMENT: 13,
  PERMISSION_DENIED: 14,
  NOT_SUPPORTED: 15,
  NOT_MOUNTED: 16,
  ALREADY_MOUNTED: 17,
  CLOSED: 18,
  CANCELLED: 19,
  PENDING: 20,
  READ_ONLY: 21,
  CANT_CREATE_BACKUP: 22,
  WRONG_ETAG: 23,
  TIMED_OUT: 24,
  WOULD_RECURSE: 25,
  BUSY: 26,
  WOULD_BLOCK: 27,
  HOST_NOT_FOUND: 28,
  WOULD_MERGE: 29,
  FAILED_HANDLED: 30,
  TOO_MANY_OPEN_FILES: 31,
  NOT_INITIALIZED: 32,
  ADDRESS_IN_USE: 33,
  PARTIAL_INPUT: 34,
  INVALID_DATA: 35,
  DBUS_ERROR: 36,
  HOST_UNREACHABLE: 37,
  NETWORK_UNREACHABLE: 38,
  CONNECTION_REFUSED: 39,
  PROXY_FAILED: 40,
  PROXY_AUTH_FAILED: 41,
  PROXY_NEED_AUTH: 42,
  PROXY_NOT_ALLOWED: 43,
  BROKEN_PIPE: 44,
  NOT_CONNECTED: 45,
  MESSAGE_TOO_LARGE: 46,
  NO_SUCH_DEVICE: 47,
} as const;

/** OstreeGpgError (ostree-gpg-verify-result.h). */
export const OSTREE_GPG_ERROR = {
  NO_SIGNATURE: 0,
  INVALID_SIGNATURE: 1,
  MISSING_KEY: 2,
  EXPIRED_SIGNATURE: 3,
  EXPIRED_KEY: 4,
  REVOKED_KEY: 5,
} as const;

/** The binding's NativeErrorCode (native/src/common.h). */
export const NATIVE_ERROR = {
  NOT_LOADED: 1,
  STALE_DEPLOYMENT: 2,
  FOREIGN_DEPLOYMENT: 3,
  ALREADY_LOCKED: 4,
  INVALID_ARGUMENT: 5,
  NO_ERROR_SET: 6,
} as const;

/** A GError as the binding delivers it (an OstreeError of native/index.cjs). */
export interface GLibErrorLike {
  readonly domain: string;
  readonly code: number;
  readonly message: string;
}

export function isGLibError(e: unknown): e is GLibErrorLike & Error {
  if (!(e instanceof Error)) return false;
  const r = e as unknown as Record<string, unknown>;
  return typeof r['domain'] === 'string' && typeof r['code'] === 'number';
}

const IO: Readonly<Record<number, ErrorCode>> = {
  [G_IO_ERROR.FAILED]: 'Internal',
  [G_IO_ERROR.NOT_FOUND]: 'NotFound',
  [G_IO_ERROR.EXISTS]: 'AlreadyExists',
  [G_IO_ERROR.IS_DIRECTORY]: 'InvalidArgument',
  [G_IO_ERROR.NOT_DIRECTORY]: 'InvalidArgument',
  [G_IO_ERROR.NOT_EMPTY]: 'FailedPrecondition',
  [G_IO_ERROR.NOT_REGULAR_FILE]: 'InvalidArgument',
  [G_IO_ERROR.NOT_SYMBOLIC_LINK]: 'InvalidArgument',
  [G_IO_ERROR.NOT_MOUNTABLE_FILE]: 'InvalidArgument',
  [G_IO_ERROR.FILENAME_TOO_LONG]: 'InvalidArgument',
  [G_IO_ERROR.INVALID_FILENAME]: 'InvalidArgument',
  [G_IO_ERROR.TOO_MANY_LINKS]: 'InvalidArgument',
  [G_IO_ERROR.NO_SPACE]: 'ResourceExhausted',
  [G_IO_ERROR.INVALID_ARGUMENT]: 'InvalidArgument',
  [G_IO_ERROR.PERMISSION_DENIED]: 'PermissionDenied',
  [G_IO_ERROR.NOT_SUPPORTED]: 'Unimplemented',
  [G_IO_ERROR.NOT_MOUNTED]: 'FailedPrecondition',
  [G_IO_ERROR.ALREADY_MOUNTED]: 'FailedPrecondition',
  [G_IO_ERROR.CLOSED]: 'FailedPrecondition',
  [G_IO_ERROR.CANCELLED]: 'Cancelled',
  [G_IO_ERROR.PENDING]: 'Conflict',
  // EROFS: the sysroot or repo is mounted read-only, a state the caller must change first.
  [G_IO_ERROR.READ_ONLY]: 'FailedPrecondition',
  [G_IO_ERROR.CANT_CREATE_BACKUP]: 'Internal',
  [G_IO_ERROR.WRONG_ETAG]: 'Conflict',
  [G_IO_ERROR.TIMED_OUT]: 'DeadlineExceeded',
  [G_IO_ERROR.WOULD_RECURSE]: 'InvalidArgument',
  [G_IO_ERROR.BUSY]: 'Conflict',
  // EWOULDBLOCK from a LOCK_NB flock (glnx_make_lock_file): somebody else holds the lock.
  [G_IO_ERROR.WOULD_BLOCK]: 'Conflict',
  [G_IO_ERROR.HOST_NOT_FOUND]: 'Unavailable',
  [G_IO_ERROR.WOULD_MERGE]: 'Internal',
  [G_IO_ERROR.FAILED_HANDLED]: 'Internal',
  [G_IO_ERROR.TOO_MANY_OPEN_FILES]: 'ResourceExhausted',
  [G_IO_ERROR.NOT_INITIALIZED]: 'FailedPrecondition',
  [G_IO_ERROR.ADDRESS_IN_USE]: 'Conflict',
  [G_IO_ERROR.PARTIAL_INPUT]: 'DataLoss',
  [G_IO_ERROR.INVALID_DATA]: 'DataLoss',
  [G_IO_ERROR.DBUS_ERROR]: 'Internal',
  [G_IO_ERROR.HOST_UNREACHABLE]: 'Unavailable',
  [G_IO_ERROR.NETWORK_UNREACHABLE]: 'Unavailable',
  [G_IO_ERROR.CONNECTION_REFUSED]: 'Unavailable',
  [G_IO_ERROR.PROXY_FAILED]: 'Unavailable',
  [G_IO_ERROR.PROXY_AUTH_FAILED]: 'PermissionDenied',
  [G_IO_ERROR.PROXY_NEED_AUTH]: 'PermissionDenied',
  [G_IO_ERROR.PROXY_NOT_ALLOWED]: 'PermissionDenied',
  [G_IO_ERROR.BROKEN_PIPE]: 'Unavailable',
  [G_IO_ERROR.NOT_CONNECTED]: 'Unavailable',
  [G_IO_ERROR.MESSAGE_TOO_LARGE]: 'OutOfRange',
  [G_IO_ERROR.NO_SUCH_DEVICE]: 'NotFound',
};

// GFileError (glib/gfileutils.h), the errno family g_file_error_from_errno() produces.
const FILE: readonly ErrorCode[] = [
  'AlreadyExists', // EXIST
  'InvalidArgument', // ISDIR
  'PermissionDenied', // ACCES
  'InvalidArgument', // NAMETOOLONG
  'NotFound', // NOENT
  'InvalidArgument', // NOTDIR
  'NotFound', // NXIO
  'NotFound', // NODEV
  'FailedPrecondition', // ROFS
  'Conflict', // TXTBSY
  'Internal', // FAULT
  'InvalidArgument', // LOOP
  'ResourceExhausted', // NOSPC
  'ResourceExhausted', // NOMEM
  'ResourceExhausted', // MFILE
  'ResourceExhausted', // NFILE
  'Internal', // BADF
  'InvalidArgument', // INVAL
  'Unavailable', // PIPE
  'Unavailable', // AGAIN
  'Internal', // INTR
  'Internal', // IO
  'PermissionDenied', // PERM
  'Unimplemented', // NOSYS
  'Internal', // FAILED
];

// GKeyFileError (glib/gkeyfile.h): UNKNOWN_ENCODING, PARSE, NOT_FOUND, KEY_NOT_FOUND,
// GROUP_NOT_FOUND, INVALID_VALUE.
const KEY_FILE: readonly ErrorCode[] = ['InvalidArgument', 'InvalidArgument', 'NotFound', 'NotFound', 'NotFound', 'InvalidArgument'];

const NATIVE: Readonly<Record<number, ErrorCode>> = {
  [NATIVE_ERROR.NOT_LOADED]: 'FailedPrecondition',
  [NATIVE_ERROR.STALE_DEPLOYMENT]: 'FailedPrecondition',
  [NATIVE_ERROR.FOREIGN_DEPLOYMENT]: 'InvalidArgument',
  [NATIVE_ERROR.ALREADY_LOCKED]: 'Conflict',
  [NATIVE_ERROR.INVALID_ARGUMENT]: 'InvalidArgument',
  [NATIVE_ERROR.NO_ERROR_SET]: 'Internal',
};

/** The taxonomy class of a GLib (domain, code); Internal for anything unknown. */
export function classifyGLibError(domain: string, code: number): ErrorCode {
  switch (domain) {
    case ERROR_DOMAIN.io:
      return IO[code] ?? 'Internal';
    case ERROR_DOMAIN.gpg:
      // Every OstreeGpgError means "not signed by a key we trust": refuse, do not retry.
      return 'PermissionDenied';
    case ERROR_DOMAIN.native:
      return NATIVE[code] ?? 'Internal';
    case ERROR_DOMAIN.file:
      return FILE[code] ?? 'Internal';
    case ERROR_DOMAIN.keyFile:
      return KEY_FILE[code] ?? 'InvalidArgument';
    case ERROR_DOMAIN.variantParse:
      return 'InvalidArgument';
    default:
      return 'Internal';
  }
}

const GPG_REASON: Readonly<Record<number, string>> = {
  [OSTREE_GPG_ERROR.NO_SIGNATURE]: 'no signature found',
  [OSTREE_GPG_ERROR.INVALID_SIGNATURE]: 'the signature is malformed',
  [OSTREE_GPG_ERROR.MISSING_KEY]: "signed with a key that is not in the remote's keyring",
  [OSTREE_GPG_ERROR.EXPIRED_SIGNATURE]: 'the signature has expired',
  [OSTREE_GPG_ERROR.EXPIRED_KEY]: 'the signing key has expired',
  [OSTREE_GPG_ERROR.REVOKED_KEY]: 'the signing key was revoked',
};

export interface OstreeErrorContext {
  /** What was being done, first in the message: "pull origin:os/x86_64/stable". */
  readonly doing: string;
  /** The file, URL or object the error is about (AtomicError.subject). */
  readonly subject?: string;
  /**
   * The class of a bare G_IO_ERROR_FAILED in this operation. libostree's curl fetcher reports
   * "connection refused" and "could not resolve host" as G_IO_ERROR_FAILED ("[7] Couldn't connect
   * to server"), so a pull says Unavailable here. Default Internal.
   */
  readonly failedAs?: ErrorCode;
  /** The commit whose signature was checked, for GPG errors: "commit 3f2a…" or "origin:os/stable". */
  readonly signed?: string;
}

/**
 * Translate anything a binding call threw into the taxonomy. AtomicErrors pass through; a
 * TypeError from the binding's own argument checks is InvalidArgument; a GLib error is classified
 * by (domain, code); anything else is Internal.
 */
export function fromOstreeError(e: unknown, ctx: OstreeErrorContext): AtomicError {
  if (isAtomicError(e)) return e;
  const details = { subject: ctx.subject, cause: e };
  if (isGLibError(e)) {
    if (e.domain === ERROR_DOMAIN.gpg) {
      const what = ctx.signed ?? ctx.subject ?? 'the commit';
      const reason = GPG_REASON[e.code] ?? 'signature verification failed';
      return errorOfCode('PermissionDenied', `${ctx.doing}: ${what} is not signed by a trusted key (${reason})`, details);
    }
    let code = classifyGLibError(e.domain, e.code);
    if (e.domain === ERROR_DOMAIN.io && e.code === G_IO_ERROR.FAILED && ctx.failedAs !== undefined) code = ctx.failedAs;
    if (code === 'Cancelled') return errorOfCode('Cancelled', `${ctx.doing}: cancelled`, details);
    return errorOfCode(code, `${ctx.doing}: ${e.message}`, details);
  }
  if (e instanceof TypeError) return errorOfCode('InvalidArgument', `${ctx.doing}: ${e.message}`, details);
  const message = e instanceof Error ? e.message : String(e);
  return errorOfCode('Internal', `${ctx.doing}: ${message}`, details);
}
