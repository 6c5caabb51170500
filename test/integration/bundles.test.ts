// The installed commands (dist/bin) are bundles with V8 code caches (scripts/bundle-entries.mjs):
// the build left a cache for each short-lived entry that this Node.js accepts, and the entries
// that `atomic iso|seed|cloud-init` and `atomicd provision` run behave exactly as the whole
// programs do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
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

test('atomic cloud-init validate: a report to a pipe read slowly is whole (the media entry leaves early only when nothing is left to write)', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'user-data');
  // 3000 unknown keys: a report several times the size of a pipe's buffer (64 KiB).
  writeFileSync(file, `#cloud-config\n${Array.from({ length: 3000 }, (_, i) => `unknown_key_number_${String(i).padStart(5, '0')}: 1\n`).join('')}`);
  const child = spawn(process.execPath, [CLI, 'cloud-init', 'validate', '--json', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Nobody reads for a while: the child's last writes wait on a full pipe when it is done.
  child.stdout.pause();
  await new Promise((r) => setTimeout(r, 500));
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stdout.resume();
  const status = await new Promise<number | null>((r) => child.on('close', r));
  const out = Buffer.concat(chunks).toString('utf8');
  assert.ok(out.length > 4 * 65536, `a report bigger than the pipe (${out.length} bytes)`);
  JSON.parse(out); // whole: it parses
  assert.equal(new Set(out.match(/unknown_key_number_\d{5}/g)).size, 3000);
  assert.equal(status, 0, 'unknown keys are warnings');
});

test('atomic cloud-init validate: YAML outside the subset the entry reads itself loads the yaml package, with the same report', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'anchors.yaml');
  writeFileSync(file, '#cloud-config\nbase: &b {shell: /bin/sh}\nusers:\n  - <<: *b\n    name: alice\nruncmd:\n  - [echo, "a\n    b"]\nbogus_key: 1\n');
  const whole = join(bundles, 'atomic.cjs');
  const media = run(process.execPath, [CLI, 'cloud-init', 'validate', '--json', file]);
  const all = run(process.execPath, [whole, 'cloud-init', 'validate', '--json', file]);
  assert.deepEqual({ status: media.status, stdout: media.stdout }, { status: all.status, stdout: all.stdout });
  assert.match(media.stdout, /bogus_key/, 'the schema still ran after the full parser read the file');
});
