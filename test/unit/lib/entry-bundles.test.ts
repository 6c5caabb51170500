import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentCommandIndex, agentEntryFor, bundleFor } from '../../../src/lib/entry-bundles.js';

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

test('atomicd: provisioning from its own bundle with its cache, the daemon without a cache', () => {
  const argv = (...words: string[]) => ['/usr/bin/node', '/usr/lib/atomic/dist/bin/atomicd.cjs', ...words];
  assert.deepEqual(agentEntryFor(argv('provision', '--root', '/')), { bundle: 'atomicd-provision.cjs', useCache: true });
  assert.deepEqual(agentEntryFor(argv('--log-level', 'debug', 'provision')), { bundle: 'atomicd-provision.cjs', useCache: true });
  assert.deepEqual(agentEntryFor(argv('--log-level', 'run', 'provision')), { bundle: 'atomicd-provision.cjs', useCache: true }, "run here is --log-level's value");
  assert.deepEqual(agentEntryFor(argv('run', '--socket', '/run/a.sock')), { bundle: 'atomicd.cjs', useCache: false });
  assert.deepEqual(agentEntryFor(argv('--log-level', 'debug', 'run')), { bundle: 'atomicd.cjs', useCache: false });
  assert.deepEqual(agentEntryFor(argv('--help')), { bundle: 'atomicd.cjs', useCache: true });
  assert.deepEqual(agentEntryFor(argv()), { bundle: 'atomicd.cjs', useCache: true });
});

test("atomicd's command word: after the global options and --log-level's value", () => {
  assert.equal(agentCommandIndex(['provision', '--root', '/']), 0);
  assert.equal(agentCommandIndex(['--log-level', 'run', 'provision']), 2);
  assert.equal(agentCommandIndex(['--version']), -1);
  assert.equal(agentCommandIndex([]), -1);
});
