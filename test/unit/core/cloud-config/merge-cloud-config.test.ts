// cloud-init's mergers (cloudinit/mergers): the documented examples and the defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeCloudConfigPart, mergeValues, parseMergeHow, parseMergeString, type MergerSpec } from '../../../../src/core/cloud-config/merge-cloud-config.js';

function mergers(s: string): readonly MergerSpec[] {
  const r = parseMergeString(s);
  assert.ok(r.ok);
  return r.mergers;
}

test('merge strings parse like string_extract_mergers', () => {
  assert.deepEqual(parseMergeString(' List(Append) + dict(no-replace, recurse_list)+str() '), {
    ok: true,
    mergers: [
      { name: 'list', options: ['append'] },
      { name: 'dict', options: ['no_replace', 'recurse_list'] },
      { name: 'str', options: [] },
    ],
    ignoredOptions: [],
  });
  assert.equal(parseMergeString('list').ok, false);
  assert.deepEqual(parseMergeHow([{ name: 'list', settings: ['append'] }, ['m_dict', 'replace']]), { ok: true, mergers: [{ name: 'list', options: ['append'] }, { name: 'dict', options: ['replace'] }], ignoredOptions: [] });
  assert.equal(parseMergeHow([{ name: 'list' }]).ok, false, 'settings is required');
});

test('the default for cloud-config parts replaces top-level keys', () => {
  const a = mergeCloudConfigPart({}, { runcmd: ['a'], users: { x: {} } }, undefined).merged;
  const b = mergeCloudConfigPart(a, { runcmd: ['b'] }, undefined).merged;
  assert.deepEqual(b, { runcmd: ['b'], users: { x: {} } });
});

test('list(append) and list(prepend) with dict(recurse_array)', () => {
  const base = { runcmd: ['a'], write_files: [{ path: '/x' }] };
  assert.deepEqual(mergeValues(base, { runcmd: ['b'] }, mergers('list(append)+dict(recurse_array)+str()')), { runcmd: ['a', 'b'], write_files: [{ path: '/x' }] });
  assert.deepEqual(mergeValues(base, { runcmd: ['b'] }, mergers('list(prepend)+dict(recurse_array)+str()')), { runcmd: ['b', 'a'], write_files: [{ path: '/x' }] });
});

test('list() replaces index by index; dict(no_replace) keeps old values; allow_delete drops keys set to null', () => {
  assert.deepEqual(mergeValues(['a', 'b', 'c'], ['x'], mergers('list()')), ['x', 'b', 'c']);
  assert.deepEqual(mergeValues({ a: 1, b: 'x' }, { a: 2, c: 3 }, mergers('dict(no_replace)')), { a: 1, b: 'x', c: 3 });
  assert.deepEqual(mergeValues({ a: 1, b: 2 }, { a: null }, mergers('dict(no_replace,allow_delete)')), { b: 2 });
  assert.deepEqual(mergeValues({ s: 'ab' }, { s: 'cd' }, mergers('dict(no_replace,recurse_str)+str(append)')), { s: 'abcd' });
});

test('merge_how in the part wins over the header, and is taken out of the config', () => {
  const r = mergeCloudConfigPart({ runcmd: ['a'] }, { merge_how: 'list(prepend)+dict(recurse_list)', runcmd: ['b'] }, 'list(append)+dict(recurse_list)');
  assert.deepEqual(r.merged, { runcmd: ['b', 'a'] });
  const bad = mergeCloudConfigPart({}, { a: 1 }, 'nonsense');
  assert.match(bad.error ?? '', /not in the form/);
});

test('a key named __proto__ stays data', () => {
  const r = mergeValues({}, JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, never>, mergers('dict(replace)'));
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  assert.ok(Object.hasOwn(r as object, '__proto__'));
});
