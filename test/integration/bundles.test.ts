// The installed commands (dist/bin) are bundles with V8 code caches (scripts/bundle-entries.mjs):
// the build left a cache for each short-lived entry that this Node.js accepts, and the entries
// that `atomic iso|seed|cloud-init` and `atomicd provision` run behave exactly as the whole
// programs do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleId, cachePath, compileBundle } from '../../src/lib/code-cache.js';
import { AGENT_NODE_FLAGS } from '../../src/core/image/os-units.js';
import { AGENT, CLI, DIST, REPO, run, tempDir } from '../helpers.js';

const bundles = join(DIST, 'bundle');

for (const [name, flags] of [['atomic', []], ['atomic-media', []], ['atomicd-provision', []], ['atomicd-provision', AGENT_NODE_FLAGS]] as const) {
  test(`${name}${flags.length === 0 ? '' : ` (${flags.join(' ')})`}: the build's code cache is there and V8 accepts it`, () => {
    const file = join(bundles, `${name}.cjs`);
    const source = readFileSync(file, 'latin1');
    const id = bundleId(source);
    assert.ok(id !== undefined, `${file} starts with its ID`);
    const cache = readFileSync(cachePath(file, id, flags));
    // Flags change V8's check, so only the flag-less caches can be checked from here.
    if (flags.length === 0) assert.equal(compileBundle(file, source, cache).cache, 'accepted');
    else assert.ok(cache.length > 100_000, 'a cache of the warmed-up functions');
  });
}

test('atomic iso|seed|cloud-init: the media entry prints and exits as the whole program does', (t) => {
  const dir = tempDir(t);
  const ud = join(REPO, 'cloud-init', 'examples', 'web-host', 'user-data');
  const whole = join(bundles, 'atomic.cjs'); // a bundle runs without its cache as plain CommonJS too
  const lines: string[][] = [
    ['seed', '--help'],
    ['seed', 'create', '--help'],
    ['iso', 'create', '--help'],
    ['cloud-init', '--help'],
    ['seed', 'create'],
    ['seed', 'create', '-o', join(dir, 'x.iso'), '--user-data', join(dir, 'missing')],
    ['seed', 'create', '--format', 'floppy', join(dir, 'x.iso'), ud],
    ['seed', 'bogus'],
    ['cloud-init', 'validate', ud],
  ];
  for (const args of lines) {
    const media = run(process.execPath, [CLI, ...args]);
    const all = run(process.execPath, [whole, ...args]);
    assert.deepEqual({ status: media.status, stdout: media.stdout, stderr: media.stderr }, { status: all.status, stdout: all.stdout, stderr: all.stderr }, args.join(' '));
  }
});

test('atomicd provision: the provisioning entry answers as the whole agent does', (t) => {
  const dir = tempDir(t);
  const whole = join(bundles, 'atomicd.cjs');
  for (const args of [
    ['provision', '--help'],
    ['provision', '--bogus'],
    ['--log-level', 'loud', 'provision'],
    ['provision', '--root', join(dir, 'missing'), '--seed', join(dir, 'no-seed')],
  ]) {
    const entry = run(process.execPath, [AGENT, ...args]);
    const all = run(process.execPath, [whole, ...args]);
    // Log lines differ in their time, pid and the bundle's name and positions in stack traces only.
    const same = (s: string): string => s.replace(/"time":"[^"]*"/g, '').replace(/"pid":\d+/g, '').replace(/atomicd(-provision)?\.cjs:\d+:\d+/g, 'BUNDLE');
    assert.deepEqual({ status: entry.status, stdout: entry.stdout, stderr: same(entry.stderr) }, { status: all.status, stdout: all.stdout, stderr: same(all.stderr) }, args.join(' '));
  }
});
