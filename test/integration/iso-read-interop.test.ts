// `atomic iso ls` / `atomic iso extract` on images made by the real tools (genisoimage, xorriso),
// listings checked against isoinfo, and bad input refused without leaving anything behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, runOk, tempDir } from '../helpers.js';
import { GIB, makeAwkwardTree } from '../fixtures/make-tree.js';
import { snapshotTree } from '../tree-snapshot.js';

/** Paths `atomic iso ls` prints, without the leading '/'. */
function atomicLs(iso: string, names = 'auto'): string[] {
  const r = runCli(['iso', 'ls', '--names', names, iso]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => {
    assert.ok(l.startsWith('/'), l);
    return l.slice(1);
  });
}

/**
 * `isoinfo -f` paths, sorted. isoinfo prints Joliet names in Latin-1 (one '_' for every UTF-16
 * unit beyond it), so its output is read as Latin-1.
 */
function isoinfoFind(iso: string, flags: string[]): string[] {
  const r = spawnSync('isoinfo', [...flags, '-f', '-i', iso], { encoding: 'latin1' });
  if (r.error !== undefined) throw r.error;
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.slice(1)).sort();
}

const sorted = (xs: readonly string[]): string[] => [...xs].sort();

/** What Linux's map=normal (and `atomic iso ls --names iso9660`) shows for a raw ISO 9660 path. */
const plainAsLinux = (p: string): string =>
  p.split('/').map((c) => c.replace(/;[0-9]*$/, '').replace(/(.)\.$/, '$1').replace(/[A-Z]+/g, (m) => m.toLowerCase())).join('/');

function extract(iso: string, out: string, names = 'auto'): void {
  const r = runCli(['iso', 'extract', '--names', names, iso, out]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
}

test('genisoimage -J -R: extracted tree is identical, directories relocated to rr_moved are back in place', async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  makeAwkwardTree(src); // depth 12: genisoimage relocates levels below 8 into rr_moved
  // genisoimage 1.1.11 writes an SL entry whose length byte wraps (272 -> 16) for link-long's
  // 250-byte component; the next test shows that image is refused. Everything else must round-trip.
  rmSync(join(src, 'link-long'));
  const iso = join(dir, 'g.iso');
  runOk('genisoimage', ['-quiet', '-J', '-R', '-o', iso, src]);
  const rawRr = isoinfoFind(iso, ['-R']);
  assert.ok(rawRr.includes('rr_moved'), 'genisoimage relocated the deep directories');
  assert.ok(rawRr.some((p) => p.startsWith('rr_moved/level-')));

  const listed = atomicLs(iso);
  assert.ok(!listed.some((p) => p.startsWith('rr_moved')), 'rr_moved is hidden');
  const deepFile = ['deep', ...Array.from({ length: 12 }, (_, i) => `level-${i}`), 'bottom.txt'].join('/');
  assert.ok(listed.includes(deepFile), `the deep file is in place: ${listed.join('\n')}`);

  const out = join(dir, 'out');
  extract(iso, out);
  // Names, types, modes, sizes, content, symlink targets, and mtimes of files and directories.
  assert.deepEqual(await snapshotTree(out), await snapshotTree(src));
  assert.equal(readFileSync(join(out, deepFile), 'utf8'), 'at the bottom\n');
});

test('genisoimage\'s broken SL entry for a 250-byte symlink component is refused, leaving nothing', (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  makeAwkwardTree(src, { depth: 2 });
  const iso = join(dir, 'g.iso');
  runOk('genisoimage', ['-quiet', '-J', '-R', '-o', iso, src]);
  const out = join(dir, 'out');
  const r = runCli(['iso', 'extract', iso, out]);
  assert.equal(r.status, 1, r.stderr); // DataLoss
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^atomic: ${iso}: directory record at LBA \\d+ offset \\d+: continuation area at LBA \\d+ offset \\d+: SL entry at byte 0: component of 248 bytes at byte 13 overruns the entry \\(16 bytes\\)`));
  assert.deepEqual(sorted(readdirSync(dir)), ['g.iso', 'src']);
});

test('xorriso (-as mkisofs -J -R, and native -map): extracted tree is identical', async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  makeAwkwardTree(src);
  const want = await snapshotTree(src);
  const mkisofs = join(dir, 'x.iso');
  runOk('xorriso', ['-as', 'mkisofs', '-quiet', '-J', '-R', '-o', mkisofs, src]);
  const native = join(dir, 'n.iso');
  runOk('xorriso', ['-outdev', native, '-map', src, '/']);
  for (const iso of [mkisofs, native]) {
    const out = join(dir, `out-${iso.endsWith('x.iso') ? 'mkisofs' : 'native'}`);
    extract(iso, out);
    assert.deepEqual(await snapshotTree(out), want, iso);
  }
  // xorriso records PX in the 1.12 form with inode numbers; -l shows its Rock Ridge attributes.
  const long = runCli(['iso', 'ls', '-l', mkisofs]);
  assert.equal(long.status, 0, long.stderr);
  assert.match(long.stdout.split('\n')[0]!, /^volume "ISOIMAGE", names from rock-ridge \(image has Rock Ridge, Joliet, ISO 9660\)$/);
  assert.match(long.stdout, /\n-rw------- +1 +\d+ +\d+ +8 2017-07-14T\d\d:40:00Z \/modes\/secret\n/);
  assert.match(long.stdout, /\nlrwxrwxrwx +1 +\d+ +\d+ +13 [-0-9T:Z]+ \/link-absolute -> \/etc\/hostname\n/);
  assert.match(long.stdout, /\ndrwxrwsr-x +\d+ +\d+ +\d+ +\d+ [-0-9T:Z]+ \/modes\/shared\n/);
});

test('a 1 GiB sparse file extracts as a sparse file; the tree is identical', async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  makeAwkwardTree(src, { sparseGiB: true, depth: 3 });
  const iso = join(dir, 'a.iso');
  const c = runCli(['iso', 'create', '-o', iso, '-V', 'SPARSE', src]);
  assert.equal(c.status, 0, c.stderr);
  const out = join(dir, 'out');
  extract(iso, out);
  const st = statSync(join(out, 'sparse-1GiB.img'));
  assert.equal(st.size, GIB);
  assert.ok(st.blocks * 512 < 16 * 1024 * 1024, `extracted file is sparse (${st.blocks * 512} bytes allocated)`);
  assert.deepEqual(await snapshotTree(out), await snapshotTree(src));
});

test('Joliet-only and plain images: names match isoinfo -J -f and isoinfo -f', (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  makeAwkwardTree(src, { depth: 4 });
  const joliet = join(dir, 'j.iso');
  runOk('genisoimage', ['-quiet', '-J', '-o', joliet, src]);
  const jNames = atomicLs(joliet);
  // No Rock Ridge: 'auto' picks Joliet, which keeps case, spaces and Unicode (up to 64 units).
  assert.ok(jNames.includes('日本語のファイル名.md') && jNames.includes('mixed Case And Spaces.TXT') && jNames.includes('README'));
  const latin1 = (p: string): string => p.replace(/[\u0100-\uffff]/g, '_');
  assert.deepEqual(sorted(jNames.map(latin1)), isoinfoFind(joliet, ['-J']));
  assert.deepEqual(atomicLs(joliet, 'joliet'), jNames);

  const plain = join(dir, 'p.iso');
  runOk('genisoimage', ['-quiet', '-o', plain, src]);
  const pNames = atomicLs(plain);
  assert.ok(pNames.includes('readme') && pNames.includes('modes/script.sh'), pNames.join('\n'));
  assert.deepEqual(sorted(pNames), sorted(isoinfoFind(plain, []).map(plainAsLinux)));
  // The plain tree of the Joliet image is the same level-1 names.
  assert.deepEqual(sorted(atomicLs(joliet, 'iso9660')), sorted(pNames));

  // Without Rock Ridge, modes are what mount gives: r-x for directories, r-- for files.
  const out = join(dir, 'out');
  extract(plain, out);
  assert.equal(statSync(join(out, 'modes')).mode & 0o7777, 0o555);
  assert.equal(statSync(join(out, 'modes', 'script.sh')).mode & 0o7777, 0o444);
  assert.equal(readFileSync(join(out, 'readme'), 'utf8'), 'top level\n');
  const outJ = join(dir, 'out-j');
  extract(joliet, outJ);
  assert.equal(readFileSync(join(outJ, '日本語のファイル名.md'), 'utf8'), 'content of 日本語のファイル名.md\n');
});

test('atomic iso ls matches isoinfo -R -f on a tree without relocation; --json', (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  makeAwkwardTree(src, { depth: 5 });
  rmSync(join(src, 'link-long')); // genisoimage's SL bug, see above
  const iso = join(dir, 'g.iso');
  runOk('genisoimage', ['-quiet', '-J', '-R', '-o', iso, src]);
  // isoinfo -R keeps names as bytes: read its UTF-8 output as UTF-8 here.
  const r = runOk('isoinfo', ['-R', '-f', '-i', iso]);
  const isoinfoNames = r.stdout.split('\n').filter((l) => l !== '').map((l) => l.slice(1));
  assert.deepEqual(sorted(atomicLs(iso)), sorted(isoinfoNames));

  const json = runCli(['iso', 'ls', '--json', iso]);
  assert.equal(json.status, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { volume: { volumeId: string; names: string; hasJoliet: boolean }; entries: { path: string; type: string; mode: number; symlinkTarget?: string; mtime: string }[] };
  assert.deepEqual([parsed.volume.volumeId, parsed.volume.names, parsed.volume.hasJoliet], ['CDROM', 'rock-ridge', true]);
  assert.deepEqual(parsed.entries.map((e) => e.path), atomicLs(iso));
  const rel = parsed.entries.find((e) => e.path === 'link-relative');
  assert.deepEqual([rel?.type, rel?.symlinkTarget, rel?.mtime], ['symlink', 'README', '2014-05-13T16:53:20Z']);
  assert.equal(parsed.entries.find((e) => e.path === 'modes/secret')?.mode, 0o100600);
});

test('hard links come back as hard links (images from atomic and genisoimage)', (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'a'), 'shared content\n');
  linkSync(join(src, 'a'), join(src, 'b'));
  linkSync(join(src, 'a'), join(src, 'sub', 'c'));
  writeFileSync(join(src, 'empty-1'), '');
  writeFileSync(join(src, 'empty-2'), '');
  writeFileSync(join(src, 'same-content'), 'shared content\n');
  const ours = join(dir, 'a.iso');
  assert.equal(runCli(['iso', 'create', '-o', ours, src]).status, 0);
  const theirs = join(dir, 'g.iso');
  runOk('genisoimage', ['-quiet', '-R', '-o', theirs, src]);
  for (const iso of [ours, theirs]) {
    const out = join(dir, `out-${iso.endsWith('a.iso') ? 'atomic' : 'genisoimage'}`);
    extract(iso, out);
    const ino = (p: string): number => statSync(join(out, p)).ino;
    assert.equal(ino('a'), ino('b'), iso);
    assert.equal(ino('a'), ino('sub/c'), iso);
    assert.equal(statSync(join(out, 'a')).nlink, 3, iso);
    assert.equal(readFileSync(join(out, 'sub', 'c'), 'utf8'), 'shared content\n');
    assert.notEqual(ino('empty-1'), ino('empty-2'), 'empty files are separate files');
    assert.notEqual(ino('a'), ino('same-content'), 'equal content alone is no link');
  }
});

test('a block device (read-only loop device) reads like the image file', (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  makeAwkwardTree(src, { depth: 3 });
  const iso = join(dir, 'a.iso');
  assert.equal(runCli(['iso', 'create', '-o', iso, src]).status, 0);
  const dev = runOk('losetup', ['--show', '-f', '-r', iso]).stdout.trim();
  t.after(() => runOk('losetup', ['-d', dev]));
  assert.ok(lstatSync(dev).isBlockDevice(), dev);
  assert.deepEqual(atomicLs(dev), atomicLs(iso));
  extract(dev, join(dir, 'out'));
  assert.equal(readFileSync(join(dir, 'out', 'README'), 'utf8'), 'top level\n');
});

test('bad input: missing image, a file that is not an ISO, a ../escape name, a non-empty or symlinked target', (t) => {
  const dir = tempDir(t);
  const work = join(dir, 'work');
  mkdirSync(work);
  const listing = (): string[] => sorted(readdirSync(work));

  const missing = runCli(['iso', 'extract', join(work, 'nope.iso'), join(work, 'out')]);
  assert.equal(missing.status, 2);
  assert.equal(missing.stderr, `atomic: ${join(work, 'nope.iso')}: opening the image: no such file or directory\n`);
  assert.equal(runCli(['iso', 'ls', join(work, 'nope.iso')]).status, 2);

  const text = join(work, 'notes.txt');
  writeFileSync(text, 'not an image\n'.repeat(4000));
  const notIso = runCli(['iso', 'extract', text, join(work, 'out')]);
  assert.equal(notIso.status, 2);
  assert.equal(notIso.stderr, `atomic: ${text}: not an ISO 9660 image: no "CD001" volume descriptor at sector 16\n`);
  assert.deepEqual(listing(), ['notes.txt']);

  // An image whose Rock Ridge name is "../escape": made by our writer, then patched.
  const src = join(dir, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'a-file'), 'first\n');
  writeFileSync(join(src, 'sub', 'zzzescape'), 'escaped?\n');
  const good = join(dir, 'good.iso');
  assert.equal(runCli(['iso', 'create', '-o', good, src]).status, 0);
  const bytes = readFileSync(good);
  const at = bytes.indexOf('zzzescape');
  assert.ok(at > 0 && bytes.indexOf('zzzescape', at + 1) < 0);
  bytes.write('../escape', at, 'latin1');
  const evil = join(work, 'evil.iso');
  writeFileSync(evil, bytes);
  const before = listing();
  const x = runCli(['iso', 'extract', evil, join(work, 'out')]);
  assert.equal(x.status, 1);
  assert.equal(x.stderr.split('\n').filter((l) => l !== '').length, 1, x.stderr);
  assert.match(x.stderr, new RegExp(`^atomic: ${evil}: directory record at LBA \\d+ offset \\d+: invalid file name "\\.\\./escape"\\n$`));
  assert.deepEqual(listing(), before, 'nothing created beside the target, no partial target left');
  assert.deepEqual(sorted(readdirSync(dir)), ['good.iso', 'src', 'work']);

  // An existing empty target stays, and stays empty.
  mkdirSync(join(work, 'empty-target'));
  assert.equal(runCli(['iso', 'extract', evil, join(work, 'empty-target')]).status, 1);
  assert.deepEqual(readdirSync(join(work, 'empty-target')), []);

  const full = join(work, 'full');
  mkdirSync(full);
  writeFileSync(join(full, 'keep'), 'x');
  const nonEmpty = runCli(['iso', 'extract', good, full]);
  assert.equal(nonEmpty.status, 1);
  assert.match(nonEmpty.stderr, /^atomic: .*full: the target directory is not empty \(1 entries\); extract into a new or empty directory\n$/);
  assert.deepEqual(readdirSync(full), ['keep']);

  symlinkSync(join(work, 'empty-target'), join(work, 'via-link'));
  const linked = runCli(['iso', 'extract', good, join(work, 'via-link')]);
  assert.equal(linked.status, 2);
  assert.match(linked.stderr, /the target is a symbolic link; refusing to extract through it/);
  assert.deepEqual(readdirSync(join(work, 'empty-target')), []);
  assert.ok(lstatSync(join(work, 'via-link')).isSymbolicLink());

  // And the unpatched image extracts.
  extract(good, join(work, 'ok'));
  assert.equal(readFileSync(join(work, 'ok', 'sub', 'zzzescape'), 'utf8'), 'escaped?\n');
});
