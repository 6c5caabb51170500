// The one place where the agent's API turns errors into HTTP answers (shared/DESIGN.md): the class
// decides the status, the body is Docker's `{"message": "..."}` so the docker CLI and SDKs show
// our text the way they show dockerd's.
import { AtomicError, type ErrorCode } from '../../lib/errors.js';

const STATUS: Readonly<Record<ErrorCode, number>> = {
  InvalidArgument: 400,
  OutOfRange: 400,
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  FailedPrecondition: 409,
  PermissionDenied: 403,
  ResourceExhausted: 507,
  DataLoss: 500,
  Unavailable: 503,
  DeadlineExceeded: 504,
  Cancelled: 499,
  Unimplemented: 501,
  Internal: 500,
};

export interface HttpError {
  readonly status: number;
  readonly body: { readonly message: string };
}

export function httpErrorFor(e: unknown): HttpError {
  if (e instanceof AtomicError) {
    const subject = e.subject === undefined ? '' : `${e.subject}: `;
    // Docker's messages name their subject inside the text ("No such container: x"); ours carry it apart.
    return { status: STATUS[e.code], body: { message: e.subject === undefined || e.message.includes(e.subject) ? e.message : `${subject}${e.message}` } };
  }
  return { status: 500, body: { message: `internal error: ${e instanceof Error ? e.message : String(e)}` } };
}
