// readJsonFileLog's follow is woken by changes in the log's directory: with a poll interval far
// beyond the test's deadline, appended entries still arrive and the exit (isDone) still ends it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFileLog, type LogEntry } from '../../../../src/adapters/oci-runtime/json-file-log.js';
import { tempDir } from '../../../helpers.js';

const line = (text: string): string => `${JSON.stringify({ log: `${text}\n`, stream: 'stdout', time: '2026-01-01T00:00:00.000000001Z' })}\n`;

test('json-file follow: new entries and the end arrive without waiting for the poll', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'c-json.log');
  const exitFile = join(dir, 'exit.json');
  writeFileSync(log, line('one'));
  const ac = new AbortController();
  // Ends the test instead of hanging if a wake-up is missed (the poll would come after an hour).
  const guard = setTimeout(() => ac.abort(), 20_000);
  t.after(() => clearTimeout(guard));
  const got: LogEntry[] = [];
  const reader = (async () => {
    for await (const e of readJsonFileLog(log, { follow: true, pollMs: 3_600_000, isDone: async () => existsSync(exitFile), signal: ac.signal })) {
      got.push(e);
      // Written a moment later, from outside the loop: the reader is waiting by then.
      if (e.log === 'one\n') setTimeout(() => appendFileSync(log, line('two')), 100);
      if (e.log === 'two\n') setTimeout(() => writeFileSync(exitFile, '{}'), 100);
    }
  })();
  await reader;
  assert.deepEqual(got.map((e) => e.log), ['one\n', 'two\n']);
  assert.equal(ac.signal.aborted, false, 'ended by the exit file, not by the guard');
});
