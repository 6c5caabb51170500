import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exitCodeFor, formatError } from '../../../src/cli/report-error.js';
import { DataLoss, InvalidArgument, NotFound, Unavailable } from '../../../src/lib/errors.js';

test('input errors exit 2, other failures 1', () => {
  assert.equal(exitCodeFor(new InvalidArgument('x')), 2);
  assert.equal(exitCodeFor(new NotFound('x')), 2);
  assert.equal(exitCodeFor(new Unavailable('x')), 1);
  assert.equal(exitCodeFor(new DataLoss('x')), 1);
  assert.equal(exitCodeFor(new Error('x')), 1);
});

test('one-line summary names the subject; problems replace it', () => {
  assert.equal(formatError(new NotFound('reading: no such file', { subject: 'a.yaml' }), false), 'atomic: a.yaml: reading: no such file');
  assert.equal(formatError(new InvalidArgument('multi\nline'), false), 'atomic: multi');
  const v = new InvalidArgument('invalid', { problems: ['u:1:1: /: a', 'u:2:3: /b: c'] });
  assert.equal(formatError(v, false), 'u:1:1: /: a\nu:2:3: /b: c');
  assert.match(formatError(new InvalidArgument('top', { cause: new Error('root') }), true), /caused by:\nError: root/);
});
