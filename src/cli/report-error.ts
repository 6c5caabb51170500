// The one place where the CLI turns errors into exit codes and text (shared/DESIGN.md).
// Exit codes: 0 ok, 1 failure, 2 usage or invalid input (the caller can fix it by changing the
// command line or the files it names).
import { AtomicError, type ErrorCode } from '../lib/errors.js';

const INPUT_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'InvalidArgument',
  'NotFound',
  'PermissionDenied',
  'AlreadyExists',
  'OutOfRange',
]);

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export function exitCodeFor(e: unknown): number {
  if (e instanceof AtomicError) return INPUT_ERRORS.has(e.code) ? EXIT_USAGE : EXIT_FAILURE;
  return EXIT_FAILURE;
}

/** One line for people: `atomic: SUBJECT: message`; with debug, the cause chain and stacks. */
export function formatError(e: unknown, debug: boolean): string {
  const summary =
    e instanceof AtomicError && e.problems.length > 0
      ? e.problems.join('\n')
      :
    e instanceof AtomicError
      ? `atomic: ${e.subject !== undefined ? `${e.subject}: ` : ''}${firstLine(e.message)}`
      : `atomic: internal error: ${firstLine(e instanceof Error ? e.message : String(e))}`;
  if (!debug) return summary;
  const lines = [summary];
  let cur: unknown = e;
  while (cur !== undefined && cur !== null) {
    lines.push(cur instanceof Error ? (cur.stack ?? String(cur)) : String(cur));
    cur = cur instanceof Error ? cur.cause : undefined;
    if (cur !== undefined) lines.push('caused by:');
  }
  return lines.join('\n');
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}
