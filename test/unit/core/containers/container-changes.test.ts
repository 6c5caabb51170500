import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changeLetter, computeChanges, type FileFacts, type UpperEntry } from '../../../../src/core/containers/container-changes.js';

const dir = (mtimeMs = 1000, mode = 0o40755): FileFacts => ({ isDir: true, mode, sizeBytes: 4096, mtimeMs });
const file = (sizeBytes = 1): FileFacts => ({ isDir: false, mode: 0o100644, sizeBytes, mtimeMs: 1000 });
const entry = (path: string, facts: FileFacts, lower: FileFacts | undefined, extra: Partial<UpperEntry> = {}): UpperEntry => ({ path, ...facts, whiteout: false, opaque: false, lower, ...extra });

test('added, modified and deleted names, with their parent directories marked changed', () => {
  const changes = computeChanges([
    entry('/bin', dir(2000), dir(1000)),
    entry('/bin/ls', { isDir: false, mode: 0o20000, sizeBytes: 0, mtimeMs: 0 }, file(), { whiteout: true }),
    entry('/etc', dir(), dir()), // same attributes: only its content changed
    entry('/etc/passwd', file(2), file(1)),
    entry('/tmp', dir(), dir()),
    entry('/tmp/new', file(), undefined),
    entry('/new-dir', dir(), undefined),
    entry('/new-dir/f', file(), undefined),
  ]);
  assert.deepEqual(changes.map((c) => `${changeLetter(c.Kind)} ${c.Path}`), ['C /bin', 'D /bin/ls', 'C /etc/passwd', 'C /tmp', 'A /tmp/new', 'A /new-dir', 'A /new-dir/f']);
});

test('an opaque directory that hid a lower one is deleted, its new content added; a new opaque one is just added', () => {
  const changes = computeChanges([
    entry('/var', dir(), dir()),
    entry('/var/cache', dir(5000), dir(), { opaque: true }),
    entry('/var/cache/fresh', file(), undefined),
    entry('/opt', dir(), undefined, { opaque: true }),
  ]);
  assert.deepEqual(changes.map((c) => `${changeLetter(c.Kind)} ${c.Path}`), ['C /var', 'D /var/cache', 'A /var/cache/fresh', 'A /opt']);
});

test('directories holding only the engine\'s mount points are not changes; a timestamp to the second matches', () => {
  assert.deepEqual(computeChanges([entry('/etc', dir(9000), dir(1000), { incidental: true })]), []);
  assert.deepEqual(computeChanges([entry('/etc', dir(9000, 0o40700), dir(1000), { incidental: true })]).map((c) => c.Kind), [0]);
  assert.deepEqual(computeChanges([entry('/x', dir(5000), dir(5432))]), []);
});
