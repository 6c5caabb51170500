import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/agent/logger.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('logs JSON lines with level names, time, name and fields', () => {
  const c = capture();
  const log = createLogger({ level: 'info', destination: c.stream });
  log.info({ datasource: 'NoCloud' }, 'found a seed');
  log.debug('not shown at info');
  const [line, ...rest] = c.lines();
  assert.equal(rest.length, 0);
  assert.equal(line!.level, 'info');
  assert.equal(line!.name, 'atomicd');
  assert.equal(line!.msg, 'found a seed');
  assert.equal(line!.datasource, 'NoCloud');
  assert.match(String(line!.time), /^\d{4}-\d{2}-\d{2}T/);
});

test('secrets are redacted wherever a logged object carries them', () => {
  const c = capture();
  const log = createLogger({ level: 'info', destination: c.stream });
  const token = 'AQAEAFTNrA4eEGx0AQgJ1arIq_Cc-t4tWt3fB0Hd8QZXYTOKEN';
  log.info({ token, request: { headers: { 'x-aws-ec2-metadata-token': token, authorization: 'Basic dXNlcjpwYXNz' } }, user: { name: 'ops', passwd: '$6$salt$hash' } }, 'imds');
  const text = JSON.stringify(c.lines());
  assert.ok(!text.includes(token), text);
  assert.ok(!text.includes('dXNlcjpwYXNz'), text);
  assert.ok(!text.includes('$6$salt$hash'), text);
  assert.ok(text.includes('"name":"ops"'), 'non-secret fields stay');
  assert.ok(text.includes('[redacted]'));
});
