import { test } from 'node:test';
import assert from 'node:assert/strict';
import { booleanFilter, labelsMatch, parseFilters } from '../../../../../src/agent/api/compat/filters.js';
import { queryBool } from '../../../../../src/agent/api/request-input.js';
import { InvalidArgument } from '../../../../../src/lib/errors.js';

test('both JSON forms of filters; unknown keys and junk refused with Docker\'s words', () => {
  assert.deepEqual([...parseFilters('{"dangling":{"true":true},"label":{"a=b":true,"c":false}}', ['dangling', 'label'])], [['dangling', ['true']], ['label', ['a=b']]]);
  assert.deepEqual([...parseFilters('{"name":["x","y"]}', ['name'])], [['name', ['x', 'y']]]);
  assert.equal(parseFilters(null, []).size, 0);
  assert.throws(() => parseFilters('{"colour":{"red":true}}', ['name']), (e: unknown) => e instanceof InvalidArgument && e.message === "invalid filter 'colour'");
  assert.throws(() => parseFilters('{nope', ['name']), /not JSON/);
  assert.throws(() => parseFilters('[1]', ['name']), /JSON object/);
  assert.throws(() => parseFilters('{"name":3}', ['name']), /must be an object/);
});

test('boolean filters and labels', () => {
  const f = parseFilters('{"dangling":["true"],"all":["1"],"x":["maybe"],"y":["true","false"]}', ['dangling', 'all', 'x', 'y']);
  assert.equal(booleanFilter(f, 'dangling'), true);
  assert.equal(booleanFilter(f, 'all'), true);
  assert.equal(booleanFilter(f, 'absent'), undefined);
  assert.throws(() => booleanFilter(f, 'x'), /invalid filter 'x=maybe'/);
  assert.throws(() => booleanFilter(f, 'y'), /both true and false/);
  assert.ok(labelsMatch({ a: 'b', c: '' }, ['a', 'a=b', 'c']));
  assert.ok(!labelsMatch({ a: 'b' }, ['a=c']));
  assert.ok(!labelsMatch({}, ['a']));
});

test('query flags read like Docker\'s BoolValue', () => {
  const q = new URLSearchParams('a=1&b=true&c=0&d=false&e=&f=yes');
  assert.deepEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((k) => queryBool(q, k)), [true, true, false, false, false, true, false]);
});
