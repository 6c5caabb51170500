// YAML as PyYAML (cloud-init's loader) reads it: YAML 1.1 scalars, duplicate keys, merge keys,
// aliases, and located syntax errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineIndex, ProblemReport } from '../../../../src/core/cloud-config/problem.js';
import { parseYaml, toPlain, type YamlNode } from '../../../../src/core/cloud-config/yaml-document.js';

function parse(text: string): { root?: YamlNode; report: ProblemReport } {
  const report = new ProblemReport('t.yaml', new LineIndex(text));
  return { ...parseYaml(text, report), report };
}

function scalar(text: string): unknown {
  const { root, report } = parse(`v: ${text}\n`);
  assert.equal(report.problems.length, 0, JSON.stringify(report.problems));
  assert.ok(root?.kind === 'map');
  const v = root.entries[0]?.value;
  assert.ok(v?.kind === 'scalar');
  return v.value;
}

test('YAML 1.1 booleans are PyYAML\'s: yes/no/on/off, but not y/n', () => {
  for (const t of ['yes', 'Yes', 'YES', 'on', 'On', 'true', 'True']) assert.equal(scalar(t), true, t);
  for (const t of ['no', 'No', 'NO', 'off', 'OFF', 'false']) assert.equal(scalar(t), false, t);
  for (const t of ['y', 'n', 'Y', 'N', 'yEs']) assert.equal(scalar(t), t, `${t} stays a string in PyYAML`);
});

test('YAML 1.1 integers: octal 0644, hex, binary, base 60; 09 and 1e3 stay strings as in PyYAML', () => {
  assert.equal(scalar('0644'), 420);
  assert.equal(scalar('0o644'), '0o644');
  assert.equal(scalar('0x1F'), 31);
  assert.equal(scalar('0b101'), 5);
  assert.equal(scalar('1_000'), 1000);
  assert.equal(scalar('22:22'), 1342);
  assert.equal(scalar('52:54:00:12:34:56'), 41135085296);
  assert.equal(scalar('00:16:3e:aa:bb:cc'), '00:16:3e:aa:bb:cc');
  assert.equal(scalar('09'), '09');
  assert.equal(scalar('1e3'), '1e3');
  assert.equal(scalar('1.0e+3'), 1000);
  assert.equal(scalar("'0644'"), '0644');
});

test('floats are marked as floats; dates become dates', () => {
  const { root } = parse('a: 1.0\nb: 1\nc: 2030-01-02\nd: 2030-1-2\n');
  assert.ok(root?.kind === 'map');
  const [a, b, c, d] = root.entries.map((e) => e.value);
  assert.ok(a?.kind === 'scalar' && a.float && a.value === 1);
  assert.ok(b?.kind === 'scalar' && !b.float);
  assert.ok(c?.kind === 'scalar' && c.value instanceof Date && c.value.toISOString() === '2030-01-02T00:00:00.000Z');
  assert.ok(d?.kind === 'scalar' && d.value === '2030-1-2', 'PyYAML needs two-digit month and day');
});

test('a syntax error is reported at its line and column', () => {
  const { root, report } = parse('a: 1\nb: [1, 2\nc: 3\n');
  assert.equal(root, undefined);
  const p = report.problems[0];
  assert.ok(p !== undefined);
  assert.equal(p.severity, 'error');
  // PyYAML: "expected ',' or ']', but got ':'" at line 3, column 2; the yaml package points at
  // the start of that line. Only the first error is reported, as PyYAML stops there.
  assert.deepEqual([p.line, p.column], [3, 1]);
  assert.match(p.message, /^YAML: /);
  assert.equal(report.problems.length, 1);
  const nested = parse('x: 1\ny: a: b\n').report.problems;
  assert.deepEqual(nested.map((n) => [n.line, n.column]), [[2, 4]]);
});

test('duplicate keys warn and keep the last value, like PyYAML', () => {
  const { root, report } = parse('a: 1\nb: 2\na: 3\n');
  assert.deepEqual(toPlain(root as YamlNode), { a: 3, b: 2 });
  assert.equal(report.problems.length, 1);
  assert.deepEqual([report.problems[0]?.severity, report.problems[0]?.path, report.problems[0]?.line, report.problems[0]?.column], ['warning', '/a', 3, 1]);
});

test('merge keys and aliases resolve; explicit keys win', () => {
  const { root } = parse('base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\nlist: [*b]\n');
  assert.deepEqual(toPlain(root as YamlNode), { base: { x: 1, y: 2 }, other: { x: 1, y: 3 }, list: [{ x: 1, y: 2 }] });
});

test('an alias bomb is refused instead of expanded', () => {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 0; i < 8; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`);
  const { root, report } = parse(lines.join('\n') + '\n');
  assert.equal(root, undefined);
  assert.match(report.problems[0]?.message ?? '', /aliases expand to more than/);
});

test('characters PyYAML refuses are errors at their position', () => {
  const { root, report } = parse('a: 1\nb: "x\u0007"\n');
  assert.equal(root, undefined);
  assert.deepEqual([report.problems[0]?.line, report.problems[0]?.column], [2, 6]);
  assert.match(report.problems[0]?.message ?? '', /U\+0007/);
});

test('unknown tags fail like in PyYAML\'s safe loader; standard ones resolve', () => {
  assert.equal(parse('a: !!python/object:os.system x\n').root, undefined);
  const { root } = parse('a: !!str 0644\nb: !!binary aGk=\n');
  assert.deepEqual(toPlain(root as YamlNode), { a: '0644', b: Buffer.from('hi') });
});

test('an empty document is null', () => {
  const { root } = parse('# only a comment\n');
  assert.ok(root?.kind === 'scalar' && root.value === null);
});

test('a block scalar at the end of the stream keeps no line break it does not have (PyYAML)', () => {
  assert.deepEqual(toPlain(parse('a: |\n  x').root as YamlNode), { a: 'x' });
  assert.deepEqual(toPlain(parse('a: |\n  x\n').root as YamlNode), { a: 'x\n' });
  assert.deepEqual(toPlain(parse('a: |\n  x\nb: 1').root as YamlNode), { a: 'x\n', b: 1 });
});
