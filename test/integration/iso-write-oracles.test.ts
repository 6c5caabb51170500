// Images written by `atomic iso create`, checked by independent tools: blkid, isoinfo, xorriso.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, runOk, tempDir } from '../helpers.js';
import { GIB, makeAwkwardTree } from '../fixtures/make-tree.js';
import { sha256File, snapshotTree } from '../tree-snapshot.js';

test('awkward tree with a 1 GiB sparse file survives atomic iso create -> xorriso extract', async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  makeAwkwardTree(src, { sparseGiB: true });
  const iso = join(dir, 'out.iso');
  const r = runCli(['iso', 'create', '-o', iso, '-V', 'ROUNDTRIP', src]);
  assert.equal(r.status, 0, r.stderr);

  // The 1 GiB of holes stays holes in the image.
  const st = statSync(iso);
  assert.ok(st.size > GIB, `image holds the 1 GiB file (${st.size} bytes)`);
  assert.ok(st.blocks * 512 < 64 * 1024 * 1024, `image is sparse (${st.blocks * 512} bytes allocated)`);

  assert.match(runOk('blkid', [iso]).stdout, /LABEL="ROUNDTRIP" TYPE="iso9660"/);
  const info = runOk('isoinfo', ['-d', '-i', iso]).stdout;
  assert.match(info, /Joliet with UCS level 3 found/);
  assert.match(info, /Rock Ridge signatures version 1 found/);

  const out = join(dir, 'x');
  const x = runOk('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/', out]);
  assert.doesNotMatch(x.stderr, /SORRY|FAILURE|WARNING/, x.stderr);
  // Directory mtimes change as xorriso fills them; everything else must be identical.
  assert.deepEqual(await snapshotTree(out, { dirMtimes: false }), await snapshotTree(src, { dirMtimes: false }));
});

test('isoinfo lists Joliet names (up to 64 characters) and Rock Ridge names', (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  makeAwkwardTree(src, { depth: 3 });
  const iso = join(dir, 'out.iso');
  assert.equal(runCli(['iso', 'create', '-o', iso, '-V', 'NAMES', src]).status, 0);
  // isoinfo cannot print UCS-2 beyond Latin-1; xorriso shows the Joliet tree in UTF-8.
  const joliet = runOk('xorriso', ['-read_fs', 'norock', '-indev', iso, '-find', '/']).stdout
    .split('\n').map((l) => l.replace(/^'(.*)'$/, '$1'));
  assert.ok(joliet.includes('/été-ünïcödé.txt'), joliet.join('\n'));
  assert.ok(joliet.includes('/日本語のファイル名.md'));
  const long = joliet.find((l) => l.startsWith('/LLLL'));
  assert.ok(long !== undefined && long.length - 1 <= 64 && long.endsWith('.txt'), `Joliet name truncated to 64, extension kept: ${long}`);
  assert.ok(joliet.includes('/emoji-🙂-🚀.bin'), 'characters beyond the BMP survive as UTF-16 pairs');
  const rr = runOk('isoinfo', ['-R', '-f', '-i', iso]).stdout.split('\n');
  assert.ok(rr.some((l) => l === `/${'L'.repeat(190)}-long.txt`), 'Rock Ridge keeps the 200-character name');
  assert.ok(rr.includes('/deep/level-0/level-1/level-2/bottom.txt'));
  const plain = runOk('isoinfo', ['-f', '-i', iso]).stdout.split('\n');
  assert.ok(plain.includes('/README.;1'), plain.join('\n'));
  assert.ok(plain.every((l) => l === '' || /^[/A-Z0-9_.;]+$/.test(l)), 'plain names are d-characters');
});

test('same tree and SOURCE_DATE_EPOCH give byte-identical images', async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  makeAwkwardTree(src, { depth: 10 });
  const env = { SOURCE_DATE_EPOCH: '1700000000' };
  const a = join(dir, 'a.iso');
  const b = join(dir, 'b.iso');
  assert.equal(runCli(['iso', 'create', '-o', a, '-V', 'REPRO', src], { env }).status, 0);
  assert.equal(runCli(['iso', 'create', '-o', b, '-V', 'REPRO', src], { env }).status, 0);
  assert.equal(await sha256File(a), await sha256File(b));
  // Volume dates come from SOURCE_DATE_EPOCH (2023-11-14 22:13:20 UTC).
  assert.match(runOk('xorriso', ['-indev', a, '-pvd_info']).stdout, /Creation Time: 2023111422132000/);
  const c = join(dir, 'c.iso');
  assert.equal(runCli(['iso', 'create', '-o', c, '-V', 'REPRO', src], { env: { SOURCE_DATE_EPOCH: '1700000001' } }).status, 0);
  assert.notEqual(await sha256File(a), await sha256File(c));
});

test('iso create refuses bad input with one line, exit 2 and no output', (t) => {
  const dir = tempDir(t);
  const iso = join(dir, 'out.iso');
  const missing = runCli(['iso', 'create', '-o', iso, join(dir, 'nope')]);
  assert.equal(missing.status, 2);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  assert.match(missing.stderr, /nope: reading the source directory: no such file or directory/);
  const badLabel = runCli(['iso', 'create', '-o', iso, '-V', 'x'.repeat(33), dir]);
  assert.equal(badLabel.status, 2);
  assert.match(badLabel.stderr, /volume label/);
  const noDir = runCli(['iso', 'create', '-o', join(dir, 'no', 'such', 'out.iso'), dir]);
  assert.equal(noDir.status, 2);
  assert.match(noDir.stderr, /output directory .*no such file or directory/);
  assert.throws(() => statSync(iso));
});
