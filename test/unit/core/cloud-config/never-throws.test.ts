// Property: the validators return a report for any input (strings, YAML-ish token soup, random
// cloud-config documents, MIME-ish messages, random bytes); they never throw, and every problem
// has a severity, a file, a JSON pointer and a 1-based position.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { makeMime } from '../../../../src/core/cloud-config/mime.js';
import { CLOUD_CONFIG_SCHEMA } from '../../../../src/core/cloud-config/schema.js';
import { detectConfigKind, validateMetaData, validateNetworkConfig, validateUserData, type Problem } from '../../../../src/core/cloud-config/validate.js';

function wellFormed(problems: readonly Problem[]): void {
  for (const p of problems) {
    assert.ok(p.severity === 'error' || p.severity === 'warning');
    assert.equal(typeof p.file, 'string');
    assert.ok(p.path === '' || p.path.startsWith('/'), p.path);
    assert.ok(Number.isInteger(p.line) && p.line >= 1, JSON.stringify(p));
    assert.ok(Number.isInteger(p.column) && p.column >= 1, JSON.stringify(p));
    assert.ok(p.message.length > 0);
  }
}

function validateAll(data: Uint8Array): void {
  wellFormed(validateUserData(data, 'u').problems);
  wellFormed(validateNetworkConfig(data, 'n').problems);
  wellFormed(validateMetaData(data, 'm').problems);
  assert.ok(['user-data', 'vendor-data', 'meta-data', 'network-config'].includes(detectConfigKind('f', data)));
}

const TOKENS = [
  '#cloud-config\n', '#cloud-config-archive\n', '#include\n', '#!/bin/sh\n', '\n', '  ', '- ', ': ', ':', '[', ']', '{', '}', ',', '&a ', '*a', '<<: ', '!!binary ',
  '!!str ', '!!int ', '!foo ', '? ', '|', '>', '"', "'", '\\', '\t', '\r\n', '\ufeff', '\u0007', 'yes', 'no', '0644', '22:22', '2030-01-01', '1e3', '.inf',
  'runcmd', 'write_files', 'users', 'path', 'permissions', 'containers', 'image', 'ports', 'version', 'ethernets', 'config', 'instance-id', 'network', '---\n', '...\n',
  'MIME-Version: 1.0\n', 'Content-Type: multipart/mixed; boundary=b\n', '--b\n', '--b--\n', 'Content-Transfer-Encoding: base64\n', 'Content-Type: application/x-gzip\n',
];

const keys = fc.constantFrom(...Object.keys(CLOUD_CONFIG_SCHEMA.properties), 'name', 'path', 'image', 'ports', 'mode', 'type', 'sudo', 'update', 'strategy', 'content', 'encoding');
const { value: yamlValue } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string(),
    fc.constantFrom('0644', '22:22', 'yes', 'now', '+5', 'reboot', '/etc/x', 'b64', 'gz+b64', 'aGk=', 'nginx', '8080:80', 'default', 'ALL=(ALL) ALL'),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(keys, fc.string()), tie('value'), { maxKeys: 5 }),
  ),
}));

test('never throws on arbitrary strings', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
      validateAll(Buffer.from(s, 'utf8'));
      validateAll(Buffer.from(`#cloud-config\n${s}`, 'utf8'));
    }),
    { numRuns: 300 },
  );
});

test('never throws on YAML-ish token soup', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }), (tokens) => {
      validateAll(Buffer.from(tokens.join(''), 'utf8'));
    }),
    { numRuns: 1000 },
  );
});

test('never throws on random cloud-config documents, plain, archived or in MIME', () => {
  fc.assert(
    fc.property(fc.dictionary(keys, yamlValue, { maxKeys: 8 }), fc.nat(3), (doc, form) => {
      const yaml = `#cloud-config\n${stringify(doc, { version: '1.1' })}`;
      let data: Uint8Array = Buffer.from(yaml);
      if (form === 1) data = Buffer.from(`#cloud-config-archive\n${stringify([{ content: yaml }, yaml], { version: '1.1' })}`);
      if (form === 2) data = makeMime([{ filename: 'a', contentType: 'text/cloud-config', data: Buffer.from(yaml) }, { filename: 'b', contentType: 'text/x-shellscript', data: Buffer.from('#!/bin/sh\n') }], { boundary: 'XYZ' });
      if (form === 3) data = gzipSync(yaml);
      validateAll(data);
      wellFormed(validateNetworkConfig(Buffer.from(stringify({ network: { version: 2, ethernets: doc } })), 'n').problems);
    }),
    { numRuns: 300 },
  );
});

test('never throws on random bytes, with and without a gzip header', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      validateAll(bytes);
      validateAll(Buffer.concat([Buffer.from([0x1f, 0x8b]), bytes]));
      validateAll(gzipSync(bytes));
    }),
    { numRuns: 300 },
  );
});

test('never throws on MIME-ish messages', () => {
  const header = fc.constantFrom(
    'Content-Type: multipart/mixed; boundary="b"', 'Content-Type: multipart/alternative; boundary=c', 'Content-Type: text/cloud-config', 'Content-Type: text/plain; charset=latin1',
    'Content-Type: application/x-gzip', 'Content-Type: text/x-include-url', 'Content-Type: text/cloud-config-archive', 'Content-Transfer-Encoding: base64',
    'Content-Transfer-Encoding: quoted-printable', 'Content-Disposition: attachment; filename*=utf-8\'\'%FF%FE', 'X-Merge-Type: list(append', ' folded', 'MIME-Version: 1.0',
  );
  const line = fc.oneof(header, fc.constantFrom('', '--b', '--b--', '--c', '--c--', '#cloud-config', 'a: [', '#!/bin/sh', 'aGVsbG8=', '=C3=A9=', 'http://x'), fc.string({ maxLength: 20 }));
  fc.assert(
    fc.property(fc.array(line, { maxLength: 40 }), (lines) => {
      validateAll(Buffer.from(['MIME-Version: 1.0', ...lines].join('\n'), 'utf8'));
    }),
    { numRuns: 1000 },
  );
});
