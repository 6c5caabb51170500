// The pure half of the ostree adapter: GLib (domain, code) -> taxonomy, without the addon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cancelled, NotFound, type ErrorCode } from '../../../../src/lib/errors.js';
import {
  ERROR_DOMAIN,
  G_IO_ERROR,
  NATIVE_ERROR,
  OSTREE_GPG_ERROR,
  classifyGLibError,
  fromOstreeError,
  isGLibError,
} from '../../../../src/adapters/ostree/ostree-error.js';

/** What the binding rejects with: an Error carrying the GError's domain and code. */
function glibError(domain: string, code: number, message = 'libostree says no'): Error & { domain: string; code: number } {
  return Object.assign(new Error(message), { domain, code });
}

test('G_IO_ERROR codes map to the taxonomy', () => {
  const expected: [keyof typeof G_IO_ERROR, ErrorCode][] = [
    ['NOT_FOUND', 'NotFound'],
    ['EXISTS', 'AlreadyExists'],
    ['CANCELLED', 'Cancelled'],
    ['NO_SPACE', 'ResourceExhausted'],
    ['PERMISSION_DENIED', 'PermissionDenied'],
    ['HOST_NOT_FOUND', 'Unavailable'],
    ['CONNECTION_REFUSED', 'Unavailable'],
    ['NETWORK_UNREACHABLE', 'Unavailable'],
    ['TIMED_OUT', 'DeadlineExceeded'],
    ['WOULD_BLOCK', 'Conflict'],
    ['BUSY', 'Conflict'],
    ['READ_ONLY', 'FailedPrecondition'],
    ['INVALID_ARGUMENT', 'InvalidArgument'],
    ['NOT_SUPPORTED', 'Unimplemented'],
    ['INVALID_DATA', 'DataLoss'],
    ['FAILED', 'Internal'],
  ];
  for (const [name, code] of expected) assert.equal(classifyGLibError(ERROR_DOMAIN.io, G_IO_ERROR[name]), code, name);
  for (const code of Object.values(G_IO_ERROR)) assert.notEqual(classifyGLibError(ERROR_DOMAIN.io, code), undefined);
  assert.equal(classifyGLibError(ERROR_DOMAIN.io, 999), 'Internal');
});

test('other domains: GPG refusals, the binding, GFileError, GKeyFileError, unknown', () => {
  for (const code of Object.values(OSTREE_GPG_ERROR)) assert.equal(classifyGLibError(ERROR_DOMAIN.gpg, code), 'PermissionDenied');
  assert.equal(classifyGLibError(ERROR_DOMAIN.native, NATIVE_ERROR.STALE_DEPLOYMENT), 'FailedPrecondition');
  assert.equal(classifyGLibError(ERROR_DOMAIN.native, NATIVE_ERROR.NOT_LOADED), 'FailedPrecondition');
  assert.equal(classifyGLibError(ERROR_DOMAIN.native, NATIVE_ERROR.FOREIGN_DEPLOYMENT), 'InvalidArgument');
  assert.equal(classifyGLibError(ERROR_DOMAIN.native, NATIVE_ERROR.ALREADY_LOCKED), 'Conflict');
  assert.equal(classifyGLibError(ERROR_DOMAIN.native, NATIVE_ERROR.NO_ERROR_SET), 'Internal');
  assert.equal(classifyGLibError(ERROR_DOMAIN.file, 4 /* G_FILE_ERROR_NOENT */), 'NotFound');
  assert.equal(classifyGLibError(ERROR_DOMAIN.file, 12 /* G_FILE_ERROR_NOSPC */), 'ResourceExhausted');
  assert.equal(classifyGLibError(ERROR_DOMAIN.file, 2 /* G_FILE_ERROR_ACCES */), 'PermissionDenied');
  assert.equal(classifyGLibError(ERROR_DOMAIN.keyFile, 1 /* G_KEY_FILE_ERROR_PARSE */), 'InvalidArgument');
  assert.equal(classifyGLibError(ERROR_DOMAIN.keyFile, 4 /* G_KEY_FILE_ERROR_GROUP_NOT_FOUND */), 'NotFound');
  assert.equal(classifyGLibError(ERROR_DOMAIN.variantParse, 3), 'InvalidArgument');
  assert.equal(classifyGLibError('some-other-quark', G_IO_ERROR.NOT_FOUND), 'Internal', 'codes mean nothing outside their domain');
});

test('fromOstreeError keeps the GLib error as cause and says what was being done', () => {
  const cause = glibError(ERROR_DOMAIN.io, G_IO_ERROR.NOT_FOUND, "Refspec 'x' not found");
  const e = fromOstreeError(cause, { doing: 'resolve x', subject: '/srv/repo' });
  assert.ok(e instanceof NotFound);
  assert.equal(e.message, "resolve x: Refspec 'x' not found");
  assert.equal(e.subject, '/srv/repo');
  assert.equal(e.cause, cause);
});

test('a GPG error says the commit is not signed by a trusted key, and why', () => {
  const missing = fromOstreeError(glibError(ERROR_DOMAIN.gpg, OSTREE_GPG_ERROR.MISSING_KEY), { doing: 'pull origin:os/stable', signed: 'the commit of origin:os/stable' });
  assert.equal(missing.code, 'PermissionDenied');
  assert.equal(
    missing.message,
    "pull origin:os/stable: the commit of origin:os/stable is not signed by a trusted key (signed with a key that is not in the remote's keyring)",
  );
  const none = fromOstreeError(glibError(ERROR_DOMAIN.gpg, OSTREE_GPG_ERROR.NO_SIGNATURE), { doing: 'verify', signed: `commit ${'a'.repeat(64)}` });
  assert.match(none.message, /commit a{64} is not signed by a trusted key \(no signature found\)/);
  const expired = fromOstreeError(glibError(ERROR_DOMAIN.gpg, OSTREE_GPG_ERROR.EXPIRED_KEY), { doing: 'verify' });
  assert.match(expired.message, /the commit is not signed by a trusted key \(the signing key has expired\)/);
});

test('failedAs reclassifies only a bare G_IO_ERROR_FAILED', () => {
  const ctx = { doing: 'pull', failedAs: 'Unavailable' as const };
  assert.equal(fromOstreeError(glibError(ERROR_DOMAIN.io, G_IO_ERROR.FAILED, '[7] Couldn\'t connect to server'), ctx).code, 'Unavailable');
  assert.equal(fromOstreeError(glibError(ERROR_DOMAIN.io, G_IO_ERROR.NOT_FOUND), ctx).code, 'NotFound');
  assert.equal(fromOstreeError(glibError(ERROR_DOMAIN.native, NATIVE_ERROR.NO_ERROR_SET), ctx).code, 'Internal');
  assert.equal(fromOstreeError(glibError(ERROR_DOMAIN.io, G_IO_ERROR.FAILED), { doing: 'deploy' }).code, 'Internal');
});

test('cancellation, TypeErrors, taxonomy errors and strangers', () => {
  const cancelled = fromOstreeError(glibError(ERROR_DOMAIN.io, G_IO_ERROR.CANCELLED, 'Operation was cancelled'), { doing: 'pull origin:x' });
  assert.ok(cancelled instanceof Cancelled);
  assert.equal(cancelled.message, 'pull origin:x: cancelled');
  assert.equal(fromOstreeError(new TypeError('refs: expected an array of strings'), { doing: 'pull' }).code, 'InvalidArgument');
  const own = new NotFound('already mapped');
  assert.equal(fromOstreeError(own, { doing: 'x' }), own);
  assert.equal(fromOstreeError(new Error('???'), { doing: 'x' }).code, 'Internal');
  assert.equal(fromOstreeError('a string', { doing: 'x' }).code, 'Internal');
});

test('isGLibError wants an Error with a string domain and a numeric code', () => {
  assert.equal(isGLibError(glibError(ERROR_DOMAIN.io, 1)), true);
  assert.equal(isGLibError({ domain: ERROR_DOMAIN.io, code: 1, message: 'plain object' }), false);
  assert.equal(isGLibError(Object.assign(new Error('errno'), { code: 'ENOENT' })), false);
  assert.equal(isGLibError(undefined), false);
});
