import { test } from 'node:test';
import assert from 'node:assert/strict';
import { awsCall } from '../../../../src/adapters/aws/aws-call.js';
import { Cancelled, NotFound, ResourceExhausted } from '../../../../src/lib/errors.js';

const FAST = { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 4 };
const sdkError = (name: string, httpStatusCode: number): Error => Object.assign(new Error(`${name}!`), { name, $metadata: { httpStatusCode } });

test('throttling is retried with backoff until the call goes through', async () => {
  let calls = 0;
  const out = await awsCall(async () => {
    calls++;
    if (calls < 3) throw sdkError('RequestLimitExceeded', 503);
    return 'ok';
  }, { doing: 'describing', policy: FAST });
  assert.deepEqual([out, calls], ['ok', 3]);
});

test('a client error fails at once, mapped; endless throttling gives up after the attempts, keeping its class', async () => {
  let calls = 0;
  await assert.rejects(awsCall(async () => {
    calls++;
    throw sdkError('NoSuchBucket', 404);
  }, { doing: 'uploading', subject: 's3://b/k', policy: FAST }), (e: NotFound) => e instanceof NotFound && e.subject === 's3://b/k' && /^uploading: NoSuchBucket/.test(e.message));
  assert.equal(calls, 1);
  calls = 0;
  await assert.rejects(awsCall(async () => {
    calls++;
    throw sdkError('SlowDown', 503);
  }, { doing: 'uploading', policy: FAST }), (e: Error) => e instanceof ResourceExhausted && /gave up after 4 attempts/.test(e.message));
  assert.equal(calls, 4);
});

test('the caller\'s abort ends the call as Cancelled, not as whatever the SDK threw', async () => {
  const controller = new AbortController();
  await assert.rejects(awsCall(async (signal) => {
    controller.abort();
    assert.equal(signal?.aborted, true);
    throw sdkError('RequestTimeout', 400);
  }, { doing: 'uploading', signal: controller.signal, policy: FAST }), Cancelled);
});
