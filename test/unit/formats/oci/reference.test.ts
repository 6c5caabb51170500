import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  familiarName, familiarString, formatReference, parseNormalizedReference, parseReference, withDefaultTag,
} from '../../../../src/formats/oci/reference.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

const D64 = `sha256:${'a'.repeat(64)}`;

test('Docker Hub normalisation: official images under library/, default tag latest', () => {
  const busybox = withDefaultTag(parseNormalizedReference('busybox'));
  assert.deepEqual(busybox, { domain: 'docker.io', path: 'library/busybox', tag: 'latest' });
  assert.equal(formatReference(busybox), 'docker.io/library/busybox:latest');
  assert.equal(familiarString(busybox), 'busybox:latest');
  assert.deepEqual(parseNormalizedReference('busybox:1.36'), { domain: 'docker.io', path: 'library/busybox', tag: '1.36' });
  assert.deepEqual(parseNormalizedReference('user/app'), { domain: 'docker.io', path: 'user/app' });
  assert.equal(familiarName(parseNormalizedReference('user/app')), 'user/app');
  assert.deepEqual(parseNormalizedReference('index.docker.io/busybox'), { domain: 'docker.io', path: 'library/busybox' });
  assert.deepEqual(parseNormalizedReference('docker.io/library/busybox:latest'), { domain: 'docker.io', path: 'library/busybox', tag: 'latest' });
});

test('a first component with a dot, a port or named localhost is a registry', () => {
  assert.deepEqual(parseNormalizedReference(`localhost:5000/library/busybox@${D64}`), { domain: 'localhost:5000', path: 'library/busybox', digest: D64 });
  assert.deepEqual(parseNormalizedReference('localhost/app'), { domain: 'localhost', path: 'app' });
  assert.deepEqual(parseNormalizedReference('quay.io/coreos/etcd:v3.5'), { domain: 'quay.io', path: 'coreos/etcd', tag: 'v3.5' });
  assert.deepEqual(parseNormalizedReference('127.0.0.1:5000/a/b/c:t'), { domain: '127.0.0.1:5000', path: 'a/b/c', tag: 't' });
  assert.deepEqual(parseNormalizedReference('[::1]:5000/app'), { domain: '[::1]:5000', path: 'app' });
  const both = parseNormalizedReference(`busybox:1.36@${D64}`);
  assert.deepEqual(both, { domain: 'docker.io', path: 'library/busybox', tag: '1.36', digest: D64 });
  assert.equal(withDefaultTag(parseNormalizedReference(`busybox@${D64}`)).tag, undefined, 'a digest reference gets no default tag');
  assert.equal(familiarString(parseNormalizedReference(`localhost:5000/library/busybox@${D64}`)), `localhost:5000/library/busybox@${D64}`);
});

test('path components follow the grammar: separators ., _, __, dashes between alphanumerics', () => {
  for (const ok of ['a.b/c_d/e__f/g---h', 'x/y-z.w:tag_1.0-rc', `a${'/b'.repeat(20)}`]) assert.doesNotThrow(() => parseNormalizedReference(ok), ok);
  for (const bad of ['a_/b', '-a', 'a..b', 'a/.b', 'a//b', 'a:', 'a:-tag', `a:${'t'.repeat(129)}`, 'a@sha256:abc', 'a b', '']) {
    assert.throws(() => parseNormalizedReference(bad), InvalidArgument, bad);
  }
});

test('refusals say what is wrong, as Docker does', () => {
  assert.throws(() => parseNormalizedReference('a'.repeat(64)), (e) => e instanceof InvalidArgument && /cannot specify 64-byte hexadecimal strings/.test(e.message));
  assert.throws(() => parseNormalizedReference('BusyBox'), (e) => e instanceof InvalidArgument && /must be lowercase/.test(e.message));
  assert.throws(() => parseNormalizedReference(`x/${'a'.repeat(260)}`), (e) => e instanceof InvalidArgument && /not be more than 255/.test(e.message));
  assert.throws(() => parseNormalizedReference(`busybox@sha256:${'A'.repeat(64)}`), InvalidArgument);
  assert.throws(() => parseNormalizedReference(`busybox@sha256:${'a'.repeat(63)}`), InvalidArgument);
  assert.throws(() => parseReference(''), (e) => e instanceof InvalidArgument && /at least one component/.test(e.message));
});

test('an upper-case first component is a domain, not a repository (newer distribution/reference)', () => {
  assert.deepEqual(parseNormalizedReference('Registry.Example/app'), { domain: 'Registry.Example', path: 'app' });
});
