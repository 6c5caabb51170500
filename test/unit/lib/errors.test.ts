import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgument, NotFound, PermissionDenied, Internal, fromSystemError, isAtomicError } from '../../../src/lib/errors.js';

test('errors carry their code as name, subject, cause and problems', () => {
  const cause = new Error('low level');
  const e = new InvalidArgument('bad', { subject: 'f.yaml', cause, problems: ['f.yaml:1:2: /: x'] });
  assert.equal(e.name, 'InvalidArgument');
  assert.equal(e.code, 'InvalidArgument');
  assert.equal(e.subject, 'f.yaml');
  assert.equal(e.cause, cause);
  assert.deepEqual(e.problems, ['f.yaml:1:2: /: x']);
  assert.ok(isAtomicError(e));
  assert.ok(!isAtomicError(cause));
});

test('fromSystemError maps errno codes into the taxonomy', () => {
  const sys = (code: string) => Object.assign(new Error(`${code}: boom, open '/x'`), { code });
  assert.ok(fromSystemError(sys('ENOENT'), '/x', 'reading') instanceof NotFound);
  assert.ok(fromSystemError(sys('EACCES'), '/x', 'reading') instanceof PermissionDenied);
  const other = fromSystemError(sys('EIO'), '/x', 'reading');
  assert.ok(other instanceof Internal);
  assert.match(other.message, /^reading: boom/);
  const already = new NotFound('gone');
  assert.equal(fromSystemError(already, '/y', 'z'), already);
});
