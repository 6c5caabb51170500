import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ociResources, updateResources, type CgroupFeatures } from '../../../../src/core/containers/resources.js';

const V1: CgroupFeatures = { mode: 'hybrid', memoryLimit: true, swapLimit: true, cpuShares: true, cpuCfs: true, cpuset: true, pidsLimit: true, blkioWeight: true, cpuCount: 2 };

test('pids: a limit is written; 0, -1 and null (unlimited) leave pids out at create, as crun cannot write -1 to a v1 pids.max', () => {
  assert.deepEqual(ociResources({ PidsLimit: 6 }, 'hybrid').pids, { limit: 6 });
  for (const unlimited of [0, -1, null]) assert.equal(ociResources({ PidsLimit: unlimited }, 'hybrid').pids, undefined, String(unlimited));
});

test('pids: update lifts a limit with an explicit -1 and sets a new one as given', () => {
  assert.deepEqual(updateResources({ PidsLimit: 6 }, { PidsLimit: 0 }, V1).resources.pids, { limit: -1 });
  assert.deepEqual(updateResources({ PidsLimit: 6 }, { PidsLimit: 20 }, V1).resources.pids, { limit: 20 });
  assert.equal(updateResources({ PidsLimit: 6 }, { Memory: 64 * 1024 * 1024 }, V1).resources.pids, undefined, 'untouched when not in the update');
});
