import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressBar, pullReference, referenceMatches, registryAuth } from '../../../../../src/agent/api/compat/images.js';
import { formatReference } from '../../../../../src/formats/oci/reference.js';
import { InvalidArgument, Unimplemented } from '../../../../../src/lib/errors.js';
import { humanSize } from '../../../../../src/lib/human-units.js';

/** The pull progress shows sizes with 4 significant digits. */
const humanSize4 = (n: number): string => humanSize(n, 4);

test('fromImage + tag: a tag, a digest, or latest', () => {
  assert.equal(formatReference(pullReference('busybox', '')), 'docker.io/library/busybox:latest');
  assert.equal(formatReference(pullReference('127.0.0.1:5000/app', '1.2')), '127.0.0.1:5000/app:1.2');
  const d = `sha256:${'a'.repeat(64)}`;
  assert.equal(formatReference(pullReference('app', d)), `docker.io/library/app@${d}`);
  assert.equal(formatReference(pullReference('app:old', 'new')), 'docker.io/library/app:new', 'the tag parameter wins');
  assert.throws(() => pullReference('Bad//Ref', 'latest'), (e: unknown) => e instanceof InvalidArgument && e.subject === 'Bad//Ref');
  assert.throws(() => pullReference('app', 'bad tag'), /invalid tag format/);
  assert.throws(() => pullReference('app', 'sha256:short'), InvalidArgument);
});

test('X-Registry-Auth: base64url or base64 JSON; empty means anonymous; junk is refused', () => {
  const enc = (o: unknown, f: BufferEncoding = 'base64url'): string => Buffer.from(JSON.stringify(o)).toString(f);
  assert.equal(registryAuth(undefined), undefined);
  assert.equal(registryAuth(enc({})), undefined);
  assert.deepEqual(registryAuth(enc({ username: 'bob', password: 'p?>?', serveraddress: 'r' })), { username: 'bob', password: 'p?>?' });
  assert.deepEqual(registryAuth(enc({ username: 'bob', password: 'p?>?' }, 'base64')), { username: 'bob', password: 'p?>?' });
  assert.throws(() => registryAuth('!!!'), (e: unknown) => e instanceof InvalidArgument && /X-Registry-Auth/.test(e.message));
  assert.throws(() => registryAuth(enc({ identitytoken: 'tok' })), Unimplemented);
});

test('reference filter: globs on the familiar name and name:tag', () => {
  assert.ok(referenceMatches('busybox', 'busybox:latest'));
  assert.ok(referenceMatches('busybox:lat*', 'busybox:latest'));
  assert.ok(referenceMatches('*/app', 'mine/app:v1'));
  assert.ok(!referenceMatches('*', 'mine/app:v1'), '* stays within one path segment');
  assert.ok(referenceMatches('127.0.0.1:5000/*', '127.0.0.1:5000/busybox:1'));
  assert.ok(!referenceMatches('busy', 'busybox:latest'));
  assert.ok(referenceMatches('b?sybox', 'busybox:1'));
  assert.throws(() => referenceMatches('[a', 'a'), /syntax error in pattern/);
});

test('progress text in Docker\'s units', () => {
  assert.equal(humanSize4(999), '999B');
  assert.equal(humanSize4(4_264_000), '4.264MB');
  assert.equal(humanSize4(1_000), '1kB');
  assert.equal(progressBar(0, 10), `[${' '.repeat(50)}] 0B/10B`);
  assert.equal(progressBar(5, 10), `[${'='.repeat(24)}>${' '.repeat(25)}] 5B/10B`);
  assert.equal(progressBar(10, 10), `[${'='.repeat(50)}] 10B/10B`);
});
