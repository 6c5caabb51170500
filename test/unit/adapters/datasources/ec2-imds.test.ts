import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLeaf } from '../../../../src/adapters/datasources/ec2-imds.js';
import { displayUrl, httpStatusError, isRetryableFetchError } from '../../../../src/adapters/http/fetch-capped.js';
import { InvalidArgument, NotFound, PermissionDenied, Unavailable } from '../../../../src/lib/errors.js';

test("leaves decode as cloud-init's MetadataLeafDecoder: JSON objects, lists of lines, strings", () => {
  assert.equal(decodeLeaf('i-0123'), 'i-0123');
  assert.equal(decodeLeaf(''), '');
  assert.deepEqual(decodeLeaf('10.0.0.5\n10.0.0.6'), ['10.0.0.5', '10.0.0.6']);
  assert.deepEqual(decodeLeaf('10.0.0.5\n'), ['10.0.0.5']);
  assert.deepEqual(decodeLeaf('{"Code": "Success"}'), { Code: 'Success' });
  assert.equal(decodeLeaf('{not json}'), '{not json}');
});

test('statuses map to the taxonomy; only transient ones are retried', () => {
  assert.ok(httpStatusError(503, 'meta-data', 's') instanceof Unavailable);
  assert.ok(httpStatusError(429, 'meta-data', 's') instanceof Unavailable);
  assert.ok(httpStatusError(401, 'meta-data', 's') instanceof PermissionDenied);
  assert.ok(httpStatusError(404, 'meta-data', 's') instanceof NotFound);
  assert.ok(httpStatusError(400, 'meta-data', 's') instanceof InvalidArgument);
  assert.equal(isRetryableFetchError(httpStatusError(503, 'x', 's')), true);
  assert.equal(isRetryableFetchError(httpStatusError(404, 'x', 's')), false);
});

test('URLs are shown without credentials or query', () => {
  assert.equal(displayUrl(new URL('https://user:pw@example.com:8443/seed/meta-data?X-Amz-Signature=abc#f')), 'https://example.com:8443/seed/meta-data?…');
  assert.equal(displayUrl(new URL('http://169.254.169.254/latest/api/token')), 'http://169.254.169.254/latest/api/token');
});
