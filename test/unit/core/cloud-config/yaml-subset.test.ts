// The parser of the common YAML subset (yaml-subset.ts) against the full parser (the yaml
// package through yaml-document.ts): whenever the subset parser answers, the located tree must be
// the one the full parser gives, with no problem reported; everything else it must decline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { LineIndex, ProblemReport } from '../../../../src/core/cloud-config/problem.js';
import { parseWithYamlPackage, parseYaml, type YamlNode } from '../../../../src/core/cloud-config/yaml-document.js';
import { parseYamlSubset } from '../../../../src/core/cloud-config/yaml-subset.js';
import { REPO } from '../../../helpers.js';

/** Checks agreement; true when the subset parser answered. */
function agree(text: string): boolean {
  const fast = parseYamlSubset(text);
  if (fast === undefined) return false;
  const report = new ProblemReport('t.yaml', new LineIndex(text));
  const full = parseWithYamlPackage(text, report);
  assert.deepEqual(report.problems, [], `the subset parser took text the full parser reports on:\n${text}`);
  assert.deepEqual(fast, full.root, `trees differ for:\n${text}`);
  return true;
}

test('the examples and fixtures are read by the subset parser, as the full parser reads them', () => {
  const files = [
    'cloud-init/examples/minimal/user-data',
    'cloud-init/examples/multipart/base.yaml',
    'cloud-init/examples/multipart/extra.yaml',
    'cloud-init/examples/web-host/user-data',
    'cloud-init/examples/web-host/meta-data',
    'cloud-init/examples/web-host/network-config',
    'images/atomic-host.yaml',
    'test/fixtures/user-data/archive.yaml',
    'test/fixtures/user-data/cloud-config-all-modules.yaml',
    'test/fixtures/user-data/cloud-config-invalid.yaml',
  ];
  for (const f of files) assert.ok(agree(readFileSync(join(REPO, f), 'utf8')), `${f}: declined by the subset parser`);
});

const TAKEN: readonly string[] = [
  'a: 1\nb:\nc:   \nd: # x\ne:\n  - x\n  -\n  - "q"\n',
  '# c\n---\nk: v\n',
  '--- # start\nk: v',
  'k:\n- a\n- b: 1\n  c: 2\nz: 1',
  'seq:\n  -\n    a: 1\n  -\n',
  '- a\n- b\n',
  'lit: |\n  l1\n\n  l2\n\n\nnext: 1\n',
  'lit: |-\n  l1\n   indented\nz: x\n',
  'fold: >\n  a\n  b\n\n  c\n\n\n  d\nz: 1\n',
  'fold: >-\n\n  lead\n  x\n',
  'empty: |\nnext: 1\n',
  'deep:\n  write_files:\n    - path: /etc/x\n      content: |\n        #!/bin/sh\n        echo "a: b" # not a comment\n      permissions: \'0644\'\n',
  'q1: \'it\'\'s\'\nq2: "tab\\there \\u00e9 \\x41 \\" \\\\ \\/"\nq3: "#not comment" # comment\n',
  'keys:\n  yes: 1\n  2: two\n  ~: nothing\n  2030-01-02: date\n  0644: oct\n',
  'vals: [1, 1.5, .inf, -.inf, .NaN, yes, No, ~, 0x1F, 2030-01-02, -1, -x, "q", \'s\']\n',
  'flow: {a: 1, b: "two", c: \'3\', d: -x}\nempty: []\nnone: {}\n',
  'unicode: héllo wörld ✓\n"x": 1\n'.split('\n')[0] + '\n',
  'time: 22:30\nplain: value with  spaces   # and a comment\nurl: http://example.com/a#b\n',
  'key with spaces  : v\n',
  'nbsp: x\u00a0\nlead: \u00a0y\n',
  'a:\n \u00a0b: 1\n',
  'runcmd:\n  - [sh, -c, "echo hi > /tmp/x"]\n  - echo plain\n',
];

test('the subset parser takes block YAML with its usual scalars, and reads it as the full parser does', () => {
  for (const text of TAKEN) assert.ok(agree(text), `declined:\n${text}`);
});

const DECLINED: readonly string[] = [
  '',
  '# only a comment\n',
  'a: &x 1\nb: *x\n',
  'a: !!str 1\n',
  'base: &b {x: 1}\nc:\n  <<: *b\n',
  'a: 1\na: 2\n',
  'a: multi\n  line plain\n',
  'a: "multi\n  line"\n',
  'a:\tb\n',
  'a: b\r\n',
  'a: |+\n  keep\n\n',
  'a: |2\n   indent indicator\n',
  'a: {b: [1, 2]}\n',
  'a: b: c\n',
  'a: 1\n b: 2\n',
  'a: 1\n---\nb: 2\n',
  '%YAML 1.1\n---\na: 1\n',
  'just a scalar\n',
  '? complex\n: key\n',
  'a: [1, 2\n',
  'a: [1, 2,]\n',
  '"quoted key": 1\n',
  'a: "\\e escape"\n',
  'a: |\n  no final line break',
  '  indented: root\n',
  'a: =\n',
  '- - nested\n',
];

test('the subset parser declines what it does not read (the full parser takes over)', () => {
  for (const text of DECLINED) {
    assert.equal(parseYamlSubset(text), undefined, `taken:\n${text}`);
    // parseYaml falls back and gives the full parser's answer.
    const r1 = new ProblemReport('t', new LineIndex(text));
    const r2 = new ProblemReport('t', new LineIndex(text));
    assert.deepEqual(parseYaml(text, r1), parseWithYamlPackage(text, r2));
    assert.deepEqual(r1.problems, r2.problems);
  }
});

// --- generated documents ------------------------------------------------------------------------

// Scalars YAML 1.1 reads in telling ways, and texts that are not plain scalars at all.
const SCALARS = [
  'a', 'hello world', 'yes', 'No', 'on', 'OFF', 'y', '0644', '09', '0x1F', '0b101', '1_000', '22:30', '1:20.5', '1.5', '.5', '1e3', '1.0e+3',
  '.inf', '-.Inf', '.NaN', '2030-01-02', '2030-1-2', '2030-01-02 10:20:30', '2030-01-02T10:20:30Z', '~', 'null', 'Null', '-x', '-1', '+1',
  'a#b', "it's", 'say "hi"', 'é ✓', 'a,b', 'a]b', 'back\\slash', 'x\u00a0', '\u2003y', 'x\ny', 'line\n', '\nlead', 'two\n\nparas\n',
];
const TRICKY = ['', 'a # b', 'a: b', 'x:', ':x', '?x', '=', '<<', '[a]', '{a}', '@x', '`x`', '%x', '&a', '*a', '!t', '|', '>', '-', '- x', ' lead', 'trail '];

interface GenScalar {
  readonly kind: 'scalar';
  readonly text: string;
  readonly style: 'plain' | 'single' | 'double' | 'literal' | 'folded' | 'literal-strip';
}
interface GenSeq {
  readonly kind: 'seq';
  readonly items: readonly Gen[];
  readonly flow: boolean;
}
interface GenMap {
  readonly kind: 'map';
  readonly entries: readonly (readonly [string, Gen])[];
  readonly flow: boolean;
}
type Gen = GenScalar | GenSeq | GenMap;

const scalarArb: fc.Arbitrary<GenScalar> = fc.record({
  kind: fc.constant('scalar' as const),
  text: fc.oneof({ arbitrary: fc.constantFrom(...SCALARS), weight: 12 }, { arbitrary: fc.constantFrom(...TRICKY), weight: 1 }, { arbitrary: fc.string({ maxLength: 8 }), weight: 1 }),
  style: fc.constantFrom('plain', 'plain', 'plain', 'single', 'double', 'literal', 'folded', 'literal-strip'),
});
const { node: nodeArb } = fc.letrec<{ node: Gen; seq: GenSeq; map: GenMap }>((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalarArb, tie('seq'), tie('map')),
  seq: fc.record({ kind: fc.constant('seq' as const), items: fc.array(tie('node'), { minLength: 1, maxLength: 4 }), flow: fc.boolean() }),
  map: fc.record({
    kind: fc.constant('map' as const),
    entries: fc.array(fc.tuple(fc.oneof({ arbitrary: fc.constantFrom('a', 'b', 'name', 'yes', '1', '~', 'x y', 'k-1', '0644'), weight: 12 }, { arbitrary: fc.constantFrom(...SCALARS, ...TRICKY), weight: 1 }), tie('node')), { minLength: 1, maxLength: 4 }),
    flow: fc.boolean(),
  }),
}));

function inlineScalar(s: GenScalar): string {
  if (s.style === 'single') return `'${s.text.replace(/'/g, "''")}'`;
  if (s.style === 'double') return `"${s.text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  return s.text;
}

/** Renders `n` as the value after `prefix` (`key:` or `-`) at `indent`. */
function render(n: Gen, indent: number, comment: boolean): string[] {
  const pad = ' '.repeat(indent);
  const c = comment ? ' # note' : '';
  if (n.kind === 'scalar') {
    if (n.style === 'literal' || n.style === 'folded' || n.style === 'literal-strip') {
      const head = `${n.style === 'folded' ? '>' : '|'}${n.style === 'literal-strip' ? '-' : ''}${c}`;
      return [head, ...n.text.split('\n').map((l) => (l === '' ? '' : `${pad}  ${l}`))];
    }
    return [`${inlineScalar(n)}${c}`];
  }
  if (n.flow && n.kind === 'seq' && n.items.every((i) => i.kind === 'scalar')) {
    return [`[${n.items.map((i) => inlineScalar(i as GenScalar)).join(', ')}]${c}`];
  }
  if (n.flow && n.kind === 'map' && n.entries.every(([, v]) => v.kind === 'scalar')) {
    return [`{${n.entries.map(([k, v]) => `${k}: ${inlineScalar(v as GenScalar)}`).join(', ')}}${c}`];
  }
  return ['', ...block(n, indent + 2, comment)];
}

function block(n: GenSeq | GenMap, indent: number, comment: boolean): string[] {
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  const join = (head: string, v: string[]): void => {
    const [first, ...rest] = v;
    out.push(first === '' ? head : `${head} ${first}`, ...rest);
  };
  if (n.kind === 'seq') for (const item of n.items) join(`${pad}-`, render(item, indent, comment));
  else for (const [k, v] of n.entries) join(`${pad}${k}:`, render(v, indent, comment));
  return out;
}

const docArb = fc
  .tuple(fc.oneof(nodeArb.filter((n): n is GenMap => n.kind === 'map'), nodeArb.filter((n): n is GenSeq => n.kind === 'seq')), fc.boolean(), fc.boolean())
  .map(([root, comment, header]) => `${header ? '#cloud-config\n' : ''}${block(root, 0, comment).join('\n')}\n`);

test('generated documents: whatever the subset parser takes, it reads as the full parser does', () => {
  let taken = 0;
  let runs = 0;
  fc.assert(
    fc.property(docArb, (text) => {
      runs++;
      if (agree(text)) taken++;
    }),
    { numRuns: 600 },
  );
  // The generator is mostly the subset; a parser that declined everything would pass the above.
  assert.ok(taken > runs / 4, `the subset parser took only ${taken} of ${runs} generated documents`);
});

test('mutated documents: edits that break the YAML never make the subset parser disagree', () => {
  const edit = fc.tuple(fc.nat(), fc.nat(3), fc.constantFrom(' ', ':', '-', '#', '\n', '"', "'", '[', ']', '{', '}', ',', '|', '>', 'x', '  ', ': ', '- '));
  fc.assert(
    fc.property(docArb, fc.array(edit, { minLength: 1, maxLength: 3 }), (text, edits) => {
      let t = text;
      for (const [at, del, ins] of edits) {
        const i = at % (t.length + 1);
        t = t.slice(0, i) + ins + t.slice(i + del);
      }
      agree(t);
    }),
    { numRuns: 1500 },
  );
});

test('a located tree has no end offsets to disagree on: start positions point at the node', () => {
  const text = 'a:\n  - x\n  - {k: v}\nb: |\n  t\n';
  const root = parseYamlSubset(text) as YamlNode;
  assert.ok(root.kind === 'map');
  const a = root.entries[0]!.value;
  assert.ok(a.kind === 'seq');
  assert.equal(text.slice(a.start, a.start + 3), '- x');
  assert.equal(text.slice(a.items[1]!.start, a.items[1]!.start + 3), '{k:');
  assert.equal(text.slice(root.entries[1]!.value.start, root.entries[1]!.value.start + 1), '|');
  assert.equal(root.entries[1]!.keyStart, text.indexOf('b:'));
});
