// MIME writing (make-mime format) and reading (Python email semantics).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeQuotedPrintable, filenameOf, makeMime, parseHeaderParams, parseMimeEntity } from '../../../../src/core/cloud-config/mime.js';
import { parseUserData } from '../../../../src/core/cloud-config/validate.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

const parts = [
  { filename: 'config.yaml', contentType: 'text/cloud-config', data: Buffer.from('#cloud-config\nhostname: a\n') },
  { filename: 'run.sh', contentType: 'text/x-shellscript', data: Buffer.from('#!/bin/sh\necho héllo\n') },
  { filename: 'blob', contentType: 'application/octet-stream', data: Buffer.from([0, 255, 1]) },
  { filename: 'no-newline', contentType: 'text/cloud-boothook', data: Buffer.from('#cloud-boothook\n#!/bin/sh\ntrue') },
];

test('makeMime writes cloud-init make-mime\'s layout, deterministically', () => {
  const out = Buffer.from(makeMime(parts.slice(0, 2), { boundary: 'BOUND' })).toString();
  assert.equal(
    out,
    [
      'Content-Type: multipart/mixed; boundary="BOUND"',
      'MIME-Version: 1.0',
      '',
      '--BOUND',
      'Content-Type: text/cloud-config; charset="us-ascii"',
      'MIME-Version: 1.0',
      'Content-Transfer-Encoding: 7bit',
      'Content-Disposition: attachment; filename="config.yaml"',
      '',
      '#cloud-config\nhostname: a\n',
      '--BOUND',
      'Content-Type: text/x-shellscript; charset="utf-8"',
      'MIME-Version: 1.0',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename="run.sh"',
      '',
      Buffer.from('#!/bin/sh\necho héllo\n').toString('base64'),
      '--BOUND--',
      '',
    ].join('\n'),
  );
  assert.deepEqual(makeMime(parts, { boundary: 'x' }), makeMime(parts, { boundary: 'x' }));
});

test('what makeMime writes parses back to the same parts and bytes', () => {
  const r = parseUserData(makeMime(parts, { boundary: '==b==' }), 'm');
  assert.deepEqual(r.parts.map((p) => [p.contentType, p.filename, Buffer.from(p.data).toString('hex')]), parts.map((p) => [p.contentType, p.filename, p.data.toString('hex')]));
});

test('makeMime refuses a boundary that occurs in a 7bit part, and bad types or boundaries', () => {
  const clash = [{ filename: 'a', contentType: 'text/plain', data: Buffer.from('x\n--b\ny\n') }];
  assert.throws(() => makeMime(clash, { boundary: 'b' }), (e) => e instanceof InvalidArgument && /MIME boundary --b/.test(e.message));
  assert.throws(() => makeMime(parts, { boundary: 'bad"quote' }), InvalidArgument);
  assert.throws(() => makeMime([{ filename: 'a', contentType: 'cloud-config', data: Buffer.from('') }], { boundary: 'b' }), /not type\/subtype/);
});

test('file names: quoted, escaped, and RFC 2231 for non-ASCII; read back either way', () => {
  const out = Buffer.from(makeMime([{ filename: 'a "q".yaml', contentType: 'text/plain', data: Buffer.from('x') }, { filename: 'été.yaml', contentType: 'text/plain', data: Buffer.from('y') }], { boundary: 'b' })).toString();
  assert.match(out, /filename="a \\"q\\".yaml"/);
  assert.match(out, /filename\*=utf-8''%C3%A9t%C3%A9.yaml/);
  assert.deepEqual(parseUserData(Buffer.from(out)).parts.map((p) => p.filename), ['a "q".yaml', 'été.yaml']);
});

test('header parameters: quotes, escapes, RFC 2231 continuations, Content-Type name fallback', () => {
  const p = parseHeaderParams('attachment; filename="a;b.txt"; x=1; title*0*=utf-8\'\'%E2%82%AC; title*1=" rate"');
  assert.equal(p.value, 'attachment');
  assert.equal(p.params.get('filename'), 'a;b.txt');
  assert.equal(p.params.get('x'), '1');
  assert.equal(p.params.get('title'), '€ rate');
  assert.equal(filenameOf(parseMimeEntity('Content-Type: text/plain; name="n.txt"\n\nbody')), 'n.txt');
});

test('headers: folded lines, a body without a blank line, and Python\'s text/plain default', () => {
  const e = parseMimeEntity('Content-Type: text/x-shellscript;\n  charset=us-ascii\nX-A: 1\n#!/bin/sh\necho\n');
  assert.equal(e.headers.length, 2);
  assert.match(e.headers[0]?.value ?? '', /charset=us-ascii/);
  assert.equal(e.body, '#!/bin/sh\necho\n');
});

test('quoted-printable: escapes, soft line breaks, malformed escapes kept', () => {
  assert.equal(Buffer.from(decodeQuotedPrintable('a=3Db=\nc =C3=A9 =ZZ\n')).toString(), 'a=bc é =ZZ\n');
  assert.equal(Buffer.from(decodeQuotedPrintable('soft=  \r\nbreak')).toString(), 'softbreak');
});
