import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoDurationMs } from '../../../src/lib/go-duration.js';

test("Go's time.ParseDuration, in milliseconds", () => {
  assert.equal(parseGoDurationMs('1h'), 3_600_000);
  assert.equal(parseGoDurationMs('10m30s'), 630_000);
  assert.equal(parseGoDurationMs('1h30m'), 5_400_000);
  assert.equal(parseGoDurationMs('1.5h'), 5_400_000);
  assert.equal(parseGoDurationMs('250ms'), 250);
  assert.equal(parseGoDurationMs('-2m'), -120_000);
  assert.equal(parseGoDurationMs('0'), 0);
  assert.equal(parseGoDurationMs('1500us'), 1.5);
  // Go takes both spellings of micro: the micro sign and the Greek mu.
  assert.equal(parseGoDurationMs('2000\u00b5s'), 2);
  assert.equal(parseGoDurationMs('2000\u03bcs'), 2);
  assert.equal(parseGoDurationMs('10'), undefined, 'a bare number is not a duration');
  assert.equal(parseGoDurationMs('1d'), undefined);
  assert.equal(parseGoDurationMs(''), undefined);
});
