import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifestOrIndex } from '../../../../src/formats/oci/manifest.js';
import { parseImageConfig } from '../../../../src/formats/oci/image-config.js';
import { digestOf, isDigest, parseDigest, shortId } from '../../../../src/formats/oci/digest.js';
import {
  DOCKER_LAYER_TAR_GZIP, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, MANIFEST_ACCEPT, OCI_INDEX, OCI_LAYER_TAR_ZSTD, OCI_MANIFEST, baseMediaType, layerMediaType, manifestKindOf,
} from '../../../../src/formats/oci/media-types.js';
import { InvalidArgument, Unimplemented } from '../../../../src/lib/errors.js';

const D = (c: string): string => `sha256:${c.repeat(64)}`;
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

test('the manifest Accept list names OCI manifest and index and Docker schema 2 and manifest list', () => {
  assert.deepEqual([...MANIFEST_ACCEPT].sort(), [DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST].sort());
  assert.equal(manifestKindOf('application/vnd.docker.distribution.manifest.list.v2+json'), 'index');
  assert.equal(manifestKindOf('Application/VND.OCI.image.manifest.v1+json; charset=utf-8'), 'manifest');
  assert.equal(manifestKindOf('application/json'), undefined);
  assert.equal(baseMediaType('a/b ; x=y'), 'a/b');
  assert.deepEqual(layerMediaType(DOCKER_LAYER_TAR_GZIP), { compression: 'gzip', nonDistributable: false });
  assert.deepEqual(layerMediaType(OCI_LAYER_TAR_ZSTD), { compression: 'zstd', nonDistributable: false });
  assert.deepEqual(layerMediaType('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip'), { compression: 'gzip', nonDistributable: true });
  assert.equal(layerMediaType('application/vnd.cncf.helm.chart.content.v1.tar+gzip'), undefined);
});

test('digests: sha256 and sha512 in lower-case hex of the right length', () => {
  assert.deepEqual(parseDigest(D('a')), { algorithm: 'sha256', hex: 'a'.repeat(64), text: D('a') });
  assert.ok(isDigest(`sha512:${'0'.repeat(128)}`));
  assert.equal(isDigest(`sha256:${'A'.repeat(64)}`), false);
  assert.equal(isDigest(`sha256:${'a'.repeat(65)}`), false);
  assert.equal(isDigest('sha256'), false);
  assert.throws(() => parseDigest(`md5:${'a'.repeat(32)}`), Unimplemented);
  assert.throws(() => parseDigest('sha256:xyz'), InvalidArgument);
  assert.equal(digestOf(Buffer.from('')), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(shortId(D('b')), 'b'.repeat(12));
});

const goodManifest = {
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D('c'), size: 10 },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D('1'), size: 5, annotations: { a: 'b' } }],
};

test('a manifest parses to its config and layers; the kind comes from mediaType, Content-Type or shape', () => {
  const m = parseManifestOrIndex(json(goodManifest), undefined);
  assert.equal(m.kind, 'manifest');
  assert.equal(m.kind === 'manifest' && m.layers[0]!.annotations?.a, 'b');
  const { mediaType: _m, ...noType } = goodManifest;
  assert.equal(parseManifestOrIndex(json(noType), DOCKER_MANIFEST).mediaType, DOCKER_MANIFEST);
  assert.equal(parseManifestOrIndex(json(noType), undefined).kind, 'manifest');
  const index = parseManifestOrIndex(json({ schemaVersion: 2, manifests: [{ mediaType: OCI_MANIFEST, digest: D('d'), size: 3, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } }] }), undefined);
  assert.equal(index.kind, 'index');
  assert.deepEqual(index.kind === 'index' && index.manifests[0]!.platform, { os: 'linux', architecture: 'arm', variant: 'v7' });
});

test('every problem of a bad manifest is reported with its JSON pointer', () => {
  const bad = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: 'sha256:nothex', size: -1 },
    layers: [{ mediaType: 'x/y', digest: D('1'), size: 1 }, { digest: D('2'), size: 'big' }],
  };
  assert.throws(
    () => parseManifestOrIndex(json(bad), undefined, 'manifest of busybox'),
    (e) =>
      e instanceof InvalidArgument &&
      /^manifest of busybox: not a valid image manifest: \/config\/digest: /.test(e.message) &&
      e.problems.some((p) => p.startsWith('/config/size: must be a non-negative integer')) &&
      e.problems.some((p) => p.startsWith('/layers/1/mediaType: is required')) &&
      e.problems.some((p) => p.startsWith('/layers/1/size: ')) &&
      e.problems.length === 4,
  );
  assert.throws(() => parseManifestOrIndex(Buffer.from('{'), undefined), (e) => e instanceof InvalidArgument && /not JSON/.test(e.message));
  assert.throws(() => parseManifestOrIndex(json({ ...goodManifest, mediaType: DOCKER_MANIFEST }), OCI_MANIFEST), (e) => e instanceof InvalidArgument && /differs from the Content-Type/.test(e.message));
  assert.throws(() => parseManifestOrIndex(json({ schemaVersion: 1, name: 'x', fsLayers: [] }), undefined), Unimplemented);
});

test('an image config: platform, process defaults, diff_ids checked', () => {
  const cfg = parseImageConfig(
    json({
      architecture: 'arm64',
      os: 'linux',
      variant: 'v8',
      created: '2024-01-01T00:00:00Z',
      config: { Env: ['PATH=/bin'], Cmd: ['sh'], ExposedPorts: { '80/tcp': {} }, Labels: { a: 'b' } },
      rootfs: { type: 'layers', diff_ids: [D('e')] },
      history: [{ created_by: 'x', empty_layer: true }],
    }),
  );
  assert.equal(cfg.variant, 'v8');
  assert.deepEqual(cfg.config?.Cmd, ['sh']);
  assert.deepEqual(cfg.rootfs.diff_ids, [D('e')]);
  assert.throws(
    () => parseImageConfig(json({ architecture: 'amd64', os: 'linux', config: { Env: ['NOEQUALS'], Cmd: 'sh' }, rootfs: { type: 'tar', diff_ids: ['x'] } }), 'config sha256:…'),
    (e) =>
      e instanceof InvalidArgument &&
      e.problems.includes('/rootfs/type: must be "layers", not "tar"') &&
      e.problems.some((p) => p.startsWith('/rootfs/diff_ids/0: ')) &&
      e.problems.some((p) => p.startsWith('/config/Env/0: ')) &&
      e.problems.includes('/config/Cmd: must be an array, not a string'),
  );
});
