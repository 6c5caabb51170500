// Crash safety of `atomic host upgrade`: SIGKILL at random points of the pull and the deployment
// write, 30 times. After each kill the sysroot must still boot something (v1 or v2, never neither),
// `ostree admin status` must work, and the next upgrade must succeed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { adminStatus, cliCommit, makeOsTree, ostree, ostreeTempDir, removeOstreeTree, serveRepo, STATEROOT } from '../fixtures/ostree-env.js';
import { CLI, runCliAsync } from '../helpers.js';

const REF = 'testos/x86_64/stable';
const TRIALS = 30;

/** Start `atomic host upgrade` and SIGKILL it after `afterMs` (or let it finish first). */
function upgradeKilledAfter(sysroot: string, afterMs: number): Promise<{ killed: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'host', 'upgrade', '--sysroot', sysroot], { stdio: 'ignore' });
    let killed = false;
    const timer = setTimeout(() => {
      killed = child.kill('SIGKILL');
    }, afterMs);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve({ killed });
    });
  });
}

test(`SIGKILL during atomic host upgrade (${TRIALS} trials): always a valid default, and the next upgrade succeeds`, async (t) => {
  const dir = ostreeTempDir(t);
  const repo = join(dir, 'repo');
  ostree(['init', '--mode=archive', `--repo=${repo}`]);
  // Enough objects that the pull takes a while: kills land in it as well as in the write.
  const v1 = cliCommit(repo, makeOsTree(join(dir, 'tree-1'), { version: '1', blobs: 300, blobBytes: 8 * 1024 }), { branch: REF, subject: 'v1', version: '1' });
  const server = await serveRepo(repo);
  t.after(() => server.close());
  const template = join(dir, 'template');
  assert.equal((await runCliAsync(['host', 'init', '--sysroot', template, '--os', STATEROOT])).status, 0);
  assert.equal((await runCliAsync(['host', 'remote', 'add', 'origin', server.url, '--no-gpg-verify', '--sysroot', template])).status, 0);
  const first = await runCliAsync(['host', 'rebase', `origin:${REF}`, '--os', STATEROOT, '--sysroot', template]);
  assert.equal(first.status, 0, first.stderr);
  const v2 = cliCommit(repo, makeOsTree(join(dir, 'tree-2'), { version: '2', blobs: 300, blobBytes: 8 * 1024 }), { branch: REF, subject: 'v2', version: '2' });

  // How long an undisturbed upgrade takes, to spread the kills over it.
  const probe = join(dir, 'probe');
  spawnSync('cp', ['-a', template, probe]);
  const t0 = performance.now();
  assert.equal((await runCliAsync(['host', 'upgrade', '--sysroot', probe])).status, 0);
  const fullMs = performance.now() - t0;
  removeOstreeTree(probe);

  // Until 30 upgrades were really killed (one that finished before its kill time still gets the
  // same checks but does not count).
  let killedCount = 0;
  const seen = new Set<string>();
  for (let i = 0; killedCount < TRIALS && i < TRIALS * 2; i++) {
    const sysroot = join(dir, `trial-${i}`);
    assert.equal(spawnSync('cp', ['-a', template, sysroot]).status, 0);
    // Spread over the whole run, startup included.
    const at = Math.floor((((i % TRIALS) + Math.random()) / TRIALS) * fullMs * 0.95);
    const { killed } = await upgradeKilledAfter(sysroot, at);
    if (killed) killedCount++;
    const after = adminStatus(sysroot);
    assert.ok(after.length >= 1, `trial ${i} (kill at ${at} ms): no deployment left`);
    const defaultCsum = after[0]!.csum;
    assert.ok(defaultCsum === v1 || defaultCsum === v2, `trial ${i}: default is neither v1 nor v2`);
    seen.add(defaultCsum === v1 ? 'v1' : 'v2');
    const next = await runCliAsync(['host', 'upgrade', '--sysroot', sysroot]);
    assert.equal(next.status, 0, `trial ${i} (kill at ${at} ms): the next upgrade failed: ${next.stderr}`);
    assert.equal(adminStatus(sysroot)[0]!.csum, v2, `trial ${i}: v2 is the default after the next upgrade`);
    assert.match(ostree(['fsck', `--repo=${join(sysroot, 'ostree', 'repo')}`]), /no errors found/);
    removeOstreeTree(sysroot);
  }
  assert.equal(killedCount, TRIALS, `${TRIALS} upgrades were killed mid-way`);
  assert.ok(seen.has('v1'), 'some kills left v1 as the default (killed before the deployment was written)');
});
