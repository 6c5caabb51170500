import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import type { PlainObject } from '../../../../src/core/cloud-config/merge-cloud-config.js';
import { decodePermissions, decodePythonBase64 } from '../../../../src/core/provision/modules/plan-write-files.js';
import { planModule } from '../../../../src/core/provision/plan-module.js';
import { runOk } from '../../../helpers.js';
import { input, only, utf8 } from './fixture-input.js';

const b64 = (s: string | Uint8Array): string => Buffer.from(s).toString('base64');

test('every encoding decodes to the same bytes', () => {
  const text = 'hello\nworld\n';
  const gz = gzipSync(text);
  const files: PlainObject[] = [
    { path: '/etc/plain', content: text },
    { path: '/etc/textplain', content: text, encoding: 'text/plain' },
    { path: '/etc/b64', content: b64(text), encoding: 'b64' },
    { path: '/etc/base64', content: b64(text), encoding: 'base64' },
    { path: '/etc/binary', content: new TextEncoder().encode(text) },
    { path: '/etc/gz', content: gz, encoding: 'gz' },
    { path: '/etc/gzip', content: gz, encoding: 'gzip' },
    ...['gz+b64', 'gz+base64', 'gzip+base64', 'gzip+b64', ' GZ+B64 '].map((encoding, i) => ({ path: `/etc/gzb64-${i}`, content: b64(gz), encoding })),
  ];
  const { steps, problems } = planModule('write_files', input({ write_files: files }));
  assert.deepEqual(problems, []);
  assert.equal(steps.length, files.length);
  for (const s of only(steps, 'write-file')) {
    assert.equal(utf8(s.content), text, s.path);
    assert.deepEqual([s.mode, s.owner, s.append], [0o644, 'root:root', false], s.path);
  }
});

test('bad base64 or bad gzip fails that entry only; the others are planned', () => {
  const { steps, problems } = planModule('write_files', input({
    write_files: [
      { path: '/etc/one', content: 'one' },
      { path: '/etc/bad-b64', content: 'abcde', encoding: 'b64' },
      { path: '/etc/bad-gz', content: b64('not gzip'), encoding: 'gz+b64' },
      { path: '/etc/two', content: b64('two'), encoding: 'b64' },
    ],
  }));
  assert.deepEqual(only(steps, 'write-file').map((s) => [s.path, utf8(s.content)]), [['/etc/one', 'one'], ['/etc/two', 'two']]);
  assert.equal(problems.length, 2);
  assert.match(problems[0] ?? '', /^\/write_files\/1\/content: encoding b64: invalid base64.*\/etc\/bad-b64 not written/);
  assert.match(problems[1] ?? '', /^\/write_files\/2\/content: encoding gz\+b64: not valid gzip/);
});

test("base64 is decoded like Python's b64decode: junk skipped, padding required, data after a pad ignored", () => {
  const ok = (s: string): string => {
    const r = decodePythonBase64(new TextEncoder().encode(s));
    assert.ok(r.ok, s);
    return Buffer.from(r.data).toString('latin1');
  };
  assert.equal(ok('aGVs\nbG8=\n'), 'hello');
  assert.equal(ok('aGVsbG8=trailing'), 'hello');
  assert.equal(ok('a*G!V#s'), 'hel');
  assert.equal(decodePythonBase64(new TextEncoder().encode('aGVsbG8')).ok, false);
  assert.equal(decodePythonBase64(new TextEncoder().encode('a')).ok, false);
  // Differential: what Python's base64.b64decode makes of the same inputs.
  const samples = ['aGVsbG8=', 'aGVs bG8=', 'YQ==YQ==', 'YWJj\r\nZGVm', '====YWJj', 'Y=Q==', '-_aGk='];
  const py = JSON.parse(runOk('/usr/bin/python3', ['-c', 'import base64,json,sys\nout=[]\nfor s in json.load(sys.stdin):\n  try: out.append(base64.b64decode(s).hex())\n  except Exception: out.append(None)\nprint(json.dumps(out))'], { input: JSON.stringify(samples) }).stdout) as (string | null)[];
  samples.forEach((s, i) => {
    const r = decodePythonBase64(new TextEncoder().encode(s));
    assert.equal(r.ok ? Buffer.from(r.data).toString('hex') : null, py[i], s);
  });
});

test("permissions: octal strings, integers as they are, the default, and nonsense", () => {
  assert.deepEqual(decodePermissions('0600'), { mode: 0o600 });
  assert.deepEqual(decodePermissions('0o755'), { mode: 0o755 });
  assert.deepEqual(decodePermissions(' 4755 '), { mode: 0o4755 });
  assert.deepEqual(decodePermissions(420), { mode: 0o644 });
  assert.deepEqual(decodePermissions(644), { mode: 0o1204 });
  assert.deepEqual(decodePermissions(undefined), { mode: 0o644 });
  assert.equal(decodePermissions('rw-r--r--').mode, 0o644);
  assert.match(decodePermissions('rw-r--r--').problem ?? '', /undecodable/);
});

test('owner, append and paths are carried; defer splits the list between the two modules', () => {
  const config: PlainObject = {
    write_files: [
      { path: '/etc/now', content: 'a', owner: 'ops:deploy', permissions: '0640', append: true },
      { path: '/home/ops/later', content: 'b', defer: true, owner: 'ops' },
      { path: '//etc/./x/', content: 'c', defer: false },
      { path: 'relative', content: 'd' },
    ],
  };
  const now = planModule('write_files', input(config));
  const later = planModule('write_files_deferred', input(config));
  assert.deepEqual(only(now.steps, 'write-file').map((s) => [s.path, s.owner, s.mode, s.append]), [['/etc/now', 'ops:deploy', 0o640, true], ['/etc/x', 'root:root', 0o644, false]]);
  assert.deepEqual(only(later.steps, 'write-file').map((s) => [s.path, s.owner]), [['/home/ops/later', 'ops']]);
  assert.match(now.problems[0] ?? '', /relative.*not an absolute path/);
  assert.deepEqual(later.problems, []);
});

test("'..' in a path is passed on for the executor to refuse, not normalized away", () => {
  const { steps } = planModule('write_files', input({ write_files: [{ path: '/etc/../../../tmp/x', content: 'x' }] }));
  assert.equal(only(steps, 'write-file')[0]?.path, '/etc/../../../tmp/x');
});

test('content null or missing is an empty file; an unknown encoding is text with a problem', () => {
  const { steps, problems } = planModule('write_files', input({ write_files: [{ path: '/a' }, { path: '/b', content: null }, { path: '/c', content: 'x', encoding: 'rot13' }] }));
  assert.deepEqual(only(steps, 'write-file').map((s) => [s.path, utf8(s.content)]), [['/a', ''], ['/b', ''], ['/c', 'x']]);
  assert.match(problems[0] ?? '', /unknown encoding "rot13"/);
});
