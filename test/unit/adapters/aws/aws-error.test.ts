import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromAwsError, isTransientAwsError } from '../../../../src/adapters/aws/aws-error.js';

const sdkError = (name: string, httpStatusCode: number, extra: Record<string, unknown> = {}): Error =>
  Object.assign(new Error(`${name} message`), { name, $metadata: { httpStatusCode }, ...extra });

test('service error codes map onto the taxonomy by code, with what was being done and the subject', () => {
  const cases: [string, number, string][] = [
    ['AccessDenied', 403, 'PermissionDenied'], ['UnauthorizedOperation', 403, 'PermissionDenied'], ['AuthFailure', 401, 'PermissionDenied'],
    ['SignatureDoesNotMatch', 403, 'PermissionDenied'], ['NoSuchBucket', 404, 'NotFound'], ['InvalidSnapshot.NotFound', 400, 'NotFound'],
    ['InvalidAMIName.Duplicate', 400, 'AlreadyExists'], ['InvalidParameterValue', 400, 'InvalidArgument'], ['MissingParameter', 400, 'InvalidArgument'],
    ['EntityTooSmall', 400, 'InvalidArgument'], ['RequestLimitExceeded', 503, 'ResourceExhausted'], ['SlowDown', 503, 'ResourceExhausted'],
    ['Throttling', 400, 'ResourceExhausted'], ['SnapshotLimitExceeded', 400, 'ResourceExhausted'], ['InternalError', 500, 'Unavailable'],
    ['ServiceUnavailable', 503, 'Unavailable'], ['SomethingNew', 418, 'InvalidArgument'], ['SomethingNew', 200, 'Internal'],
  ];
  for (const [code, status, expected] of cases) {
    const e = fromAwsError(sdkError(code, status), 's3://b/k', 'uploading part 2');
    assert.equal(e.code, expected, code);
    assert.equal(e.subject, 's3://b/k');
    assert.match(e.message, new RegExp(`^uploading part 2: ${code.replace('.', '\\.')}`));
  }
});

test('throttling, 5xx and network faults are retried; client errors and quotas are not', () => {
  for (const e of [sdkError('RequestLimitExceeded', 503), sdkError('SlowDown', 503), sdkError('Whatever', 500), sdkError('X', 400, { $retryable: { throttling: true } }),
    Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })]) {
    assert.equal(isTransientAwsError(e), true, e.name);
  }
  for (const e of [sdkError('AccessDenied', 403), sdkError('NoSuchBucket', 404), sdkError('InvalidParameterValue', 400), sdkError('SnapshotLimitExceeded', 400),
    Object.assign(new Error('aborted'), { name: 'AbortError' })]) {
    assert.equal(isTransientAwsError(e), false, e.name);
  }
});

test('missing credentials and cancellation get their own words', () => {
  assert.equal(fromAwsError(Object.assign(new Error('Could not load credentials'), { name: 'CredentialsProviderError' }), undefined, 'x').code, 'PermissionDenied');
  assert.match(fromAwsError(Object.assign(new Error('Could not load credentials'), { name: 'CredentialsProviderError' }), undefined, 'x').message, /AWS_ACCESS_KEY_ID/);
  assert.equal(fromAwsError(Object.assign(new Error('aborted'), { name: 'AbortError' }), undefined, 'x').code, 'Cancelled');
  assert.equal(fromAwsError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), undefined, 'x').code, 'Unavailable');
});
