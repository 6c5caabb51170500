// Image recipes: the shipped recipes are valid; every kind of mistake is reported at its place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../../../helpers.js';
import { installedClosureBytes, validateRecipe, type ArchiveFacts } from '../../../../src/core/image/recipe.js';
import { parsePackages } from '../../../../src/adapters/debian-archive/package-index.js';
import { expectClean, expectProblem } from '../cloud-config/check-helpers.js';

const check = (text: string, archive?: ArchiveFacts): ReturnType<typeof validateRecipe> => validateRecipe(Buffer.from(text), 'r.yaml', archive);
const MINIMAL = 'recipe: 1\nname: tiny\nversion: "1"\narch: x86_64\nbase:\n  suite: bookworm\n  packages: [systemd, systemd-sysv]\n';

test('every recipe in images/ is valid', () => {
  const files = readdirSync(join(REPO, 'images')).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.includes('atomic-host.yaml'));
  for (const f of files) {
    const r = validateRecipe(readFileSync(join(REPO, 'images', f)), f);
    expectClean(r.problems);
    assert.ok(r.recipe !== undefined, f);
  }
});

test('defaults fill what a minimal recipe leaves out', () => {
  const r = check(MINIMAL);
  expectClean(r.problems);
  const recipe = r.recipe!;
  assert.equal(recipe.kernel.package, 'linux-image-cloud-amd64');
  assert.equal(recipe.ostree.ref, 'tiny/x86_64/stable');
  assert.equal(recipe.disk.sizeBytes, 4 * 1024 ** 3);
  assert.equal(recipe.disk.espSizeBytes, 64 * 1024 ** 2);
  assert.equal(recipe.base.mirror, 'http://deb.debian.org/debian');
  assert.equal(recipe.osRelease.prettyName, 'tiny 1');
  assert.ok(recipe.kernel.args.includes('console=ttyS0,115200'));
});

test('wrong types and unknown keys are located', () => {
  const r = check('recipe: 1\nname: Tiny\nversion: 1.10\narch: amd64\nbase:\n  suite: bookworm\n  packages: systemd\ndisk:\n  size: lots\nfiles:\n  - path: /var/lib/x\n    content: a\n    mode: 644\npreloads: []\n');
  assert.equal(r.recipe, undefined);
  expectProblem(r.problems, { severity: 'error', path: '/name', line: 2, column: 7, message: /lower-case/ });
  expectProblem(r.problems, { severity: 'error', path: '/version', line: 3, column: 10, message: /float/ });
  expectProblem(r.problems, { severity: 'error', path: '/arch', line: 4, column: 7, message: /not one of x86_64, aarch64/ });
  expectProblem(r.problems, { severity: 'error', path: '/base/packages', line: 7, column: 13, message: /expected a list/ });
  expectProblem(r.problems, { severity: 'error', path: '/disk/size', line: 9, column: 9, message: /not a size/ });
  expectProblem(r.problems, { severity: 'error', path: '/files/0/path', line: 11, column: 11, message: /under \/var/ });
  expectProblem(r.problems, { severity: 'error', path: '/files/0/mode', line: 13, column: 11, message: /expected a string/ });
  expectProblem(r.problems, { severity: 'error', path: '/preloads', line: 14, column: 1, message: /preload/ });
});

test('missing required keys and a disk too small are refused', () => {
  const missing = check('recipe: 1\nname: a\n').problems.map((p) => p.message);
  assert.deepEqual(missing.filter((m) => /missing required key/.test(m)).sort(), ["missing required key 'arch'", "missing required key 'base'", "missing required key 'version'"]);
  const small = check(`${MINIMAL}disk:\n  size: 200M\n`);
  expectProblem(small.problems, { severity: 'error', path: '/disk/size', line: 9, column: 9, message: /at least 256 MiB/ });
  const esp = check(`${MINIMAL}disk:\n  esp_size: 4M\n`);
  expectProblem(esp.problems, { severity: 'error', path: '/disk/esp_size', line: 9, column: 13, message: /at least 8M/ });
  const odd = check(`${MINIMAL}disk:\n  size: 1000000000\n`);
  expectProblem(odd.problems, { severity: 'error', path: '/disk/size', line: 9, column: 9, message: /whole number of MiB/ });
  expectProblem(check('- a\n').problems, { severity: 'error', path: '', line: 1, column: 1, message: /is a mapping/ });
  expectProblem(check('recipe: 2\nname: a\nversion: "1"\narch: x86_64\nbase: {suite: bookworm, packages: []}\n').problems, { severity: 'error', path: '/recipe', line: 1, column: 9 });
});

test('duplicate users and files are refused at the second one', () => {
  const r = check(`${MINIMAL}users:\n  - name: a\n  - name: a\nfiles:\n  - {path: /etc/x, content: ""}\n  - {path: /etc/x, content: ""}\n`);
  expectProblem(r.problems, { severity: 'error', path: '/users/1/name', line: 10, column: 11, message: /twice/ });
  expectProblem(r.problems, { severity: 'error', path: '/files/1/path', line: 13, column: 12, message: /twice/ });
});

test('with the package index: unknown packages and a disk that cannot hold them', () => {
  const index = parsePackages(
    ['Package: systemd\nInstalled-Size: 9000\n', 'Package: systemd-sysv\nInstalled-Size: 100\n', 'Package: linux-image-cloud-amd64\nInstalled-Size: 10\n', 'Package: huge\nInstalled-Size: 1200000\n', 'Package: exim4-daemon-light\nProvides: mail-transport-agent\nInstalled-Size: 1\n'].join('\n'),
  );
  assert.ok(index.packages.has('mail-transport-agent'));
  expectClean(check(MINIMAL, index).problems);
  const typo = check(MINIMAL.replace('systemd-sysv', 'systemd-sys'), index);
  expectProblem(typo.problems, { severity: 'error', path: '/base/packages/1', line: 7, column: 23, message: /no package systemd-sys in Debian bookworm.*did you mean systemd-sysv/ });
  const big = check(`${MINIMAL.replace('systemd-sysv]', 'systemd-sysv, huge]')}disk:\n  size: 1G\n`, index);
  expectProblem(big.problems, { severity: 'error', path: '/disk/size', line: 9, column: 9, message: /packages and their dependencies need at least 886 MiB/ });
  const kernel = check(`${MINIMAL}kernel:\n  package: linux-image-nope\n`, index);
  expectProblem(kernel.problems, { severity: 'error', path: '/kernel/package', line: 9, column: 12, message: /no package linux-image-nope/ });
});

test('the installed-size estimate follows dependencies, virtual names and the essential set', () => {
  const index = parsePackages(
    [
      'Package: app\nInstalled-Size: 100\nDepends: libfoo (>= 1), mta | exim4, libbar:any\n',
      'Package: libfoo\nInstalled-Size: 10\nPre-Depends: libc6\n',
      'Package: libbar\nInstalled-Size: 20\n',
      'Package: exim4\nInstalled-Size: 1000\nProvides: mta\n',
      'Package: libc6\nInstalled-Size: 5\n',
      'Package: base-files\nInstalled-Size: 1\nEssential: yes\n',
      'Package: unrelated\nInstalled-Size: 99999\n',
    ].join('\n'),
  );
  assert.equal(installedClosureBytes(index, ['app']), (100 + 10 + 20 + 1000 + 5 + 1) * 1024);
  assert.equal(installedClosureBytes(index, []), 1024, 'the essential set alone');
});
