// ExitWatcher's inotify path: with a poll interval far beyond the test's deadline, an exit file
// renamed into place (as atomic-monitor writes it) is still reported, once, and an exit that
// happened before watch() is found by the look watch() takes at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExitWatcher, type WatchedExit } from '../../../../src/agent/containers/supervisor.js';
import { monitorFiles } from '../../../../src/adapters/oci-runtime/monitor.js';
import { tempDir } from '../../../helpers.js';

const HOUR_MS = 3_600_000;

async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}

const exitJson = (id: string, code: number): string => JSON.stringify({ id, pid: 7, exitCode: code, signal: 0, oomKilled: false, finishedAt: '2026-01-01T00:00:00Z', monitorPid: 6 });

test('exit watcher: a renamed-in exit file is seen without waiting for the poll', async (t) => {
  const dir = tempDir(t);
  const files = (id: string): ReturnType<typeof monitorFiles> => monitorFiles(join(dir, id));
  for (const id of ['early', 'late']) mkdirSync(join(dir, id));
  const seen: [string, WatchedExit][] = [];
  // livenessEvery 1000 and an hour between polls: only the watch (or watch()'s first look) can report.
  const w = new ExitWatcher({ pollMs: HOUR_MS, livenessEvery: 1000, filesOf: files, onExit: async (id, how) => void seen.push([id, how]), onError: (id, e) => assert.fail(`${id}: ${String(e)}`) });
  t.after(() => w.close());

  writeFileSync(files('early').exitFile, exitJson('early', 3));
  w.watch('early');
  await eventually(() => seen.length === 1);
  assert.equal(seen[0]?.[0], 'early');

  w.watch('late');
  // Other files in the directory (the log, temp files) are not exits.
  writeFileSync(join(dir, 'late', 'late-json.log'), '{"log":"x\\n","stream":"stdout","time":"2026-01-01T00:00:00Z"}\n');
  const tmp = `${files('late').exitFile}.99.tmp`;
  writeFileSync(tmp, exitJson('late', 42));
  await sleep(50);
  assert.equal(seen.length, 1, 'no exit before the exit file exists');
  renameSync(tmp, files('late').exitFile);
  await eventually(() => seen.length === 2);
  const [id, how] = seen[1] ?? [];
  assert.equal(id, 'late');
  assert.ok(how?.kind === 'exit-file' && how.exit.exitCode === 42);
  assert.equal(w.isWatching('late'), false, 'reported once, then no longer watched');
});
