import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTags } from '../../../../src/core/image/aws-tags.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

test('KEY=VALUE, split at the first =, empty values allowed, order kept', () => {
  assert.deepEqual(parseTags(['Name=atomic', 'expr=a=b', 'empty=', 'ünï=✓']), [
    { Key: 'Name', Value: 'atomic' }, { Key: 'expr', Value: 'a=b' }, { Key: 'empty', Value: '' }, { Key: 'ünï', Value: '✓' },
  ]);
  assert.deepEqual(parseTags([]), []);
});

test('every problem is reported, each naming the tag', () => {
  const e = (() => {
    try {
      parseTags(['novalue', '=x', 'aws:cost=1', 'dup=1', 'dup=2', `${'k'.repeat(129)}=v`, `long=${'v'.repeat(257)}`]);
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  assert.ok(e instanceof InvalidArgument);
  assert.equal(e.problems.length, 6, e.problems.join('\n'));
  assert.match(e.problems.join('\n'), /"novalue": expected KEY=VALUE[\s\S]*"=x": the key is empty[\s\S]*"aws:cost": keys starting with aws: are reserved[\s\S]*"dup": given more than once[\s\S]*129 characters[\s\S]*257 characters/);
});

test('lengths count code points; 128/256 pass; more than 50 tags is refused', () => {
  assert.equal(parseTags([`${'✓'.repeat(128)}=${'✓'.repeat(256)}`]).length, 1);
  assert.throws(() => parseTags(Array.from({ length: 51 }, (_, i) => `k${i}=v`)), (e: InvalidArgument) => /51 tags given/.test(e.problems.join()));
  assert.equal(parseTags(Array.from({ length: 50 }, (_, i) => `k${i}=v`)).length, 50);
});
