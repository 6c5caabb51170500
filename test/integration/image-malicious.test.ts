// Malicious layers, each pushed to a real registry (Debian docker-registry on 127.0.0.1) as the top
// layer of an otherwise valid image and pulled into a real store: path traversal, absolute names,
// symlink and hard link escapes, whiteouts of '..' or of a parent, overlayfs attributes, truncated
// and corrupt streams, a lying diff_id. Each pull must fail with a clear error naming the entry,
// write nothing outside the store (a sentinel directory and the real target paths are checked),
// and leave the store as it was: no layer dir, tmp/ and ingest/ empty, images.json unchanged, and
// no blob of the refused layer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ImageStore } from '../../src/adapters/image-store/image-store.js';
import { DataLoss, InvalidArgument } from '../../src/lib/errors.js';
import { craftImage, pushCrafted, startRegistry, type RegistryServer } from '../fixtures/registry.js';
import { buildTar, type TarBuildEntry } from '../fixtures/tar-builder.js';

let work: string;
let registry: RegistryServer;
let store: ImageStore;
/** A directory outside the store that no layer may touch. */
let sentinel: string;
const token = randomBytes(4).toString('hex');
const evil = `evil-${token}`;
/** The lower layer of every image: valid, shared, already in the store before the corpus runs. */
const baseTar = buildTar([
  { path: 'etc/', type: 'dir' },
  { path: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\n' },
  { path: 'a/', type: 'dir' },
  { path: 'a/kept', data: 'kept\n' },
]);

interface Snapshot {
  readonly blobs: string[];
  readonly layers: string[];
  readonly tmp: string[];
  readonly ingest: string[];
  readonly images: string;
  readonly sentinel: string[];
}

function snapshot(): Snapshot {
  const ls = (d: string): string[] => readdirSync(d).sort();
  return {
    blobs: ls(join(store.root, 'blobs/sha256')),
    layers: ls(join(store.root, 'layers')),
    tmp: ls(join(store.root, 'tmp')),
    ingest: ls(join(store.root, 'ingest')),
    images: readFileSync(join(store.root, 'images.json'), 'utf8'),
    sentinel: ls(sentinel),
  };
}

/** Where an escaping entry of the top layer would land if it were followed: none may exist. */
function escapeTargets(): string[] {
  return [
    join(store.root, evil), // ../../x from tmp/unpack-*/
    join(store.root, 'tmp', evil), // ../x
    join(store.root, 'layers', evil),
    join(sentinel, evil),
    join('/etc', evil),
    join('/tmp', evil),
    join(tmpdir(), evil),
  ];
}

before(async () => {
  work = mkdtempSync(join(process.env.ATOMIC_TEST_TMP ?? tmpdir(), 'image-malicious-'));
  sentinel = join(work, 'sentinel');
  mkdirSync(sentinel);
  writeFileSync(join(sentinel, 'keep'), 'sentinel\n');
  registry = await startRegistry(work);
  store = new ImageStore({ root: join(work, 'store') });
  const base = craftImage([baseTar]);
  await pushCrafted(registry.url, 'base', 'v1', base);
  await store.pull(`${registry.host}/base:v1`);
});

after(async () => {
  await registry?.stop();
  for (const p of escapeTargets()) rmSync(p, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

interface Case {
  readonly name: string;
  /** The top layer's entries (its tar is built from them), or the tar itself. */
  readonly layer: readonly TarBuildEntry[] | (() => Buffer);
  /** A layer blob to push instead of gzip(tar). */
  readonly rawBlob?: (tar: Buffer) => Buffer;
  /** diff_id claimed by the config instead of the tar's digest. */
  readonly diffId?: string;
  readonly error: typeof InvalidArgument | typeof DataLoss;
  /** Text the message must contain: the entry (JSON-quoted) or what is wrong. */
  readonly names: RegExp;
}

const q = (s: string): string => JSON.stringify(s).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const sentinelFile = (): string => join(sentinel, 'keep');

const CASES: readonly Case[] = [
  { name: 'path traversal ../x', layer: [{ path: `../${evil}`, data: 'x' }], error: InvalidArgument, names: new RegExp(`${q(`../${evil}`)} contains '\\.\\.'`) },
  { name: 'path traversal a/../../x', layer: [{ path: `a/../../${evil}`, data: 'x' }], error: InvalidArgument, names: new RegExp(q(`a/../../${evil}`)) },
  { name: 'traversal in a pax path record', layer: [{ path: 'harmless', pax: { path: `../../${evil}` }, data: 'x' }], error: InvalidArgument, names: new RegExp(q(`../../${evil}`)) },
  { name: 'traversal in a GNU long name', layer: [{ path: `${'d/'.repeat(60)}../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../${evil}`, gnuLongNames: true, data: 'x' }], error: InvalidArgument, names: /contains '\.\.'/ },
  { name: 'absolute path /etc/x', layer: [{ path: `/etc/${evil}`, data: 'x' }], error: InvalidArgument, names: new RegExp(`${q(`/etc/${evil}`)} has an absolute path`) },
  {
    name: 'symlink to an absolute dir outside, then a file through it',
    layer: () => buildTar([{ path: 'l', type: 'symlink', linkPath: sentinel }, { path: `l/${evil}`, data: 'x' }]),
    error: InvalidArgument,
    names: new RegExp(`${q(`l/${evil}`)} goes through "l", which is a symlink`),
  },
  {
    name: 'symlink ../.. then a file through it',
    layer: [{ path: 'up', type: 'symlink', linkPath: '../..' }, { path: `up/${evil}`, data: 'x' }],
    error: InvalidArgument,
    names: new RegExp(`${q(`up/${evil}`)} goes through "up", which is a symlink`),
  },
  {
    name: 'a symlink replaced by a directory of the same name: the file stays inside (refused at the end by a lying diff_id)',
    layer: () => buildTar([{ path: 'a/s', type: 'symlink', linkPath: '/tmp' }, { path: 'a/s/', type: 'dir' }, { path: `a/s/${evil}`, data: 'x' }]),
    // The directory entry replaces the symlink (never follows it): the file lands inside the layer.
    error: DataLoss,
    names: /diff_id/,
    diffId: `sha256:${'1'.repeat(64)}`,
  },
  {
    name: 'hard link to an absolute path outside',
    layer: () => buildTar([{ path: 'h', type: 'hardlink', linkPath: sentinelFile() }]),
    error: InvalidArgument,
    names: /is a hard link target outside the layer/,
  },
  { name: 'hard link with ../ to outside', layer: [{ path: 'h', type: 'hardlink', linkPath: `../../../../../../../..${'/etc/passwd'}` }], error: InvalidArgument, names: /contains '\.\.'/ },
  {
    name: 'hard link through a symlink to outside',
    layer: [{ path: 'l', type: 'symlink', linkPath: '/etc' }, { path: 'h', type: 'hardlink', linkPath: 'l/passwd' }],
    error: InvalidArgument,
    names: /hard link "h" points at "l\/passwd", which is not an earlier entry of this layer/,
  },
  { name: 'hard link to a file of a lower layer', layer: [{ path: 'h', type: 'hardlink', linkPath: 'etc/passwd' }], error: InvalidArgument, names: /not an earlier entry of this layer/ },
  { name: 'whiteout of .. (.wh...)', layer: [{ path: '.wh...' }], error: InvalidArgument, names: /"\.wh\.\.\." whites out "\.\.", which is not a name/ },
  { name: 'whiteout of .. in a dir (a/.wh...)', layer: [{ path: 'a/.wh...' }], error: InvalidArgument, names: /"a\/\.wh\.\.\." whites out "\.\."/ },
  { name: 'whiteout of . (.wh..)', layer: [{ path: 'a/.wh..' }], error: InvalidArgument, names: /whites out "\."/ },
  {
    name: 'a device node used as a parent',
    layer: [{ path: 'a', type: 'char', devMajor: 1, devMinor: 3 }, { path: `a/${evil}`, data: 'x' }],
    error: InvalidArgument,
    names: new RegExp(`${q(`a/${evil}`)} goes through "a", which is a device node`),
  },
  {
    name: 'a whiteout used as a parent',
    layer: [{ path: '.wh.a' }, { path: `a/${evil}`, data: 'x' }],
    error: InvalidArgument,
    names: new RegExp(`${q(`a/${evil}`)} goes through "a", which is a whiteout`),
  },
  { name: 'a whiteout name used as a directory', layer: [{ path: `.wh.a/${evil}`, data: 'x' }], error: InvalidArgument, names: /uses the whiteout name "\.wh\.a" as a directory/ },
  { name: 'an overlayfs xattr (redirect)', layer: [{ path: 'r', type: 'dir', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } }], error: InvalidArgument, names: /"r" sets the overlayfs attribute trusted\.overlay\.redirect/ },
  {
    name: 'an xattr name with NUL (it would be cut to security.selinux)',
    layer: [{ path: 'f', data: 'x', pax: { 'SCHILY.xattr.security.selinux\0x': 'system_u:object_r:shadow_t:s0' } }],
    error: InvalidArgument,
    names: /"f" has an extended attribute name with a NUL byte/,
  },
  { name: 'the layer root replaced by a symlink', layer: [{ path: './', type: 'symlink', linkPath: '/' }], error: InvalidArgument, names: /would replace the layer root with a symlink/ },
  {
    name: 'a file that claims more bytes than the stream has (truncated)',
    layer: () => buildTar([{ path: 'big', data: 'short', claimSize: 1 << 20 }], { end: false }),
    error: DataLoss,
    names: /truncated: "big" \(header at byte 0\) claims 1048576 bytes/,
  },
  {
    name: 'an oversized size field (8 GiB) followed by the end blocks',
    layer: () => buildTar([{ path: 'huge', data: 'tiny', claimSize: 8 ** 11 - 1 }]),
    error: DataLoss,
    names: /truncated: "huge"/,
  },
  { name: 'a header with a bad checksum', layer: () => buildTar([{ path: 'ok', data: 'x' }, { path: 'bad', data: 'y', badChecksum: true }]), error: DataLoss, names: /header at byte 1024 has a bad checksum/ },
  { name: 'a gzip stream cut short', layer: [{ path: 'f', data: randomBytes(64 * 1024) }], rawBlob: (tar) => gzipSync(tar).subarray(0, 30_000), error: DataLoss, names: /the gzip stream is corrupt/ },
  { name: 'a diff_id that does not match the layer', layer: [{ path: 'f', data: 'x' }], diffId: `sha256:${'2'.repeat(64)}`, error: DataLoss, names: /the image config says its diff_id is sha256:2{64}/ },
];

describe('malicious layers are refused and leave no trace', () => {
  let i = 0;
  for (const c of CASES) {
    const n = i++;
    test(c.name, async () => {
      const tar = typeof c.layer === 'function' ? c.layer() : buildTar(c.layer);
      const img = craftImage([baseTar, tar], {
        rawBlobs: [undefined, c.rawBlob?.(tar)],
        ...(c.diffId === undefined ? {} : { diffIds: [craftImage([baseTar]).diffIds[0]!, c.diffId] }),
      });
      await pushCrafted(registry.url, `evil/case${n}`, 'v1', img);
      const before = snapshot();
      const sentinelBytes = readFileSync(sentinelFile());
      await assert.rejects(store.pull(`${registry.host}/evil/case${n}:v1`), (e: unknown) => {
        assert.ok(e instanceof c.error, `${c.error.name} expected, got ${String(e)}`);
        assert.match(e.message, c.names);
        assert.ok(e.message.includes(img.layerDigests[1]!), `the message names the layer: ${e.message}`);
        return true;
      });
      const now = snapshot();
      assert.equal(now.images, before.images, 'images.json unchanged');
      assert.deepEqual(now.layers, before.layers, 'no layer dir, half or whole');
      assert.deepEqual(now.tmp, [], 'tmp/ emptied');
      assert.deepEqual(now.ingest, [], 'ingest/ emptied');
      assert.ok(!now.blobs.includes(img.layerDigests[1]!.slice(7)), 'the refused blob is not kept');
      assert.deepEqual(now.blobs.filter((b) => !before.blobs.includes(b)), [img.configDigest.slice(7)].filter((b) => now.blobs.includes(b)), 'at most the verified config was added');
      assert.deepEqual(now.sentinel, before.sentinel, 'nothing written in the sentinel dir');
      assert.ok(readFileSync(sentinelFile()).equals(sentinelBytes));
      assert.equal(statSync(sentinelFile()).nlink, 1, 'no hard link to the sentinel');
      for (const p of escapeTargets()) assert.equal(existsSync(p), false, `${p} must not exist`);
    });
  }

  test('gc afterwards leaves exactly the base image', async () => {
    await store.gc();
    const s = snapshot();
    const base = (await store.list())[0]!;
    assert.equal((await store.list()).length, 1);
    assert.deepEqual(s.layers, base.diffIds.map((d) => d.slice(7)));
    assert.deepEqual(s.blobs, [base.configDigest, base.manifestDigest, ...base.layers.map((l) => l.digest)].map((d) => d.slice(7)).sort());
  });
});
