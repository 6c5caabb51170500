// `atomic image validate` against the real Debian archive: the shipped recipes name only packages
// that exist (a recipe typo must never first show up after a multi-minute bootstrap), and a bad
// recipe is refused with every problem located, exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, runCliAsync, tempDir } from '../helpers.js';

test('the recipes in images/ validate against the Debian archive', async (t) => {
  const cache = tempDir(t);
  for (const f of readdirSync(join(REPO, 'images')).filter((n) => n.endsWith('.yaml'))) {
    const r = await runCliAsync(['image', 'validate', join(REPO, 'images', f), '--cache-dir', cache]);
    assert.equal(r.status, 0, `${f}: ${r.stderr}`);
    assert.match(r.stdout, /valid \(/);
    assert.doesNotMatch(r.stdout, /not checked/);
  }
  assert.ok(readdirSync(join(cache, 'package-index')).length >= 1, 'the index is cached for the build');
});

test('a recipe with a misspelt package and wrong types: every problem located, exit 2', async (t) => {
  const dir = tempDir(t);
  const recipe = join(dir, 'bad.yaml');
  writeFileSync(recipe, 'recipe: 1\nname: bad\nversion: "1"\narch: x86_64\nbase:\n  suite: bookworm\n  packages:\n    - systemd\n    - openssh-servr\ndisk:\n  size: 3\n');
  const r = await runCliAsync(['image', 'validate', recipe, '--cache-dir', join(dir, 'cache')]);
  assert.equal(r.status, 2, r.stderr);
  // Types are checked first; the package names once the types are right.
  assert.match(r.stderr, new RegExp(`${recipe}:11:9: /disk/size: leaves 0 MiB`));
  writeFileSync(recipe, 'recipe: 1\nname: bad\nversion: "1"\narch: x86_64\nbase:\n  suite: bookworm\n  packages:\n    - systemd\n    - openssh-servr\n');
  const r2 = await runCliAsync(['image', 'validate', recipe, '--cache-dir', join(dir, 'cache'), '--json']);
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, new RegExp(`${recipe}:9:7: /base/packages/1: no package openssh-servr in Debian bookworm \\(x86_64\\) \\(did you mean openssh-server\\?\\)`));
  assert.equal(r2.stdout, '');
});

test('atomic image build refuses bad input before any long work, leaving no output', async (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'out');
  const cache = join(dir, 'cache');
  const recipe = join(dir, 'bad.yaml');
  writeFileSync(recipe, 'recipe: 1\nname: bad\nversion: "1"\narch: x86_64\nbase:\n  suite: bookworm\n  packages: [systemd, not-a-package-xyz]\n');
  const unknown = await runCliAsync(['image', 'build', recipe, '-o', out, '--cache-dir', cache, '--no-gpg-verify']);
  assert.equal(unknown.status, 2, unknown.stderr);
  assert.match(unknown.stderr, new RegExp(`${recipe}:7:23: /base/packages/1: no package not-a-package-xyz`));
  const small = await runCliAsync(['image', 'build', join(REPO, 'images', 'atomic-host.yaml'), '-o', out, '--cache-dir', cache, '--format', 'qcow2,bogus']);
  assert.equal(small.status, 2);
  assert.match(small.stderr, /--format: bogus is not one of raw, qcow2, vhd, vmdk, vagrant-libvirt/);
  const unsigned = await runCliAsync(['image', 'build', join(REPO, 'images', 'atomic-host.yaml'), '-o', out, '--cache-dir', cache, '--remote-url', 'http://updates.example/repo/']);
  assert.equal(unsigned.status, 2);
  assert.match(unsigned.stderr, /verify the GPG signatures of updates, but this build signs nothing/);
  const tiny = join(dir, 'tiny.yaml');
  writeFileSync(tiny, readFileSync(join(REPO, 'images', 'atomic-host.yaml'), 'utf8').replace('size: 4G', 'size: 400M'));
  const tooSmall = await runCliAsync(['image', 'build', tiny, '-o', out, '--cache-dir', cache]);
  assert.equal(tooSmall.status, 2, tooSmall.stderr);
  assert.match(tooSmall.stderr, /\/disk\/size: the root filesystem would get \d+ MiB, but the packages and their dependencies need at least/);
  assert.ok(!existsSync(out), 'no output directory was made');
  assert.ok(!existsSync(join(cache, 'rootfs')), 'no bootstrap was started');
});
