// The closed error taxonomy of atomic. Every error that crosses a module boundary is one of these
// classes; edges (cli/report-error.ts, agent/api/http-errors.ts) translate by class, never by
// message text. The names follow gRPC/Google API status codes, which upstream projects
// (containerd, etcd) use for the same purpose.

export type ErrorCode =
  | 'InvalidArgument'
  | 'NotFound'
  | 'AlreadyExists'
  | 'PermissionDenied'
  | 'FailedPrecondition'
  | 'Conflict'
  | 'OutOfRange'
  | 'ResourceExhausted'
  | 'DataLoss'
  | 'Unavailable'
  | 'DeadlineExceeded'
  | 'Cancelled'
  | 'Unimplemented'
  | 'Internal';

export interface ErrorDetails {
  /** The file, URL or object the error is about, for the one-line summary. */
  readonly subject?: string;
  readonly cause?: unknown;
  /**
   * Every problem found, one line each (`file:line:column: path: message`), for errors that are a
   * validation report rather than a single failure. The CLI prints these instead of the summary.
   */
  readonly problems?: readonly string[];
}

export abstract class AtomicError extends Error {
  abstract readonly code: ErrorCode;
  readonly subject: string | undefined;
  readonly problems: readonly string[];

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.subject = details.subject;
    this.problems = details.problems ?? [];
  }

  override get name(): string {
    return this.code;
  }
}

/** The caller asked for something malformed: bad flags, bad file content, bad image bytes. */
export class InvalidArgument extends AtomicError {
  readonly code = 'InvalidArgument' as const;
}
export class NotFound extends AtomicError {
  readonly code = 'NotFound' as const;
}
export class AlreadyExists extends AtomicError {
  readonly code = 'AlreadyExists' as const;
}
export class PermissionDenied extends AtomicError {
  readonly code = 'PermissionDenied' as const;
}
/** The system is not in a state where the operation can run (e.g. not enough free space). */
export class FailedPrecondition extends AtomicError {
  readonly code = 'FailedPrecondition' as const;
}
export class Conflict extends AtomicError {
  readonly code = 'Conflict' as const;
}
/** A value is syntactically fine but outside what is supported (e.g. a file over 4 GiB - 1 in ISO 9660 level 3 without multi-extent). */
export class OutOfRange extends AtomicError {
  readonly code = 'OutOfRange' as const;
}
export class ResourceExhausted extends AtomicError {
  readonly code = 'ResourceExhausted' as const;
}
/** Stored or received bytes are corrupt: digest mismatch, truncated image, directory loop. */
export class DataLoss extends AtomicError {
  readonly code = 'DataLoss' as const;
}
export class Unavailable extends AtomicError {
  readonly code = 'Unavailable' as const;
}
export class DeadlineExceeded extends AtomicError {
  readonly code = 'DeadlineExceeded' as const;
}
export class Cancelled extends AtomicError {
  readonly code = 'Cancelled' as const;
}
export class Unimplemented extends AtomicError {
  readonly code = 'Unimplemented' as const;
}
export class Internal extends AtomicError {
  readonly code = 'Internal' as const;
}

const CLASSES: Record<ErrorCode, new (message: string, details?: ErrorDetails) => AtomicError> = {
  InvalidArgument, NotFound, AlreadyExists, PermissionDenied, FailedPrecondition, Conflict, OutOfRange,
  ResourceExhausted, DataLoss, Unavailable, DeadlineExceeded, Cancelled, Unimplemented, Internal,
};

/**
 * Rebuild an error from its code, for errors that crossed a thread or process boundary as plain
 * data (a worker thread's report): the class comes from the code, never from the message.
 */
export function errorOfCode(code: ErrorCode, message: string, details: ErrorDetails = {}): AtomicError {
  return new CLASSES[code](message, details);
}

export function isAtomicError(e: unknown): e is AtomicError {
  return e instanceof AtomicError;
}

interface NodeSystemError {
  code?: string;
  path?: string;
  syscall?: string;
}

/**
 * Map a Node.js system error (ENOENT, EACCES, ...) from an fs call on `subject` into the taxonomy,
 * so callers never inspect errno strings themselves.
 */
export function fromSystemError(e: unknown, subject: string, doing: string): AtomicError {
  if (e instanceof AtomicError) return e;
  const sys = (e ?? {}) as NodeSystemError;
  const reason = e instanceof Error ? e.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '') : String(e);
  const details = { subject, cause: e };
  switch (sys.code) {
    case 'ENOENT':
      return new NotFound(`${doing}: no such file or directory`, details);
    case 'EACCES':
    case 'EPERM':
      return new PermissionDenied(`${doing}: permission denied`, details);
    case 'EEXIST':
      return new AlreadyExists(`${doing}: already exists`, details);
    case 'ENOTDIR':
      return new InvalidArgument(`${doing}: not a directory`, details);
    case 'EISDIR':
      return new InvalidArgument(`${doing}: is a directory`, details);
    case 'ENOSPC':
    case 'EDQUOT':
      return new ResourceExhausted(`${doing}: no space left on device`, details);
    case 'ELOOP':
      return new InvalidArgument(`${doing}: too many levels of symbolic links`, details);
    default:
      return new Internal(`${doing}: ${reason}`, details);
  }
}
