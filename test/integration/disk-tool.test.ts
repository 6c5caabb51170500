// runDiskTool and requireTools with real programs: a failure carries the tool's stderr, a missing
// tool names its Debian package, an abort kills the child and says Cancelled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTools, runDiskTool, ToolFailure } from '../../src/adapters/disk/disk-tool.js';
import { Cancelled, Internal, Unavailable } from '../../src/lib/errors.js';
import { tempDir } from '../helpers.js';

test('a failing tool is Internal with its stderr in the cause', async () => {
  await assert.rejects(runDiskTool('sfdisk', ['--json', '/nonexistent/disk.raw']), (e) => {
    assert.ok(e instanceof Internal, String(e));
    assert.match(e.message, /^sfdisk failed: .*nonexistent\/disk\.raw/);
    assert.ok(e.cause instanceof ToolFailure);
    assert.match(e.cause.stderr, /cannot open \/nonexistent\/disk\.raw/);
    assert.equal(e.cause.exitCode, 1);
    return true;
  });
});

test('stdin is fed to the tool and stdout returned', async () => {
  assert.equal(await runDiskTool('tr', ['a-z', 'A-Z'], { input: 'gpt\n' }), 'GPT\n');
});

test('a missing tool is Unavailable naming its Debian package, at once or before any work', async () => {
  await assert.rejects(runDiskTool('atomic-no-such-tool', []), (e) => e instanceof Unavailable && /atomic-no-such-tool is not installed/.test(e.message));
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    // /usr/sbin and /sbin are always searched (mkfs.*, sfdisk); mtools and grub live in /usr/bin.
    assert.doesNotThrow(() => requireTools(['sfdisk', 'mkfs.ext4']));
    assert.throws(() => requireTools(['sfdisk', 'mmd', 'mcopy', 'grub-mkstandalone']), (e) => {
      assert.ok(e instanceof Unavailable, String(e));
      assert.match(e.message, /^mmd, mcopy, grub-mkstandalone are not installed \(Debian packages mtools, grub-common; scripts\/setup installs them\)$/);
      return true;
    });
  } finally {
    process.env.PATH = saved;
  }
});

test('an abort kills the running tool and is Cancelled', async (t) => {
  const pidFile = join(tempDir(t), 'pid');
  const ac = new AbortController();
  const run = runDiskTool('sh', ['-c', `echo $$ > ${pidFile}; exec sleep 600`], { signal: ac.signal });
  while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8').trim() === '') await new Promise((r) => setTimeout(r, 20));
  const pid = Number(readFileSync(pidFile, 'utf8'));
  ac.abort();
  await assert.rejects(run, (e) => e instanceof Cancelled);
  // The sleep was killed and reaped: its pid is gone.
  assert.throws(() => process.kill(pid, 0), (e: NodeJS.ErrnoException) => e.code === 'ESRCH');
  await assert.rejects(runDiskTool('true', [], { signal: ac.signal }), (e) => e instanceof Cancelled);
});
