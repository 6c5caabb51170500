import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  describeTask, importFailure, isFinal, observe, parseProgress, submitted, toActive, toCompleted, toFailed, type ImportSnapshotTask,
} from '../../../../src/core/image/import-snapshot-task.js';
import { FailedPrecondition, Internal } from '../../../../src/lib/errors.js';

const ID = 'import-snap-0123456789abcdef0';

test('pending -> active with progress -> completed, as DescribeImportSnapshotTasks reports it', () => {
  let t: ImportSnapshotTask = submitted(ID);
  assert.deepEqual(t, { state: 'pending', importTaskId: ID });
  // EC2 says "active" with StatusMessage "pending" until it starts: still pending, same object.
  const same = observe(t, { Status: 'active', StatusMessage: 'pending', Progress: '0' });
  assert.equal(same, t);
  t = observe(t, { Status: 'active', StatusMessage: 'validating', Progress: '27' });
  assert.deepEqual(t, { state: 'active', importTaskId: ID, progressPercent: 27, statusMessage: 'validating' });
  assert.equal(describeTask(t), 'active 27% (validating)');
  t = observe(t, { Status: 'active', StatusMessage: 'converting', Progress: '64' });
  assert.equal(t.state === 'active' && t.progressPercent, 64);
  assert.equal(isFinal(t), false);
  t = observe(t, { Status: 'completed', SnapshotId: 'snap-0abc', DiskImageSize: 12582912 });
  assert.deepEqual(t, { state: 'completed', importTaskId: ID, snapshotId: 'snap-0abc', diskImageSizeBytes: 12582912 });
  assert.equal(isFinal(t), true);
});

test('deleting/deleted end the task as failed with EC2\'s StatusMessage', () => {
  const active = toActive(submitted(ID), 10, 'converting');
  const failed = observe(active, { Status: 'deleted', StatusMessage: 'ClientError: Disk validation failed [Invalid S3 source location]' });
  assert.deepEqual(failed, { state: 'failed', importTaskId: ID, status: 'deleted', statusMessage: 'ClientError: Disk validation failed [Invalid S3 source location]' });
  assert.ok(isFinal(failed));
  assert.ok(failed.state === 'failed');
  const e = importFailure(failed, ID);
  assert.ok(e instanceof FailedPrecondition);
  assert.match(e.message, /deleted: ClientError: Disk validation failed/);
  assert.equal(observe(submitted(ID), { Status: 'deleting' }).state, 'failed');
  // Completed without a snapshot is no success.
  const noSnap = observe(active, { Status: 'completed' });
  assert.equal(noSnap.state, 'failed');
});

test('transitions are guarded: nothing leaves completed or failed', () => {
  const done = toCompleted(submitted(ID), 'snap-1');
  assert.throws(() => toActive(done, 50, undefined), Internal);
  assert.throws(() => toFailed(done, 'deleted', 'x'), Internal);
  assert.throws(() => observe(done, { Status: 'active', Progress: '5' }), Internal);
  const failed = toFailed(submitted(ID), 'deleted', 'x');
  assert.throws(() => toCompleted(failed, 'snap-2'), Internal);
});

test('an unknown status keeps the task running; Progress parses only percentages', () => {
  const t = observe(submitted(ID), { Status: 'queued', StatusMessage: 'waiting', Progress: '3' });
  assert.deepEqual(t, { state: 'active', importTaskId: ID, progressPercent: 3, statusMessage: 'waiting' });
  assert.deepEqual(['0', '27', '100', '12.5', '101', '-1', 'x', '', undefined].map(parseProgress), [0, 27, 100, 12.5, undefined, undefined, undefined, undefined, undefined]);
});
