import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageDiskUsage, reclaimableImageBytes } from '../../../../src/core/containers/disk-usage.js';
import { parsePsOutput, psArgs } from '../../../../src/core/containers/ps-output.js';
import { untilMs } from '../../../../src/core/containers/prune-filters.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

test('shared layers are counted once in LayersSize and as SharedSize of each image that has them', () => {
  const t = imageDiskUsage(
    [
      { id: 'a', layers: [{ diffId: 'base', sizeBytes: 100 }, { diffId: 'a1', sizeBytes: 10 }] },
      { id: 'b', layers: [{ diffId: 'base', sizeBytes: 100 }, { diffId: 'b1', sizeBytes: 20 }, { diffId: 'b1', sizeBytes: 20 }] },
      { id: 'c', layers: [{ diffId: 'c1', sizeBytes: 7 }] },
    ],
    ['a', 'a', 'c'],
  );
  assert.equal(t.layersSizeBytes, 137);
  assert.deepEqual(t.images, [
    { id: 'a', sizeBytes: 110, sharedSizeBytes: 100, containers: 2 },
    { id: 'b', sizeBytes: 120, sharedSizeBytes: 100, containers: 0 },
    { id: 'c', sizeBytes: 7, sharedSizeBytes: 0, containers: 1 },
  ]);
  // The docker CLI's RECLAIMABLE: total minus what used images hold alone.
  assert.equal(reclaimableImageBytes(t), 137 - 10 - 7);
});

test('docker top keeps the container\'s pids and the command with its spaces', () => {
  const ps = [
    'UID          PID    PPID  C STIME TTY          TIME CMD',
    'root           1       0  0 09:00 ?        00:00:01 /sbin/init splash',
    'root        4242    4241  0 09:31 ?        00:00:00 sleep 1000',
    'root        4250    4242  0 09:31 pts/0    00:00:00 sh -c echo a  b',
  ].join('\n');
  assert.deepEqual(parsePsOutput(ps, [4242, 4250]), {
    Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
    Processes: [['root', '4242', '4241', '0', '09:31', '?', '00:00:00', 'sleep 1000'], ['root', '4250', '4242', '0', '09:31', 'pts/0', '00:00:00', 'sh -c echo a b']],
  });
  assert.throws(() => parsePsOutput('USER COMMAND\nroot x', [1]), /Couldn't find PID field in ps output/);
  assert.deepEqual(psArgs(''), ['-ef']);
  assert.deepEqual(psArgs('-o pid,args'), ['-o', 'pid,args']);
  assert.throws(() => psArgs('-ef /etc/shadow'), InvalidArgument);
});

test('prune until= takes durations, Unix times and dates', () => {
  const now = Date.parse('2026-01-02T00:00:00Z');
  assert.equal(untilMs('24h', now), Date.parse('2026-01-01T00:00:00Z'));
  assert.equal(untilMs('1700000000', now), 1_700_000_000_000);
  assert.equal(untilMs('2025-12-31', now), Date.parse('2025-12-31T00:00:00Z'));
  assert.equal(untilMs('2025-12-31T10:00:00Z', now), Date.parse('2025-12-31T10:00:00Z'));
  assert.throws(() => untilMs('yesterday', now), /invalid filter 'until=yesterday'/);
});
