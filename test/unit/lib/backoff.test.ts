import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelayMs, retryWithBackoff, withDeadline, type BackoffPolicy, type RetryClock } from '../../../src/lib/backoff.js';
import { Cancelled, DeadlineExceeded, NotFound, Unavailable } from '../../../src/lib/errors.js';

const POLICY: BackoffPolicy = { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, maxAttempts: 10, jitterRatio: 0.5 };

/** A clock whose sleep advances time at once and records each wait. */
function fakeClock(): RetryClock & { sleeps: number[] } {
  let now = 1_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: (ms, signal) => {
      if (signal?.aborted === true) return Promise.reject(new Error('aborted'));
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

test('the schedule doubles from the initial delay up to the cap; jitter takes off at most jitterRatio', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((r) => backoffDelayMs(POLICY, r, 0)), [100, 200, 400, 800, 1000, 1000]);
  assert.deepEqual([1, 2, 3, 4, 5].map((r) => backoffDelayMs(POLICY, r, 0.5)), [75, 150, 300, 600, 750]);
  for (let r = 1; r < 10; r++) {
    const full = backoffDelayMs(POLICY, r, 0);
    const least = backoffDelayMs(POLICY, r, 0.999999);
    assert.ok(least >= full / 2 && least <= full, `retry ${r}: ${least} within [${full / 2}, ${full}]`);
  }
  assert.deepEqual([1, 2, 3].map((r) => backoffDelayMs({ ...POLICY, jitterRatio: 0 }, r, 0.9)), [100, 200, 400]);
});

test('retries retryable failures with the scheduled waits, then returns the result', async () => {
  const clock = fakeClock();
  const seen: number[] = [];
  const result = await retryWithBackoff(
    ({ attempt }) => {
      seen.push(attempt);
      return attempt < 4 ? Promise.reject(new Unavailable('503')) : Promise.resolve('ok');
    },
    { policy: POLICY, clock, random: () => 0, retryable: (e) => e instanceof Unavailable },
  );
  assert.equal(result, 'ok');
  assert.deepEqual(seen, [1, 2, 3, 4]);
  assert.deepEqual(clock.sleeps, [100, 200, 400]);
});

test('an error that is not retryable is thrown at once, unchanged', async () => {
  const clock = fakeClock();
  const err = new NotFound('404', { subject: 'http://x/meta-data' });
  let calls = 0;
  await assert.rejects(
    retryWithBackoff(() => {
      calls++;
      return Promise.reject(err);
    }, { policy: POLICY, clock, retryable: (e) => e instanceof Unavailable }),
    (e) => e === err,
  );
  assert.equal(calls, 1);
  assert.deepEqual(clock.sleeps, []);
});

test('after maxAttempts the last error is thrown with its class, subject and cause', async () => {
  const clock = fakeClock();
  let calls = 0;
  await assert.rejects(
    retryWithBackoff(() => {
      calls++;
      return Promise.reject(new Unavailable(`attempt ${calls}`, { subject: 'http://x/' }));
    }, { policy: { ...POLICY, maxAttempts: 3 }, clock, random: () => 0, retryable: () => true }),
    (e) => e instanceof Unavailable && e.subject === 'http://x/' && /attempt 3 \(gave up after 3 attempts\)/.test(e.message) && e.cause instanceof Unavailable,
  );
  assert.equal(calls, 3);
  assert.deepEqual(clock.sleeps, [100, 200]);
});

test('the total deadline bounds attempts and waits; attempts see the time left', async () => {
  const clock = fakeClock();
  const start = clock.now();
  const remaining: number[] = [];
  await assert.rejects(
    retryWithBackoff(
      ({ remainingMs }) => {
        remaining.push(remainingMs);
        return Promise.reject(new Unavailable('down'));
      },
      { policy: POLICY, clock, random: () => 0, totalTimeoutMs: 500, retryable: () => true },
    ),
    (e) => e instanceof Unavailable && /total timeout of 500 ms/.test(e.message),
  );
  // waits 100 + 200 = 300 ms; the next (400) would end past 500.
  assert.deepEqual(clock.sleeps, [100, 200]);
  assert.deepEqual(remaining, [500, 400, 200]);
  assert.ok(clock.now() - start <= 500);
});

test('an attempt that takes time counts against the deadline too', async () => {
  const clock = fakeClock();
  let calls = 0;
  await assert.rejects(
    retryWithBackoff(
      () => {
        calls++;
        return clock.sleep(450).then(() => Promise.reject(new DeadlineExceeded('slow')));
      },
      { policy: POLICY, clock, random: () => 0, totalTimeoutMs: 1000, retryable: () => true },
    ),
    DeadlineExceeded,
  );
  // 450 + wait 100 + 450 = 1000: no time for a wait before a third attempt.
  assert.equal(calls, 2);
});

test('an aborted signal stops the retries with its reason', async () => {
  const controller = new AbortController();
  const clock = fakeClock();
  await assert.rejects(
    retryWithBackoff(
      () => {
        controller.abort();
        return Promise.reject(new Unavailable('down'));
      },
      { policy: POLICY, clock, signal: controller.signal, retryable: () => true },
    ),
    Unavailable,
  );
  const c2 = new AbortController();
  c2.abort();
  await assert.rejects(retryWithBackoff(() => Promise.resolve(1), { policy: POLICY, clock, signal: c2.signal, retryable: () => true }), Cancelled);
});

test('a real sleep is cut short by an abort and reports Cancelled', async () => {
  const controller = new AbortController();
  const started = Date.now();
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(
    retryWithBackoff(() => Promise.reject(new Unavailable('down')), {
      policy: { ...POLICY, initialDelayMs: 10_000, maxDelayMs: 10_000 },
      signal: controller.signal,
      retryable: () => true,
    }),
    Cancelled,
  );
  assert.ok(Date.now() - started < 2000);
});

test('withDeadline aborts the work with a DeadlineExceeded naming what did not finish', async () => {
  const started = Date.now();
  await assert.rejects(
    withDeadline({ timeoutMs: 50, what: 'reading the seed', subject: 'http://x/' }, (signal) =>
      new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)))),
    (e) => e instanceof DeadlineExceeded && e.subject === 'http://x/' && /reading the seed: not done within the total timeout of 50 ms/.test(e.message),
  );
  assert.ok(Date.now() - started < 1000);
  assert.equal(await withDeadline({ timeoutMs: 1000, what: 'x' }, () => Promise.resolve(7)), 7);
});

test("AbortSignal.timeout() as the caller's signal is a DeadlineExceeded, a plain abort is Cancelled", async () => {
  await assert.rejects(
    withDeadline({ timeoutMs: 10_000, what: 'reading', signal: AbortSignal.timeout(20) }, (signal) =>
      new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)))),
    (e) => e instanceof DeadlineExceeded && /reading: the caller's time limit passed/.test(e.message),
  );
  const c = new AbortController();
  c.abort();
  await assert.rejects(withDeadline({ timeoutMs: 10_000, what: 'reading', signal: c.signal }, (signal) => Promise.reject(signal.reason as Error)), Cancelled);
});
