import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { planMultipartUpload, S3_MAX_PARTS, S3_MIN_PART_BYTES } from '../../../../src/core/image/multipart-plan.js';
import { InvalidArgument, OutOfRange } from '../../../../src/lib/errors.js';

const MiB = 1024 * 1024;

test('parts of the requested size, the last one shorter', () => {
  const plan = planMultipartUpload(12 * MiB, 5 * MiB);
  assert.deepEqual(plan.parts, [
    { partNumber: 1, offset: 0, sizeBytes: 5 * MiB },
    { partNumber: 2, offset: 5 * MiB, sizeBytes: 5 * MiB },
    { partNumber: 3, offset: 10 * MiB, sizeBytes: 2 * MiB },
  ]);
  assert.deepEqual(planMultipartUpload(1, 5 * MiB).parts, [{ partNumber: 1, offset: 0, sizeBytes: 1 }]);
});

test('below 5 MiB, above 5 GiB, empty files and objects over 5 TiB are refused', () => {
  assert.throws(() => planMultipartUpload(10 * MiB, 5 * MiB - 1), InvalidArgument);
  assert.throws(() => planMultipartUpload(10 * MiB, 5 * 1024 * MiB + 1), InvalidArgument);
  assert.throws(() => planMultipartUpload(0), InvalidArgument);
  assert.throws(() => planMultipartUpload(5 * 1024 * 1024 * MiB + 1), OutOfRange);
});

test('any size: parts cover the file exactly, in order, within S3\'s limits (grown past 10,000 parts)', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 5 * 1024 * 1024 * MiB }), fc.integer({ min: 5, max: 64 }), (size, partMiB) => {
    const plan = planMultipartUpload(size, partMiB * MiB);
    assert.ok(plan.parts.length <= S3_MAX_PARTS);
    let offset = 0;
    plan.parts.forEach((p, i) => {
      assert.equal(p.partNumber, i + 1);
      assert.equal(p.offset, offset);
      if (i < plan.parts.length - 1) assert.ok(p.sizeBytes === plan.partSizeBytes && p.sizeBytes >= S3_MIN_PART_BYTES);
      offset += p.sizeBytes;
    });
    assert.equal(offset, size);
  }), { numRuns: 300 });
});
