import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkForwards, parseForward, parsePort } from '../../../../src/core/vm/forward-spec.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

test('HOST:GUEST and 127.0.0.1:HOST:GUEST parse to ports', () => {
  assert.deepEqual(parseForward('2222:22'), { hostPort: 2222, guestPort: 22 });
  assert.deepEqual(parseForward('127.0.0.1:8080:80'), { hostPort: 8080, guestPort: 80 });
  assert.deepEqual(parseForward('65535:1'), { hostPort: 65535, guestPort: 1 });
});

test('bad forwards are InvalidArgument naming the flag', () => {
  for (const bad of ['22', '', ':22', '2222:', '0:22', '2222:65536', 'a:b', '22:22:22', '0.0.0.0:2222:22', '-1:22', '2222:22/udp', '+22:22', '2222 :22']) {
    assert.throws(() => parseForward(bad, '--forward'), (e: unknown) => e instanceof InvalidArgument && e.subject === '--forward', bad);
  }
  assert.throws(() => parseForward('0.0.0.0:2222:22'), /127\.0\.0\.1 only/);
});

test('parsePort takes 1..65535 in decimal only', () => {
  assert.equal(parsePort('1'), 1);
  assert.equal(parsePort('0'), undefined);
  assert.equal(parsePort('0x10'), undefined);
  assert.equal(parsePort('1e3'), undefined);
  assert.equal(parsePort('123456'), undefined);
});

test('checkForwards refuses duplicates, bad ports and non-IPv4 guestfwd addresses, naming the entry', () => {
  assert.doesNotThrow(() => checkForwards([{ hostPort: 2222, guestPort: 22 }], [{ guestAddr: '10.0.2.100', guestPort: 8080, host: '127.0.0.1', hostPort: 8080 }]));
  assert.throws(() => checkForwards([{ hostPort: 2222, guestPort: 22 }, { hostPort: 2222, guestPort: 80 }], []), (e: unknown) => e instanceof InvalidArgument && e.subject === 'forwards[1]');
  assert.throws(() => checkForwards([{ hostPort: 2.5, guestPort: 22 }], []), InvalidArgument);
  assert.throws(() => checkForwards([], [{ guestAddr: 'registry', guestPort: 80, host: '127.0.0.1', hostPort: 80 }]), (e: unknown) => e instanceof InvalidArgument && e.subject === 'guestForwards[0]');
  assert.throws(() => checkForwards([], [{ guestAddr: '10.0.2.100', guestPort: 80, host: '127.0.0.1', hostPort: 0 }]), InvalidArgument);
});
