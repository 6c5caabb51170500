import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentUsesCodeCache, bundleFor } from '../../../src/cli/entry-bundles.js';

test('the media commands run from their own bundle, everything else from the whole CLI', () => {
  const argv = (...words: string[]) => ['/usr/bin/node', '/usr/lib/atomic/dist/bin/atomic.cjs', ...words];
  assert.equal(bundleFor(argv('seed', 'create', 'out.iso', 'user-data')), 'atomic-media.cjs');
  assert.equal(bundleFor(argv('iso', 'ls', 'x.iso')), 'atomic-media.cjs');
  assert.equal(bundleFor(argv('cloud-init', 'validate', 'user-data')), 'atomic-media.cjs');
  assert.equal(bundleFor(argv('run', '--rm', 'busybox', 'seed')), 'atomic.cjs');
  // A global option first: the whole program parses it (-H, --debug, --version).
  assert.equal(bundleFor(argv('--debug', 'seed', 'create')), 'atomic.cjs');
  assert.equal(bundleFor(argv()), 'atomic.cjs');
  assert.equal(bundleFor(argv('--help')), 'atomic.cjs');
});

test('atomicd: the daemon runs without the code cache, provisioning and the rest with it', () => {
  const argv = (...words: string[]) => ['/usr/bin/node', '/usr/lib/atomic/dist/bin/atomicd.cjs', ...words];
  assert.equal(agentUsesCodeCache(argv('run', '--socket', '/run/a.sock')), false);
  assert.equal(agentUsesCodeCache(argv('--log-level', 'debug', 'run')), false);
  assert.equal(agentUsesCodeCache(argv('--log-level', 'run', 'provision')), true, "run here is --log-level's value");
  assert.equal(agentUsesCodeCache(argv('provision', '--root', '/')), true);
  assert.equal(agentUsesCodeCache(argv('--help')), true);
});
