import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  archiveMemberPath, blobMemberPath, dockerArchiveManifestJson, ociLayoutIndexJson, parseDockerArchiveManifest, repositoriesJson, resolveArchiveLink,
} from '../../../../src/formats/oci/docker-archive.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

test('manifest.json of docker save (legacy and Docker 25 forms) parses; our writer round-trips', () => {
  const legacy = Buffer.from(JSON.stringify([{ Config: 'abc.json', RepoTags: ['busybox:latest'], Layers: ['d1/layer.tar', 'd2/layer.tar'] }]));
  assert.deepEqual(parseDockerArchiveManifest(legacy), [{ config: 'abc.json', repoTags: ['busybox:latest'], layers: ['d1/layer.tar', 'd2/layer.tar'] }]);
  const untagged = Buffer.from(JSON.stringify([{ Config: 'blobs/sha256/aa', RepoTags: null, Layers: [] }]));
  assert.deepEqual(parseDockerArchiveManifest(untagged)[0]!.repoTags, []);
  const written = dockerArchiveManifestJson([{ config: 'blobs/sha256/c', repoTags: ['a:b'], layers: ['blobs/sha256/l'] }]);
  assert.deepEqual(parseDockerArchiveManifest(Buffer.from(written)), [{ config: 'blobs/sha256/c', repoTags: ['a:b'], layers: ['blobs/sha256/l'] }]);
});

test('a malformed manifest.json names every problem with its JSON pointer', () => {
  assert.throws(() => parseDockerArchiveManifest(Buffer.from('{}')), (e: unknown) => e instanceof InvalidArgument && /manifest.json: \/: must be an array/.test(e.message));
  assert.throws(() => parseDockerArchiveManifest(Buffer.from('[]')), /lists no image/);
  assert.throws(
    () => parseDockerArchiveManifest(Buffer.from(JSON.stringify([{ Layers: [1] }]))),
    (e: unknown) => e instanceof InvalidArgument && /\/0\/Config: is required \(and 1 more\)/.test(e.message),
  );
  assert.throws(() => parseDockerArchiveManifest(Buffer.from('not json')), /not JSON/);
});

test('member names and links stay inside the archive', () => {
  assert.equal(archiveMemberPath('./blobs//sha256/ab', 'x'), 'blobs/sha256/ab');
  assert.equal(archiveMemberPath('./', 'x'), '');
  for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'a\0b']) assert.throws(() => archiveMemberPath(bad, 'x'), InvalidArgument, bad);
  assert.equal(resolveArchiveLink('abc/layer.tar', '../def/layer.tar', 'x'), 'def/layer.tar');
  assert.throws(() => resolveArchiveLink('abc/layer.tar', '../../etc/passwd', 'x'), /leads outside the archive/);
  assert.throws(() => resolveArchiveLink('abc/layer.tar', '/etc/passwd', 'x'), /absolute path/);
});

test('index.json and repositories as docker save writes them', () => {
  const index = JSON.parse(ociLayoutIndexJson([{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:ab', size: 5, imageName: 'docker.io/library/busybox:latest', refName: 'latest' }])) as {
    mediaType: string; manifests: { annotations: Record<string, string> }[];
  };
  assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
  assert.deepEqual(index.manifests[0]!.annotations, { 'io.containerd.image.name': 'docker.io/library/busybox:latest', 'org.opencontainers.image.ref.name': 'latest' });
  assert.deepEqual(JSON.parse(repositoriesJson([{ repository: 'busybox', tag: 'latest', topLayerHex: 'ff' }])), { busybox: { latest: 'ff' } });
  assert.equal(blobMemberPath('sha256:abc'), 'blobs/sha256/abc');
});
