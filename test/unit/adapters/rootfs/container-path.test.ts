import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { archiveContainerPath, extractIntoContainer, resolveScoped, rfc3339Nano, statContainerPath } from '../../../../src/adapters/rootfs/container-path.js';
import { GO_MODE_DIR, GO_MODE_SYMLINK } from '../../../../src/formats/docker/go-file-mode.js';
import { Conflict, InvalidArgument, NotFound, ResourceExhausted } from '../../../../src/lib/errors.js';
import { buildTar, gzipTar } from '../../../fixtures/tar-builder.js';
import { runOk, tempDir } from '../../../helpers.js';

/** A container root beside a directory that stands for the host. */
function layout(): { root: string; host: string } {
  const dir = tempDir(undefined);
  const root = join(dir, 'root');
  const host = join(dir, 'host');
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'tmp'));
  mkdirSync(host);
  writeFileSync(join(root, 'etc', 'shadow'), 'container shadow\n');
  writeFileSync(join(host, 'secret'), 'host secret\n');
  symlinkSync('/etc/shadow', join(root, 'tmp', 'abs'));
  symlinkSync('../../../../../../../../etc/shadow', join(root, 'tmp', 'dotdot'));
  symlinkSync(host, join(root, 'tmp', 'tohost'));
  symlinkSync('/', join(root, 'tmp', 'rootlink'));
  return { root, host };
}

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

test('paths resolve inside the root: absolute links and .. never leave it; the last link is kept unless the path ends in /', async () => {
  const { root, host } = layout();
  assert.equal((await resolveScoped(root, '/tmp/abs', { followLast: true })).container, '/etc/shadow');
  assert.equal((await resolveScoped(root, '/tmp/dotdot', { followLast: true })).host, join(root, 'etc', 'shadow'));
  assert.equal((await resolveScoped(root, '/tmp/abs')).container, '/tmp/abs');
  assert.equal((await resolveScoped(root, '/tmp/rootlink/')).container, '/');
  assert.equal((await resolveScoped(root, '/../../etc/shadow')).container, '/etc/shadow');
  assert.equal((await resolveScoped(root, '/tmp/tohost/secret')).host, join(root, host.slice(1), 'secret'));
  await assert.rejects(statContainerPath(root, '/tmp/tohost/secret'), NotFound);
  const link = await statContainerPath(root, '/tmp/dotdot');
  assert.equal(link.stat.mode, GO_MODE_SYMLINK + 0o777);
  assert.equal(link.stat.linkTarget, '/etc/shadow');
  assert.equal((await statContainerPath(root, '/etc')).stat.mode, GO_MODE_DIR + 0o755);
  await assert.rejects(statContainerPath(root, '/etc/shadow/'), InvalidArgument);
  assert.equal(rfc3339Nano(1_700_000_000_123_456_789n), '2023-11-14T22:13:20.123456789Z');
  assert.equal(rfc3339Nano(1_700_000_000_000_000_000n), '2023-11-14T22:13:20Z');
});

test('a path as a tar: GNU tar reads it; a symlink is archived as a symlink, its content never read', async () => {
  const { root } = layout();
  const dir = tempDir(undefined);
  const { stat, tar } = await archiveContainerPath(root, '/tmp');
  assert.equal(stat.name, 'tmp');
  writeFileSync(join(dir, 'a.tar'), await collect(tar));
  const listing = runOk('tar', ['-tvf', join(dir, 'a.tar')]).stdout;
  assert.match(listing, /tmp\/abs -> \/etc\/shadow/);
  assert.match(listing, /tmp\/tohost -> /);
  assert.ok(!listing.includes('secret'));
  // A trailing slash follows the link: to a file, that is not a directory.
  await assert.rejects(archiveContainerPath(root, '/tmp/abs/'), /not a directory/);
  const shadow = await archiveContainerPath(root, '/etc/shadow');
  writeFileSync(join(dir, 's.tar'), await collect(shadow.tar));
  runOk('tar', ['-xf', join(dir, 's.tar'), '-C', dir]);
  assert.equal(readFileSync(join(dir, 'shadow'), 'utf8'), 'container shadow\n');
});

test('extraction: .. and absolute names refused, writes through links stay in the root, gzip accepted, size capped', async () => {
  const { root, host } = layout();
  const opts = { maxBytes: 1 << 20, what: 'test archive' };
  await assert.rejects(extractIntoContainer(root, '/tmp', once(buildTar([{ path: '../escape', data: 'x' }])), opts), /'\.\.'/);
  await assert.rejects(extractIntoContainer(root, '/tmp', once(buildTar([{ path: '/abs', data: 'x' }])), opts), /absolute path/);
  await assert.rejects(extractIntoContainer(root, '/tmp', once(buildTar([{ path: 'h', type: 'hardlink', linkPath: '../../etc/shadow' }])), opts), InvalidArgument);
  await extractIntoContainer(root, '/tmp/tohost', once(buildTar([{ path: 'planted', data: 'x' }])), opts).then(
    () => assert.fail('the container has no such directory'),
    (e: unknown) => assert.ok(e instanceof NotFound),
  );
  await extractIntoContainer(root, '/tmp', once(gzipTar(buildTar([{ path: 'rootlink/etc/marker', data: 'inside' }, { path: 'new/dir/f', data: 'made' }]))), opts);
  assert.equal(readFileSync(join(root, 'etc', 'marker'), 'utf8'), 'inside');
  assert.equal(readFileSync(join(root, 'tmp', 'new', 'dir', 'f'), 'utf8'), 'made');
  assert.equal(existsSync(join(host, 'planted')), false);
  await assert.rejects(extractIntoContainer(root, '/', once(buildTar([{ path: 'etc', data: 'file over dir' }])), { ...opts, noOverwriteDirNonDir: true }), Conflict);
  await assert.rejects(extractIntoContainer(root, '/etc/shadow', once(buildTar([{ path: 'x', data: 'x' }])), opts), /extraction point is not a directory/);
  await assert.rejects(extractIntoContainer(root, '/tmp', once(buildTar([{ path: 'big', data: Buffer.alloc(4096) }])), { ...opts, maxBytes: 1024 }), ResourceExhausted);
});
