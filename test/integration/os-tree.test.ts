// The image-build steps on small trees, against the real tools: buildInitramfs read back with
// busybox cpio, commitTree + deploySysroot checked with the ostree CLI (signed commit, remote
// with gpg-verify), and the refusals: wrong architecture, bad input, failures that leave nothing
// at the outputs. The whole chain on a real Debian tree, booted, is test/vm/os-tree.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { bootstrapRootfs } from '../../src/adapters/os-tree/bootstrap-rootfs.js';
import { buildInitramfs } from '../../src/adapters/os-tree/build-initramfs.js';
import { commitTree } from '../../src/adapters/os-tree/commit-tree.js';
import { composeTree } from '../../src/adapters/os-tree/compose-tree.js';
import { deploySysroot } from '../../src/adapters/os-tree/deploy-sysroot.js';
import { OstreeRepo } from '../../src/adapters/ostree/ostree-repo.js';
import { defaultKargs } from '../../src/core/image/boot-kargs.js';
import { AlreadyExists, FailedPrecondition, InvalidArgument, NotFound } from '../../src/lib/errors.js';
import { adminStatus, blsEntries, makeGpgKey, makeOsTree, ostree, ostreeTempDir } from '../fixtures/ostree-env.js';
import { REPO, runOk } from '../helpers.js';

const REF = 'testos/x86_64/stable';

function elfHeader(machine: number): Buffer {
  const b = Buffer.alloc(64);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  b.writeUInt16LE(2, 16);
  b.writeUInt16LE(machine, 18);
  return b;
}

/** A tarball of a root with just /usr/bin/env (and usr-merge links), as mmdebstrap would pack it. */
function rootfsTarball(dir: string, env: Buffer): string {
  const root = join(dir, 'rootfs');
  mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
  writeFileSync(join(root, 'usr', 'bin', 'env'), env, { mode: 0o755 });
  const tar = join(dir, 'rootfs.tar');
  runOk('tar', ['-C', root, '-cf', tar, '.']);
  return tar;
}

function composeOptions(tarball: string, treeDir: string, arch: 'x86_64' | 'aarch64'): Parameters<typeof composeTree>[0] {
  return {
    rootfsTarball: tarball,
    treeDir,
    osName: 'testos',
    version: '1.0',
    osRelease: { id: 'testos', name: 'Test OS', versionId: '1' },
    agent: { projectRoot: REPO, nodeBinary: process.execPath },
    arch,
  };
}

test('composeTree refuses a root file system of another architecture and leaves nothing behind', async (t) => {
  const dir = ostreeTempDir(t);
  const arm = rootfsTarball(join(dir, 'arm'), elfHeader(183));
  const out = join(dir, 'out');
  mkdirSync(out);
  await assert.rejects(composeTree(composeOptions(arm, join(out, 'tree'), 'x86_64')), (e) => e instanceof InvalidArgument && /aarch64/.test(e.message) && /x86_64/.test(e.message));
  assert.deepEqual(readdirSync(out), [], 'no tree, no temp directory');
  // The real x86_64 env of this machine, asked to be an aarch64 image: the agent built here is
  // x86_64 too, and that is refused first.
  const x86 = rootfsTarball(join(dir, 'x86'), readFileSync('/usr/bin/env'));
  await assert.rejects(composeTree(composeOptions(x86, join(out, 'tree'), 'aarch64')), (e) => e instanceof InvalidArgument && /x86_64, the image is aarch64/.test(e.message));
  assert.deepEqual(readdirSync(out), []);
  // The agent's node of another architecture: refused before anything is unpacked.
  const armNode = join(dir, 'node-arm64');
  writeFileSync(armNode, elfHeader(183), { mode: 0o755 });
  await assert.rejects(
    composeTree({ ...composeOptions(x86, join(out, 'tree'), 'x86_64'), agent: { projectRoot: REPO, nodeBinary: armNode } }),
    (e) => e instanceof InvalidArgument && /agent\.nodeBinary/.test(e.message) && /aarch64/.test(e.message),
  );
  assert.deepEqual(readdirSync(out), []);
  // Bad recipe input is refused before anything is unpacked.
  await assert.rejects(
    composeTree({ ...composeOptions(x86, join(out, 'tree'), 'x86_64'), files: [{ path: '/var/lib/x', content: 'x' }] }),
    (e) => e instanceof InvalidArgument && /files\[0\]\.path/.test(e.message),
  );
  await assert.rejects(composeTree({ ...composeOptions(x86, join(out, 'tree'), 'x86_64'), users: [{ name: 'Bad Name' }] }), (e) => e instanceof InvalidArgument && /users\[0\]\.name/.test(e.message));
  // A root without a kernel fails after unpacking: the temp tree is removed.
  await assert.rejects(composeTree(composeOptions(x86, join(out, 'tree'), 'x86_64')), (e) => e instanceof FailedPrecondition && /kernel/.test(e.message));
  assert.deepEqual(readdirSync(out), []);
});

test('bootstrapRootfs refuses bad input without touching the network', async (t) => {
  const dir = ostreeTempDir(t);
  const base = { suite: 'bookworm' as const, mirror: 'http://deb.debian.org/debian', arch: 'x86_64' as const, cacheDir: dir };
  await assert.rejects(bootstrapRootfs({ ...base, packages: ['systemd', 'rm -rf /'] }), (e) => e instanceof InvalidArgument && /packages\[1\]/.test(e.message));
  await assert.rejects(bootstrapRootfs({ ...base, mirror: 'ftp:/x', packages: [] }), (e) => e instanceof InvalidArgument && /mirror/.test(e.message));
  assert.deepEqual(readdirSync(dir), []);
});

test('buildInitramfs: busybox, the modules in dependency order, the init; busybox cpio reads it back', async (t) => {
  const dir = ostreeTempDir(t);
  const kver = '6.1.0-test';
  const mods = join(dir, 'usr', 'lib', 'modules', kver);
  for (const d of ['kernel/drivers/virtio', 'kernel/drivers/block', 'kernel/fs/ext4']) mkdirSync(join(mods, d), { recursive: true });
  const files = ['kernel/drivers/virtio/virtio.ko', 'kernel/drivers/virtio/virtio_ring.ko', 'kernel/drivers/block/virtio_blk.ko', 'kernel/fs/ext4/ext4.ko'];
  for (const f of files) writeFileSync(join(mods, f), `module ${f}`);
  writeFileSync(
    join(mods, 'modules.dep'),
    'kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko\nkernel/drivers/virtio/virtio_ring.ko:\nkernel/drivers/virtio/virtio.ko:\nkernel/fs/ext4/ext4.ko:\n',
  );
  writeFileSync(join(mods, 'modules.builtin'), 'kernel/drivers/nvme/host/nvme.ko\n');
  mkdirSync(join(dir, 'usr', 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'usr', 'bin', 'busybox'));
  const out = join(dir, 'initramfs.img');
  const r = await buildInitramfs({ treeDir: dir, kernelVersion: kver, modules: ['virtio_blk', 'nvme', 'ext4'], out });
  assert.deepEqual(r.modules, ['kernel/drivers/virtio/virtio_ring.ko', 'kernel/drivers/virtio/virtio.ko', 'kernel/drivers/block/virtio_blk.ko', 'kernel/fs/ext4/ext4.ko']);
  const cpio = join(dir, 'initramfs.cpio');
  writeFileSync(cpio, gunzipSync(readFileSync(out)));
  const list = runOk('busybox', ['cpio', '-t', '-F', cpio]).stdout.split('\n').filter((l) => l !== '');
  for (const p of ['init', 'bin/busybox', 'bin/sh', 'dev/console', 'modules.order', 'lib/modules/virtio_blk.ko', 'lib/modules/ext4.ko']) assert.ok(list.includes(p), `${p} in ${list.join(' ')}`);
  const x = join(dir, 'x');
  mkdirSync(x);
  runOk('busybox', ['cpio', '-i', '-d', '-F', cpio], { cwd: x });
  assert.equal(readFileSync(join(x, 'modules.order'), 'utf8'), '/lib/modules/virtio_ring.ko\n/lib/modules/virtio.ko\n/lib/modules/virtio_blk.ko\n/lib/modules/ext4.ko\n');
  assert.equal(readFileSync(join(x, 'lib', 'modules', 'virtio_blk.ko'), 'utf8'), 'module kernel/drivers/block/virtio_blk.ko');
  assert.ok(readFileSync(join(x, 'init'), 'utf8').includes('switch_root'));
  // The extracted busybox is the tree's and runs.
  assert.match(runOk(join(x, 'bin', 'busybox'), ['true']).stderr, /^$/);
  await assert.rejects(buildInitramfs({ treeDir: dir, kernelVersion: kver, modules: ['virtio_blk', 'no_such'], out }), (e) => e instanceof InvalidArgument && /no_such/.test(e.message));
});

test('commitTree + deploySysroot: signed archive commit with version, summary; sysroot with the remote, origin, kargs and grub.cfg', async (t) => {
  const dir = ostreeTempDir(t);
  const tree = makeOsTree(join(dir, 'tree'), { version: '1.0' });
  const repo = join(dir, 'repo');
  const key = makeGpgKey(dir, 'build');
  const c = await commitTree({ treeDir: tree, repoPath: repo, ref: REF, version: '1.0', gpg: { keyId: key.fingerprint, homedir: key.homedir } });
  assert.match(c.commit, /^[0-9a-f]{64}$/);
  assert.equal(readFileSync(join(repo, 'config'), 'utf8').match(/mode=(\w+)/)?.[1], 'archive');
  const log = ostree(['log', `--repo=${repo}`, REF]);
  assert.match(log, new RegExp(`commit ${c.commit}`));
  assert.match(log, /Version: 1\.0/);
  // The key is there for the CLI; its value is read through our binding, which writes and reads
  // integers in host byte order (`ostree show` byte-swaps integer metadata: it assumes big-endian).
  assert.match(ostree(['show', `--repo=${repo}`, '--print-metadata-key=atomic.unpacked-size', REF]), /^int64 /);
  assert.equal((await (await OstreeRepo.open(repo)).loadCommit(c.commit)).metadata['atomic.unpacked-size'], c.unpackedSizeBytes);
  assert.ok(c.unpackedSizeBytes > 100);
  // Signed: the signature is in the detached metadata (and the gpg-verify pull below checks it).
  assert.match(ostree(['show', `--repo=${repo}`, '--print-detached-metadata-key=ostree.gpgsigs', REF]), /^\[/);
  assert.ok(existsSync(join(repo, 'summary')));
  assert.match(ostree(['summary', `--repo=${repo}`, '--view']), new RegExp(`\\* ${REF.replace(/\//g, '\\/')}`));

  const kargs = [...defaultKargs('x86_64'), 'quiet'];
  const sysroot = join(dir, 'sysroot');
  const remote = { name: 'origin', url: 'https://updates.example.test/repo', gpgVerify: true, gpgKeyring: key.publicKey };
  const d = await deploySysroot({ repoPath: repo, ref: REF, sysrootDir: sysroot, osName: 'testos', kargs, remote });
  assert.equal(d.commit, c.commit);
  const status = adminStatus(sysroot);
  assert.equal(status.length, 1);
  assert.equal(status[0]!.csum, c.commit);
  assert.equal(status[0]!.stateroot, 'testos');
  assert.equal(status[0]!.version, '1.0');
  assert.equal(status[0]!.originRefspec, `origin:${REF}`);
  assert.equal(d.deploymentDir, join(sysroot, 'ostree', 'deploy', 'testos', 'deploy', `${c.commit}.0`));
  assert.ok(existsSync(join(d.deploymentDir, 'etc', 'hostname')), '/usr/etc became /etc');
  const entries = blsEntries(sysroot);
  assert.equal(entries.length, 1);
  assert.deepEqual(entries[0]!.options.split(' ').filter((k) => !k.startsWith('ostree=')), kargs);
  assert.deepEqual(d.kargs, entries[0]!.options.split(' '));
  assert.ok(existsSync(join(sysroot, d.kernel)) && existsSync(join(sysroot, d.initramfs)));
  const grub = readFileSync(join(sysroot, 'boot', 'loader', 'grub.cfg'), 'utf8');
  assert.ok(grub.includes(`linux /boot${d.kernel.slice('/boot'.length)} ${entries[0]!.options}`), grub);
  const sysrepo = join(sysroot, 'ostree', 'repo');
  assert.match(ostree(['remote', 'show-url', `--repo=${sysrepo}`, 'origin']), /https:\/\/updates\.example\.test\/repo/);
  assert.match(readFileSync(join(sysrepo, 'config'), 'utf8'), /gpg-verify=true/);
  assert.ok(existsSync(join(sysrepo, 'origin.trustedkeys.gpg')), 'the remote keyring was imported');
  assert.equal(ostree(['rev-parse', `--repo=${sysrepo}`, `origin:${REF}`]).trim(), c.commit);

  // Without a remote: the origin is the bare ref, and no build-time remote is left behind.
  const local = await deploySysroot({ repoPath: repo, ref: REF, sysrootDir: join(dir, 'sysroot-local'), osName: 'testos', kargs });
  assert.equal(adminStatus(join(dir, "sysroot-local"))[0]!.originRefspec, REF);
  assert.equal(ostree(['remote', 'list', `--repo=${join(dir, 'sysroot-local', 'ostree', 'repo')}`]).trim(), '');
  assert.equal(local.commit, c.commit);
});

test('deploySysroot and commitTree refuse bad input; a failed deploy leaves no sysroot', async (t) => {
  const dir = ostreeTempDir(t);
  const tree = makeOsTree(join(dir, 'tree'), { version: '1.0' });
  const repo = join(dir, 'repo');
  await commitTree({ treeDir: tree, repoPath: repo, ref: REF, version: '1.0' });
  await assert.rejects(commitTree({ treeDir: join(dir, 'tree', 'usr'), repoPath: repo, ref: REF, version: '1' }), FailedPrecondition);
  await assert.rejects(commitTree({ treeDir: tree, repoPath: repo, ref: '../x', version: '1' }), InvalidArgument);
  const out = join(dir, 'out');
  mkdirSync(out);
  const base = { repoPath: repo, ref: REF, osName: 'testos', kargs: defaultKargs('x86_64') };
  await assert.rejects(deploySysroot({ ...base, sysrootDir: join(out, 's'), kargs: [...base.kargs, 'ostree=/x'] }), InvalidArgument);
  await assert.rejects(deploySysroot({ ...base, sysrootDir: join(out, 's'), remote: { name: 'o', url: 'http://x', gpgVerify: true } }), (e) => e instanceof InvalidArgument && /gpgKeyring/.test(e.message));
  await assert.rejects(deploySysroot({ ...base, sysrootDir: out }), AlreadyExists);
  // An unsigned commit pulled through a remote that verifies signatures: refused, nothing left.
  const key = makeGpgKey(dir, 'k');
  await assert.rejects(deploySysroot({ ...base, sysrootDir: join(out, 's'), remote: { name: 'o', url: 'http://x', gpgVerify: true, gpgKeyring: key.publicKey } }), (e) => (e as { code?: string }).code === 'PermissionDenied');
  assert.deepEqual(readdirSync(out), []);
  await assert.rejects(deploySysroot({ ...base, ref: 'no/such/ref', sysrootDir: join(out, 's') }), NotFound);
  assert.deepEqual(readdirSync(out), []);
});
