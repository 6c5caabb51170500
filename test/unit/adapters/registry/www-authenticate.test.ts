import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWwwAuthenticate } from '../../../../src/adapters/registry/www-authenticate.js';
import { isInsecureRegistry, isLoopbackHost, normalizeRegistryEntry } from '../../../../src/adapters/registry/registry-host.js';
import { parseContentRange } from '../../../../src/adapters/registry/registry-client.js';

test('Bearer challenges as registries send them, quoted and unquoted, several challenges', () => {
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
  ]);
  assert.deepEqual(parseWwwAuthenticate('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  assert.deepEqual(parseWwwAuthenticate('Bearer realm=http://x/token, Service = "a \\"q\\" b", Basic realm="r"'), [
    { scheme: 'bearer', params: { realm: 'http://x/token', service: 'a "q" b' } },
    { scheme: 'basic', params: { realm: 'r' } },
  ]);
  assert.deepEqual(parseWwwAuthenticate(['Negotiate', 'Bearer error="insufficient_scope",scope="repository:a:pull,push"']), [
    { scheme: 'negotiate', params: {} },
    { scheme: 'bearer', params: { error: 'insufficient_scope', scope: 'repository:a:pull,push' } },
  ]);
  assert.deepEqual(parseWwwAuthenticate('Negotiate abc123=='), [{ scheme: 'negotiate', params: {}, token68: 'abc123==' }]);
  assert.deepEqual(parseWwwAuthenticate(undefined), []);
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="unterminated'), [{ scheme: 'bearer', params: { realm: '' } }]);
});

test('which registries may be plain HTTP: loopback and the listed ones', () => {
  for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '::1', 'x.localhost']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['10.0.0.1', 'localhost.example.com', '128.0.0.1', 'example.com']) assert.equal(isLoopbackHost(h), false, h);
  assert.ok(isInsecureRegistry('127.0.0.1:5000', []));
  assert.ok(isInsecureRegistry('[::1]:5000', []));
  assert.equal(isInsecureRegistry('10.0.0.5:5000', []), false);
  assert.ok(isInsecureRegistry('10.0.0.5:5000', ['http://10.0.0.5:5000/']));
  assert.ok(isInsecureRegistry('10.0.0.5:5000', ['10.0.0.5']), 'a host entry covers every port');
  assert.equal(isInsecureRegistry('10.0.0.5:5000', ['10.0.0.5:5001']), false);
  assert.ok(isInsecureRegistry('10.1.2.3:5000', ['10.0.0.0/8']));
  assert.equal(isInsecureRegistry('11.1.2.3', ['10.0.0.0/8']), false);
  assert.equal(isInsecureRegistry('registry.example', ['10.0.0.0/8']), false);
  assert.equal(normalizeRegistryEntry(' HTTPS://Reg.Example:443/ '), 'reg.example:443');
});

test('Content-Range of a 206', () => {
  assert.deepEqual(parseContentRange('bytes 100-199/200'), { start: 100, end: 199, total: 200 });
  assert.deepEqual(parseContentRange('bytes 5-9/*'), { start: 5, end: 9, total: undefined });
  assert.equal(parseContentRange('bytes 9-5/10'), undefined);
  assert.equal(parseContentRange('items 1-2/3'), undefined);
  assert.equal(parseContentRange(undefined), undefined);
});
