import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareVersions, splitVersion, unsupportedVersion } from '../../../../src/agent/api/api-version.js';
import { httpErrorFor } from '../../../../src/agent/api/http-errors.js';
import { Router } from '../../../../src/agent/api/router.js';
import { requestUrl } from '../../../../src/agent/api/server.js';
import { nestingDepth } from '../../../../src/agent/api/request-input.js';
import { Conflict, InvalidArgument, NotFound } from '../../../../src/lib/errors.js';

test('versioned paths', () => {
  assert.deepEqual(splitVersion('/v1.43/containers/json'), { path: '/containers/json', version: '1.43' });
  assert.deepEqual(splitVersion('/containers/json'), { path: '/containers/json' });
  assert.ok(compareVersions('1.9', '1.24') < 0, 'numeric, not lexical');
  assert.equal(unsupportedVersion('1.24'), undefined);
  assert.equal(unsupportedVersion('1.43'), undefined);
  assert.match(unsupportedVersion('1.23')!, /too old/);
  assert.match(unsupportedVersion('1.44')!, /too new/);
});

test('errors become Docker-shaped answers by class', () => {
  assert.deepEqual(httpErrorFor(new NotFound('No such container: web')), { status: 404, body: { message: 'No such container: web' } });
  assert.equal(httpErrorFor(new Conflict('in use')).status, 409);
  assert.equal(httpErrorFor(new InvalidArgument('bad', { subject: 'x' })).body.message, 'x: bad');
  // A message that names its subject anywhere (Docker's "No such container: x") is not prefixed again.
  assert.deepEqual(httpErrorFor(new NotFound('No such container: web', { subject: 'web' })).body, { message: 'No such container: web' });
  assert.equal(httpErrorFor(new NotFound('network nosuch not found', { subject: 'nosuch' })).body.message, 'network nosuch not found');
  assert.equal(httpErrorFor(new Error('boom')).status, 500);
});

test('router: parameters, HEAD served by GET routes, 404 vs 405', () => {
  const r = new Router().add('GET', '/containers/{id}/json', () => ({ json: 1 })).add('POST', '/containers/{id}/start', () => ({ empty: true }));
  const m = r.match('GET', '/containers/web%201/json');
  assert.ok('handler' in m);
  assert.deepEqual(m.params, { id: 'web 1' });
  assert.ok('handler' in r.match('HEAD', '/containers/a/json'));
  assert.deepEqual(r.match('GET', '/containers/a/start'), { status: 405 });
  assert.deepEqual(r.match('GET', '/nope'), { status: 404 });
});

test('router: a malformed percent-encoding in a path parameter is the client\'s error (400), not a crash', () => {
  const r = new Router().add('GET', '/containers/{id}/json', () => ({ json: 1 }));
  for (const bad of ['%zz', '%', '%ff', 'a%e0%a4']) {
    assert.throws(() => r.match('GET', `/containers/${bad}/json`), (e: unknown) => e instanceof InvalidArgument && httpErrorFor(e).status === 400, bad);
  }
});

test('request targets: `//` starts a path, not a host; absolute-form is parsed; garbage is InvalidArgument', () => {
  assert.equal(requestUrl('//v1.43/system/x').pathname, '//v1.43/system/x');
  assert.equal(requestUrl('//containers//json?all=1').search, '?all=1');
  assert.equal(requestUrl('/_ping').pathname, '/_ping');
  assert.equal(requestUrl('http://atomic.example/_ping').pathname, '/_ping');
  assert.throws(() => requestUrl('*'), InvalidArgument);
  assert.throws(() => requestUrl('no-slash'), InvalidArgument);
});

test('JSON nesting depth is counted without parsing, strings and escapes skipped', () => {
  assert.equal(nestingDepth('{}'), 1);
  assert.equal(nestingDepth('{"a":[1,{"b":[]}]}'), 4);
  assert.equal(nestingDepth('{"a":"[[[{{{\\"[["}'), 1);
  assert.equal(nestingDepth('1'), 0);
  assert.equal(nestingDepth('['.repeat(100_000) + ']'.repeat(100_000)), 100_000);
});
