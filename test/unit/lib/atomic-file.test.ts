import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomically, writeFileAtomically } from '../../../src/lib/atomic-file.js';
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
