// User-data parts as cloud-init's UserDataProcessor finds them, and problems located in parts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseUserData, validateUserData } from '../../../../src/core/cloud-config/validate.js';
import { typeFromStartsWith } from '../../../../src/core/cloud-config/user-data.js';
import { expectProblem, USER_DATA_FIXTURES } from './check-helpers.js';

const fixture = (name: string): Buffer => readFileSync(join(USER_DATA_FIXTURES, name));
const kinds = (data: Uint8Array): string[] => parseUserData(data).parts.map((p) => p.kind);

test('the first characters name the type, longest prefix first, case-insensitively, after blanks', () => {
  assert.equal(typeFromStartsWith('#cloud-config\na: 1'), 'text/cloud-config');
  assert.equal(typeFromStartsWith('  \n#Cloud-Config-Archive\n- x'), 'text/cloud-config-archive');
  assert.equal(typeFromStartsWith('#include-once\nhttp://x'), 'text/x-include-once-url');
  assert.equal(typeFromStartsWith('#!/bin/sh'), 'text/x-shellscript');
  assert.equal(typeFromStartsWith('## template: jinja\n#cloud-config'), 'text/jinja2');
  assert.equal(typeFromStartsWith('\ufeff#cloud-config'), undefined, 'a BOM is not white space to Python');
  assert.equal(typeFromStartsWith('hostname: x'), undefined);
});

test('single-part user-data of every kind', () => {
  assert.deepEqual(kinds(fixture('script.sh')), ['x-shellscript']);
  assert.deepEqual(kinds(fixture('boothook.txt')), ['cloud-boothook']);
  assert.deepEqual(kinds(fixture('jinja.txt')), ['jinja2']);
  assert.deepEqual(kinds(fixture('jsonp.txt')), ['jsonp']);
  assert.deepEqual(kinds(fixture('part-handler.py')), ['part-handler']);
  assert.deepEqual(kinds(fixture('plain.txt')), ['text/plain']);
  const whole = parseUserData(fixture('plain.txt')).parts[0];
  assert.equal(whole?.contentType, 'text/x-not-multipart');
  assert.equal(whole?.origin, 'whole');
});

test('gzip user-data is decompressed, and refused beyond the cap', () => {
  const r = parseUserData(fixture('cloud-config.yaml.gz'), 'ud.gz');
  assert.equal(r.compressed, true);
  assert.deepEqual(r.parts.map((p) => [p.kind, p.compressed, p.label]), [['cloud-config', true, 'ud.gz']]);
  const v = validateUserData(fixture('cloud-config.yaml.gz'), 'ud.gz');
  assert.deepEqual(v.config, { hostname: 'gzipped', runcmd: ['date'] });

  const bomb = gzipSync(Buffer.concat([Buffer.from('#cloud-config\n'), Buffer.alloc(100 * 1024 * 1024, 0x20)]));
  assert.ok(bomb.length < 200 * 1024);
  const b = parseUserData(bomb, 'bomb.gz');
  assert.deepEqual(b.parts, []);
  expectProblem(b.problems, { severity: 'error', path: '', line: 1, column: 1, message: /more than 67108864 bytes; refused/ });
  const small = parseUserData(gzipSync('#cloud-config\na: 1\n'), 'x', { maxDecompressedBytes: 10 });
  expectProblem(small.problems, { severity: 'error', path: '', line: 1, column: 1, message: /more than 10 bytes/ });
  const corrupt = parseUserData(Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]), 'c.gz');
  expectProblem(corrupt.problems, { severity: 'error', path: '', line: 1, column: 1, message: /not valid gzip data/ });
});

test('MIME: 7bit, base64, quoted-printable and gzip parts, typed like cloud-init', () => {
  const r = validateUserData(fixture('mime-mixed.txt'), 'ud');
  assert.deepEqual(
    r.parts.map((p) => [p.index, p.kind, p.contentType, p.declaredContentType, p.filename, p.transferEncoding, p.compressed]),
    [
      [1, 'cloud-config', 'text/cloud-config', 'text/cloud-config', 'config.yaml', '7bit', false],
      [2, 'x-shellscript', 'text/x-shellscript', 'text/x-shellscript', 'script.sh', 'base64', false],
      [3, 'cloud-config', 'text/cloud-config', 'text/plain', 'qp.txt', 'quoted-printable', false],
      [4, 'cloud-config', 'text/cloud-config', 'application/x-gzip', 'more.yaml.gz', 'base64', true],
      [5, 'cloud-config', 'text/cloud-config', 'text/x-shellscript', 'not-a-script.yaml', '7bit', false],
    ],
  );
  assert.equal(Buffer.from(r.parts[1]?.data ?? []).toString(), '#!/bin/bash\necho "base64 script"\n');
  // The line break before a boundary belongs to the boundary (RFC 2046).
  assert.equal(Buffer.from(r.parts[0]?.data ?? []).toString(), '#cloud-config\nhostname: mime-host\nruncmd:\n  - [echo, one]\n');
  assert.equal(Buffer.from(r.parts[2]?.data ?? []).toString(), '#cloud-config\nfinal_message: "café with a soft line break"');
  assert.equal(r.parts[4]?.mergeType, 'list(append)+dict(recurse_array)+str()');
  // Part 5 says list(append): its runcmd is appended to part 1's; the gzip part replaced final_message.
  assert.deepEqual(r.config, { hostname: 'mime-host', runcmd: [['echo', 'one'], ['echo', 'two']], final_message: 'from a gzip part' });
  expectProblem(r.problems, { severity: 'warning', path: '', line: 38, column: 1, message: /declared text\/x-shellscript but .* text\/cloud-config/ });
});

test('MIME: nested multiparts are walked, unknown and plain parts reported', () => {
  const r = validateUserData(fixture('mime-nested.txt'), 'n');
  assert.deepEqual(r.parts.map((p) => [p.kind, p.contentType, p.filename ?? null]), [
    ['cloud-boothook', 'text/cloud-boothook', null],
    ['x-include-url', 'text/x-include-url', null],
    ['text/plain', 'text/plain', 'notes.txt'],
    ['unknown', 'application/octet-stream', 'blob.bin'],
  ]);
  assert.deepEqual([...(r.parts[3]?.data ?? [])], [0, 1, 2, 3, 4]);
  assert.deepEqual(r.problems.map((p) => [p.severity, p.file]), [
    ['warning', 'n#part-2'],
    ['warning', 'n#part-3(notes.txt)'],
    ['warning', 'n#part-4(blob.bin)'],
  ]);
});

test('problems inside a MIME part are located within the part and named after it', () => {
  const mime = [
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary=XYZ',
    '',
    '--XYZ',
    'Content-Type: text/cloud-config',
    'Content-Disposition: attachment; filename="a.yaml"',
    '',
    '#cloud-config',
    'write_files:',
    '  - path: /x',
    '    permissions: 644',
    '--XYZ',
    'Content-Type: text/cloud-config',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('#cloud-config\nruncmd: [\n').toString('base64'),
    '--XYZ--',
    '',
  ].join('\n');
  const r = validateUserData(Buffer.from(mime), 'seed/user-data');
  expectProblem(r.problems.filter((p) => p.file === 'seed/user-data#part-1(a.yaml)'), { severity: 'error', path: '/write_files/0/permissions', line: 4, column: 18 });
  const yamlError = r.problems.find((p) => p.file === 'seed/user-data#part-2');
  assert.deepEqual([yamlError?.severity, yamlError?.line, yamlError?.path], ['error', 3, '']);
});

test('MIME defects: missing boundary, missing close delimiter, non-ASCII 7bit text, no MIME-Version', () => {
  const noBoundary = parseUserData(Buffer.from('MIME-Version: 1.0\nContent-Type: multipart/mixed\n\n--x\n\n#cloud-config\n--x--\n'), 'a');
  assert.deepEqual(noBoundary.parts, []);
  expectProblem(noBoundary.problems, { severity: 'warning', path: '', line: 1, column: 1, message: /without a boundary/ });
  const open = parseUserData(Buffer.from('MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/x-shellscript\n\n#!/bin/sh\n'), 'b');
  assert.deepEqual(open.parts.map((p) => p.kind), ['x-shellscript']);
  assert.match(open.problems[0]?.message ?? '', /no closing --b-- delimiter/);
  const accents = parseUserData(Buffer.from('MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/cloud-config\n\n#cloud-config\nfinal_message: é\n--b--\n'), 'c');
  expectProblem(accents.problems, { severity: 'warning', path: '', line: 7, column: 1, message: /mangles those characters/ });
  const noVersion = validateUserData(fixture('mime-no-version.txt'), 'd');
  assert.deepEqual(noVersion.parts.map((p) => p.contentType), ['text/x-not-multipart']);
  assert.deepEqual(noVersion.problems.map((p) => [p.severity, p.line, p.column]), [['error', 1, 1]]);
  assert.match(noVersion.problems[0]?.message ?? '', /without a MIME-Version header/);
});

test('cloud-config-archive: entries become parts right after the archive', () => {
  const r = validateUserData(fixture('archive.yaml'), 'arch');
  assert.deepEqual(r.parts.map((p) => [p.index, p.kind, p.origin, p.parent ?? null, p.filename ?? null]), [
    [1, 'cloud-config-archive', 'whole', null, null],
    [2, 'cloud-config', 'archive', 1, null],
    [3, 'x-shellscript', 'archive', 1, 'setup.sh'],
    [4, 'cloud-config', 'archive', 1, null],
    [5, 'cloud-boothook', 'archive', 1, 'boot.txt'],
  ]);
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.config, { runcmd: [['echo', 'no header', 'defaults to cloud-config']], hostname: 'from-archive' });
  const bad = validateUserData(Buffer.from('#cloud-config-archive\n- type: nonsense\n  content: x\n- 42\n- content: "#cloud-config\\nhostname: [a]\\n"\n'), 'b');
  expectProblem(bad.problems, { severity: 'error', path: '/0/type', line: 2, column: 9, message: /not type\/subtype/ });
  expectProblem(bad.problems, { severity: 'warning', path: '/1', line: 4, column: 3, message: /skips this one/ });
  expectProblem(bad.problems.filter((p) => p.file === 'b#part-2'), { severity: 'error', path: '/hostname', line: 2, column: 11 });
  const notList = parseUserData(Buffer.from('#cloud-config-archive\na: 1\n'), 'n');
  expectProblem(notList.problems, { severity: 'error', path: '', line: 2, column: 1, message: /a YAML list of parts/ });
});

test('#include: URLs with their mode and position; only http(s)', () => {
  const r = parseUserData(Buffer.from('#include https://a.example/x.yaml\n  http://b.example/y\n# comment\n#include-once\nhttps://c.example/z\nfile:///etc/passwd\n\n'), 'inc');
  const part = r.parts[0];
  assert.equal(part?.kind, 'x-include-url');
  assert.deepEqual(part?.includes, [
    { url: 'https://a.example/x.yaml', once: false, line: 1, column: 10 },
    { url: 'http://b.example/y', once: false, line: 2, column: 3 },
    { url: 'https://c.example/z', once: true, line: 5, column: 1 },
    { url: 'file:///etc/passwd', once: true, line: 6, column: 1 },
  ]);
  expectProblem(r.problems, { severity: 'error', path: '', line: 6, column: 1, message: /not an http\(s\) URL/ });
  assert.equal(parseUserData(Buffer.from('#include-once\nhttps://x.example/\n')).parts[0]?.kind, 'x-include-once-url');
});

test('what cloud-init would silently ignore is reported: BOM, missing header, scripts that cannot run', () => {
  expectProblem(validateUserData(fixture('bom.txt'), 'bom').problems, { severity: 'error', path: '', line: 1, column: 1, message: /byte order mark/ });
  expectProblem(validateUserData(Buffer.from('hostname: x\nruncmd: [ls]\n'), 'h').problems, { severity: 'error', path: '', line: 1, column: 1, message: /looks like cloud-config \('hostname'\)/ });
  expectProblem(validateUserData(Buffer.from('#!/bin/bash\r\necho hi\r\n'), 's').problems, { severity: 'error', path: '', line: 1, column: 12, message: /carriage return/ });
  expectProblem(validateUserData(Buffer.from('\n#!/bin/sh\necho\n'), 's').problems, { severity: 'error', path: '', line: 1, column: 1, message: /does not start with a #! line/ });
  expectProblem(validateUserData(Buffer.from('#cloud-boothook\necho no shebang\n'), 'b').problems, { severity: 'error', path: '', line: 1, column: 1, message: /no #! line after #cloud-boothook/ });
  assert.deepEqual(validateUserData(new Uint8Array(), 'empty').problems, [], 'empty user-data is fine');
  expectProblem(validateUserData(Buffer.from('#cloud-config\nhostname: caf\xe9\n', 'latin1'), 'l').problems, { severity: 'error', path: '', line: 2, column: 14, message: /not valid UTF-8/ });
});

test('merging follows merge_how in the part before the X-Merge-Type header', () => {
  const mime = [
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary=b',
    '',
    '--b',
    'Content-Type: text/cloud-config',
    '',
    '#cloud-config\nruncmd: [a]\nusers: [x]\nfinal_message: one',
    '--b',
    'Content-Type: text/cloud-config',
    'X-Merge-Type: list(append)+dict(no_replace,recurse_list)+str(append)',
    '',
    "#cloud-config\nmerge_how: 'list(prepend)+dict(no_replace,recurse_list)+str()'\nruncmd: [b]\nusers: [y]\nfinal_message: two",
    '--b--',
  ].join('\n');
  const r = validateUserData(Buffer.from(mime), 'm');
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.config, { runcmd: ['b', 'a'], users: ['y', 'x'], final_message: 'one' });
});
