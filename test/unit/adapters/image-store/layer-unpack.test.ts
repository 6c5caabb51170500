// The layer unpacker on crafted tar streams: overlayfs whiteout conversion, metadata, and the
// refusals that keep a layer inside its directory. Runs as root (CI is root): device nodes and
// trusted.* xattrs need it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unpackLayer } from '../../../../src/adapters/image-store/layer-unpack.js';
import { readTarStream } from '../../../../src/formats/tar/tar-stream.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';
import { buildTar, type TarBuildEntry } from '../../../fixtures/tar-builder.js';
import { runOk, tempDir } from '../../../helpers.js';

async function unpack(entries: readonly TarBuildEntry[], root: string): Promise<Awaited<ReturnType<typeof unpackLayer>>> {
  async function* src(): AsyncGenerator<Buffer> {
    yield buildTar(entries);
  }
  return unpackLayer(readTarStream(src(), { what: 'layer test' }), root, { what: 'layer test' });
}

function xattr(path: string, name: string): string | undefined {
  const out = runOk('getfattr', ['-h', '--absolute-names', '--only-values', '-n', name, path]).stdout;
  return out;
}

test('whiteouts become 0/0 character devices, opaque markers trusted.overlay.opaque=y', async (t) => {
  const root = tempDir(t);
  const stats = await unpack(
    [
      { path: 'etc/', type: 'dir' },
      { path: 'etc/.wh.passwd', mode: 0 },
      { path: 'usr/share/.wh..wh..opq' },
      { path: 'usr/share/', type: 'dir', mode: 0o750, mtime: 1_600_000_000 },
      { path: 'usr/share/kept', data: 'new' },
      // A whiteout of a name this layer also has: the entry stays (image-spec layer.md).
      { path: 'keep', data: 'mine' },
      { path: '.wh.keep' },
      // A whiteout first, then an entry of the same name: the entry replaces it.
      { path: '.wh.later' },
      { path: 'later', data: 'here' },
      { path: 'a/b/.wh.c' },
    ],
    root,
  );
  const wh = statSync(join(root, 'etc/passwd'));
  assert.ok(wh.isCharacterDevice());
  assert.equal(wh.rdev, 0);
  assert.equal(xattr(join(root, 'usr/share'), 'trusted.overlay.opaque'), 'y');
  assert.equal(statSync(join(root, 'usr/share')).mode & 0o7777, 0o750);
  assert.equal(statSync(join(root, 'usr/share')).mtimeMs, 1_600_000_000_000);
  assert.equal(readFileSync(join(root, 'keep'), 'utf8'), 'mine');
  assert.equal(readFileSync(join(root, 'later'), 'utf8'), 'here');
  assert.ok(statSync(join(root, 'a/b/c')).isCharacterDevice());
  assert.equal(statSync(join(root, 'a/b')).mode & 0o7777, 0o755, 'implied parents are 0755');
  assert.deepEqual([stats.whiteouts, stats.opaqueDirs], [3, 1]);
});

test('modes with setuid, owners, times, symlinks, hard links, devices, fifos, xattrs', async (t) => {
  const root = tempDir(t);
  await unpack(
    [
      { path: 'bin/', type: 'dir', mode: 0o755 },
      { path: 'bin/su', data: '#!', mode: 0o4755, uid: 0, gid: 0, mtime: 1_500_000_000 },
      { path: 'bin/ping', data: 'p', mode: 0o755, pax: { 'SCHILY.xattr.security.capability': Buffer.from('0100000200200000000000000000000000000000', 'hex'), 'SCHILY.xattr.user.note': 'n' } },
      { path: 'home/u/', type: 'dir', mode: 0o700, uid: 1000, gid: 1000 },
      { path: 'home/u/f', data: 'x', mode: 0o2640, uid: 1000, gid: 100 },
      { path: 'bin/sh', type: 'symlink', linkPath: '/bin/busybox', uid: 5, gid: 6, mtime: 1_400_000_000 },
      { path: 'bin/su2', type: 'hardlink', linkPath: 'bin/su' },
      { path: 'dev/null', type: 'char', devMajor: 1, devMinor: 3, mode: 0o666 },
      { path: 'run/ctl', type: 'fifo', mode: 0o620 },
      { path: 'tmp/', type: 'dir', mode: 0o1777 },
    ],
    root,
  );
  const su = statSync(join(root, 'bin/su'));
  assert.equal(su.mode & 0o7777, 0o4755);
  assert.equal(su.mtimeMs, 1_500_000_000_000);
  assert.equal(su.nlink, 2);
  assert.equal(statSync(join(root, 'bin/su2')).ino, su.ino);
  const f = statSync(join(root, 'home/u/f'));
  assert.deepEqual([f.uid, f.gid, f.mode & 0o7777], [1000, 100, 0o2640]);
  assert.deepEqual([statSync(join(root, 'home/u')).uid, statSync(join(root, 'home/u')).mode & 0o777], [1000, 0o700]);
  const sh = lstatSync(join(root, 'bin/sh'));
  assert.ok(sh.isSymbolicLink());
  assert.equal(readlinkSync(join(root, 'bin/sh')), '/bin/busybox');
  assert.deepEqual([sh.uid, sh.gid, sh.mtimeMs], [5, 6, 1_400_000_000_000]);
  const dev = statSync(join(root, 'dev/null'));
  assert.ok(dev.isCharacterDevice());
  assert.equal(dev.rdev, (1 << 8) | 3);
  assert.ok(statSync(join(root, 'run/ctl')).isFIFO());
  assert.equal(statSync(join(root, 'run/ctl')).mode & 0o777, 0o620);
  assert.equal(statSync(join(root, 'tmp')).mode & 0o7777, 0o1777);
  assert.equal(xattr(join(root, 'bin/ping'), 'user.note'), 'n');
  // File capabilities (cap_net_raw here) survive: set after chown, which would clear them.
  const cap = runOk('getfattr', ['-h', '--absolute-names', '-e', 'hex', '-n', 'security.capability', join(root, 'bin/ping')]).stdout;
  assert.ok(cap.includes('security.capability=0x0100000200200000000000000000000000000000'), cap);
});

test('refusals: escaping names, writing through symlinks, stray hard links, overlay xattrs', async (t) => {
  const base = tempDir(t);
  const outside = join(base, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 's');
  const cases: [string, TarBuildEntry[], RegExp][] = [
    ['dotdot', [{ path: '../escape', data: 'x' }], /'\.\.'/],
    ['absolute', [{ path: `${outside}/abs`, data: 'x' }], /absolute/],
    ['symlink to outside, then a file through it', [{ path: 'x', type: 'symlink', linkPath: outside }, { path: 'x/pwned', data: 'x' }], /goes through "x", which is a symlink/],
    ['symlink to .. chain', [{ path: 'a', type: 'symlink', linkPath: '..' }, { path: 'a/b', type: 'dir' }], /goes through "a"/],
    ['symlink dir then whiteout through it', [{ path: 'l', type: 'symlink', linkPath: outside }, { path: 'l/.wh.secret' }], /goes through "l"/],
    ['symlink dir then opaque through it', [{ path: 'l', type: 'symlink', linkPath: outside }, { path: 'l/.wh..wh..opq' }], /goes through "l"/],
    ['hard link to an absolute path', [{ path: 'h', type: 'hardlink', linkPath: join(outside, 'secret') }], /outside the layer/],
    ['hard link climbing out', [{ path: 'h', type: 'hardlink', linkPath: '../../outside/secret' }], /'\.\.'/],
    ['hard link to nothing yet', [{ path: 'h', type: 'hardlink', linkPath: 'later' }, { path: 'later', data: 'x' }], /not an earlier entry/],
    ['hard link through a symlink', [{ path: 's', type: 'symlink', linkPath: outside }, { path: 'h', type: 'hardlink', linkPath: 's/secret' }], /not an earlier entry/],
    ['hard link to a directory', [{ path: 'd', type: 'dir' }, { path: 'h', type: 'hardlink', linkPath: 'd' }], /points at a directory/],
    ['whiteout of ..', [{ path: 'a/.wh...' }], /whites out "\.\."/],
    ['opaque marker as a directory', [{ path: 'a/.wh..wh..opq', type: 'dir' }], /must not be a directory/],
    ['overlay xattr', [{ path: 'f', data: 'x', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } }], /overlayfs attribute trusted\.overlay\.redirect/],
    ['root replaced by a file', [{ path: './', data: 'x' }], /replace the layer root/],
  ];
  for (const [name, entries, re] of cases) {
    const root = join(base, name.replace(/\W+/g, '-'));
    mkdirSync(root);
    await assert.rejects(unpack(entries, root), (e: unknown) => e instanceof InvalidArgument && re.test((e as Error).message), name);
  }
  assert.deepEqual(readdirSync(outside), ['secret'], 'nothing was written next to the secret');
  assert.equal(readFileSync(join(outside, 'secret'), 'utf8'), 's');
  assert.equal(statSync(join(outside, 'secret')).nlink, 1, 'no hard link to the secret');
  assert.equal(existsSync(join(base, 'escape')), false);
});

test('duplicate entries: the later one wins, a directory keeps its children', async (t) => {
  const root = tempDir(t);
  await unpack(
    [
      { path: 'd/', type: 'dir', mode: 0o700 },
      { path: 'd/f', data: 'one' },
      { path: 'd/', type: 'dir', mode: 0o711 },
      { path: 'x', type: 'symlink', linkPath: '/etc' },
      { path: 'x/', type: 'dir' },
      { path: 'x/inside', data: 'ok' },
      { path: 'd/f', data: 'two' },
    ],
    root,
  );
  assert.equal(statSync(join(root, 'd')).mode & 0o777, 0o711);
  assert.equal(readFileSync(join(root, 'd/f'), 'utf8'), 'two');
  assert.ok(lstatSync(join(root, 'x')).isDirectory(), 'the directory replaced the symlink');
  assert.equal(readFileSync(join(root, 'x/inside'), 'utf8'), 'ok');
});

test('xattrs: a name with NUL is refused (it would be cut to security.selinux); user.* on a symlink or node is skipped', async (t) => {
  const root = tempDir(t);
  await assert.rejects(
    unpack([{ path: 'f', data: 'x', pax: { 'SCHILY.xattr.security.selinux\0x': 'system_u:object_r:shadow_t:s0' } }], root),
    (e: unknown) => e instanceof InvalidArgument && /"f" has an extended attribute name with a NUL byte/.test(e.message),
  );
  const ok = tempDir(t);
  const stats = await unpack(
    [
      { path: 'f', data: 'x', pax: { 'SCHILY.xattr.user.kept': 'yes' } },
      { path: 'l', type: 'symlink', linkPath: 'f', pax: { 'SCHILY.xattr.user.dropped': 'no' } },
      { path: 'p', type: 'fifo', pax: { 'SCHILY.xattr.user.dropped': 'no' } },
      { path: 'h', type: 'hardlink', linkPath: 'f', pax: { 'SCHILY.xattr.user.via-link': 'yes' } },
    ],
    ok,
  );
  assert.equal(stats.xattrsSkipped, 2);
  assert.equal(xattr(join(ok, 'f'), 'user.kept'), 'yes');
  assert.equal(xattr(join(ok, 'f'), 'user.via-link'), 'yes', 'a hard link entry sets attributes on the shared inode');
  assert.ok(lstatSync(join(ok, 'l')).isSymbolicLink());
});
