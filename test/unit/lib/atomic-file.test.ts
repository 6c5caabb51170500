import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomically, writeFileAtomically, writeFileAtomicallySync } from '../../../src/lib/atomic-file.js';
import { tempSuffix } from '../../../src/lib/temp-name.js';
import { InvalidArgument, NotFound } from '../../../src/lib/errors.js';
import { tempDir } from '../../helpers.js';

test('writes the file with its mode, replacing an old one only when complete', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'out');
  writeFileSync(target, 'old');
  await writeFileAtomically(target, 'new content', { mode: 0o600 });
  assert.equal(readFileSync(target, 'utf8'), 'new content');
  assert.equal(statSync(target).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir), ['out']);
});

test('a failure while filling leaves the old file and no temp file', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'out');
  writeFileSync(target, 'old');
  await assert.rejects(writeAtomically(target, async ({ handle }) => {
    await handle.write('partial');
    throw new InvalidArgument('boom');
  }), InvalidArgument);
  assert.equal(readFileSync(target, 'utf8'), 'old');
  assert.deepEqual(readdirSync(dir), ['out']);
});

test('a missing or non-directory parent is a typed error naming the target', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(writeFileAtomically(join(dir, 'no', 'x'), 'a'), (e) => e instanceof NotFound && e.subject === join(dir, 'no', 'x'));
  writeFileSync(join(dir, 'file'), '');
  await assert.rejects(writeFileAtomically(join(dir, 'file', 'x'), 'a'), InvalidArgument);
});

test('the synchronous variant: same file, same mode, same typed errors, no temp file left', (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'out');
  writeFileSync(target, 'old');
  writeFileAtomicallySync(target, 'new content', { mode: 0o640 });
  writeFileAtomicallySync(join(dir, 'fast'), Buffer.from('not fsynced'), { durable: false });
  assert.equal(readFileSync(target, 'utf8'), 'new content');
  assert.equal(statSync(target).mode & 0o777, 0o640);
  assert.equal(readFileSync(join(dir, 'fast'), 'utf8'), 'not fsynced');
  assert.deepEqual(readdirSync(dir).sort(), ['fast', 'out']);
  assert.throws(() => writeFileAtomicallySync(join(dir, 'no', 'x'), 'a'), (e) => e instanceof NotFound && e.subject === join(dir, 'no', 'x'));
  assert.throws(() => writeFileAtomicallySync(join(dir, 'out', 'x'), 'a'), InvalidArgument);
  assert.deepEqual(readdirSync(dir).sort(), ['fast', 'out']);
});

test('temp names: 12 hex digits, not repeated', () => {
  const names = Array.from({ length: 1000 }, () => tempSuffix());
  for (const n of names) assert.match(n, /^[0-9a-f]{12}$/);
  assert.equal(new Set(names).size, names.length);
});
