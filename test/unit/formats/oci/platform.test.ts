import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compatiblePlatforms, formatPlatform, hostPlatform, normalizePlatform, parsePlatform, platformEquals, selectPlatform, type Platform,
} from '../../../../src/formats/oci/platform.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

test('normalisation as containerd: x86_64, aarch64, armhf, arm64/v8, arm default v7', () => {
  assert.deepEqual(normalizePlatform({ os: 'Linux', architecture: 'x86_64' }), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'aarch64', variant: 'v8' }), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'armhf' }), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'arm' }), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'amd64', variant: 'v1' }), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(normalizePlatform({ os: 'macos', architecture: 'i386' }), { os: 'darwin', architecture: '386' });
  assert.deepEqual(hostPlatform('linux', 'x64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(hostPlatform('linux', 'arm64'), { os: 'linux', architecture: 'arm64' });
});

test('parsing platform specifiers', () => {
  assert.deepEqual(parsePlatform('linux/arm/v6'), { os: 'linux', architecture: 'arm', variant: 'v6' });
  assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(parsePlatform('arm64'), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(parsePlatform('linux'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('linux', { os: 'linux', architecture: 'arm64' }), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(parsePlatform('arm/v5'), { os: 'linux', architecture: 'arm', variant: 'v5' });
  for (const bad of ['', 'a/b/c/d', 'linux//amd64', 'nope']) assert.throws(() => parsePlatform(bad), InvalidArgument, bad);
  assert.equal(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' }), 'linux/arm/v7');
});

test('compatible platforms, best first (containerd platformVector)', () => {
  const names = (p: Platform): string[] => compatiblePlatforms(p).map(formatPlatform);
  assert.deepEqual(names({ os: 'linux', architecture: 'amd64' }), ['linux/amd64', 'linux/386']);
  assert.deepEqual(names({ os: 'linux', architecture: 'amd64', variant: 'v3' }), ['linux/amd64/v3', 'linux/amd64/v2', 'linux/amd64/v1', 'linux/386']);
  assert.deepEqual(names({ os: 'linux', architecture: 'arm64' }), ['linux/arm64', 'linux/arm/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']);
  assert.deepEqual(names({ os: 'linux', architecture: 'arm', variant: 'v6' }), ['linux/arm/v6', 'linux/arm/v5']);
  assert.deepEqual(names({ os: 'linux', architecture: 'arm64', variant: 'v9.1' }).slice(0, 4), ['linux/arm64/v9.1', 'linux/arm64/v9', 'linux/arm64/v8.6', 'linux/arm64/v8.5']);
  assert.ok(platformEquals({ os: 'linux', architecture: 'aarch64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }));
});

test('index selection: exact match first, then the closest compatible, index order among equals', () => {
  const entries: (Platform | undefined)[] = [
    { os: 'linux', architecture: 'arm', variant: 'v6' },
    undefined,
    { os: 'linux', architecture: 'arm', variant: 'v7' },
    { os: 'windows', architecture: 'amd64' },
    { os: 'linux', architecture: '386' },
    { os: 'linux', architecture: 'amd64' },
    { os: 'linux', architecture: 'amd64' },
    { os: 'unknown', architecture: 'unknown' },
  ];
  assert.equal(selectPlatform({ os: 'linux', architecture: 'amd64' }, entries), 5);
  assert.equal(selectPlatform({ os: 'linux', architecture: 'amd64' }, entries.slice(0, 5)), 4, 'amd64 runs 386');
  assert.equal(selectPlatform({ os: 'linux', architecture: 'arm64' }, entries), 2, 'arm64 prefers arm/v7 over arm/v6');
  assert.equal(selectPlatform({ os: 'linux', architecture: 'arm', variant: 'v6' }, entries), 0);
  assert.equal(selectPlatform({ os: 'linux', architecture: 'arm', variant: 'v5' }, entries), undefined);
  assert.equal(selectPlatform({ os: 'linux', architecture: 's390x' }, entries), undefined);
});
