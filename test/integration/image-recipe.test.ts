// `atomic image validate` against the real Debian archive: the shipped recipes name only packages
// that exist (a recipe typo must never first show up after a multi-minute bootstrap), and a bad
// recipe is refused with every problem located, exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readdirSync } from 'node:fs';
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
