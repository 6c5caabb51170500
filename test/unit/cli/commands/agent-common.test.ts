import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filtersJson, formatTable, pathName, shortImageId, wantsJson } from '../../../../src/cli/commands/agent-common.js';
import { keyValues } from '../../../../src/cli/commands/volume-create.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';
import { humanDuration, humanSize } from '../../../../src/lib/human-units.js';

test('sizes in go-units decimal form with 3 significant digits, as docker images shows', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize(4_264_312), '4.26MB');
  assert.equal(humanSize(1_234_567_890), '1.23GB');
  assert.equal(humanSize(36), '36B');
});

test('ages in go-units HumanDuration form', () => {
  const s = 1000;
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(s), '1 second');
  assert.equal(humanDuration(42 * s), '42 seconds');
  assert.equal(humanDuration(61 * s), 'About a minute');
  assert.equal(humanDuration(5 * 60 * s), '5 minutes');
  assert.equal(humanDuration(60 * 60 * s), 'About an hour');
  assert.equal(humanDuration(5 * 3600 * s), '5 hours');
  assert.equal(humanDuration(3 * 24 * 3600 * s), '3 days');
  assert.equal(humanDuration(20 * 24 * 3600 * s), '2 weeks');
  assert.equal(humanDuration(100 * 24 * 3600 * s), '3 months');
  assert.equal(humanDuration(800 * 24 * 3600 * s), '2 years');
});

test('tables, filters, IDs, names, formats', () => {
  assert.equal(formatTable(['DRIVER', 'VOLUME NAME'], [['local', 'v1']]), 'DRIVER    VOLUME NAME\nlocal     v1\n');
  assert.equal(formatTable(['REPOSITORY', 'TAG'], [['127.0.0.1:5000/busybox', 'latest']]), 'REPOSITORY               TAG\n127.0.0.1:5000/busybox   latest\n');
  assert.equal(filtersJson(['dangling=true', 'label=a=b', 'label!=c']), '{"dangling":{"true":true},"label":{"a=b":true},"label!":{"c":true}}');
  assert.equal(filtersJson([]), undefined);
  assert.throws(() => filtersJson(['nokey']), (e: unknown) => e instanceof InvalidArgument && /--filter "nokey"/.test(e.message));
  assert.equal(shortImageId(`sha256:${'ab'.repeat(32)}`), 'abababababab');
  assert.equal(pathName('127.0.0.1:5000/a b'), '127.0.0.1%3A5000/a%20b');
  assert.equal(wantsJson({ format: 'json' }), true);
  assert.equal(wantsJson({}), false);
  assert.throws(() => wantsJson({ format: '{{.ID}}' }), /Go templates are not supported/);
  assert.deepEqual(keyValues(['a=b', 'c', 'd=e=f'], '--label', true), { a: 'b', c: '', 'd': 'e=f' });
  assert.throws(() => keyValues(['c'], '--opt', false), /--opt "c": expected KEY=VALUE/);
});
