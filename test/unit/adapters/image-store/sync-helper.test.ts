// The syncfs helper: one long-lived shell answers every request (no fork of the test process per
// sync), a failed sync is an error, and a path it cannot take is synced the plain way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { SyncHelper } from '../../../../src/adapters/image-store/sync-helper.js';
import { Internal } from '../../../../src/lib/errors.js';
import { tempDir } from '../../../helpers.js';

function helperShells(): number {
  const out = execFileSync('ps', ['-eo', 'ppid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim().startsWith(`${process.pid} `) && l.includes('sync -f')).length;
}

test('one shell serves many syncfs requests, concurrent ones too', async (t) => {
  const dir = tempDir(t);
  const h = new SyncHelper();
  await h.syncfs(dir);
  assert.equal(helperShells(), 1, 'a shell child of this process');
  await Promise.all([h.syncfs(dir), h.syncfs(dir), h.syncfs(dir)]);
  assert.equal(helperShells(), 1, 'still the same one');
});

test('a sync that fails is Internal; a path with a newline is synced the plain way', async (t) => {
  const dir = tempDir(t);
  const h = new SyncHelper();
  await assert.rejects(h.syncfs(join(dir, 'missing')), (e: unknown) => e instanceof Internal && /sync -f .*missing failed/.test(e.message));
  await assert.rejects(h.syncfs(join(dir, 'a\nb')), (e: unknown) => e instanceof Internal, 'runTool reports the failure of sync itself');
  await h.syncfs(dir);
});
