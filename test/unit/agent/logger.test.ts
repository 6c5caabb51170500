import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLazyLogger, createLogger, type AgentLog } from '../../../src/agent/logger.js';

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

test('the lazy logger writes what the pino logger writes, only at enabled levels, secrets redacted', () => {
  const eager = capture();
  const lazy = capture();
  const logs: AgentLog[] = [createLogger({ level: 'warn', destination: eager.stream }), createLazyLogger({ level: 'warn', destination: lazy.stream })];
  const err = new Error('disk on fire');
  for (const log of logs) {
    log.info({ seed: '/dev/sr0' }, 'below the level');
    log.debug('below the level too');
    log.warn({ device: '/dev/vda', token: 'SECRET-TOKEN' }, 'cannot read the device');
    log.error({ err }, 'provisioning failed');
    log.fatal('bare message');
  }
  const strip = (lines: Record<string, unknown>[]): Record<string, unknown>[] => lines.map(({ time, ...rest }) => {
    assert.match(String(time), /^\d{4}-\d{2}-\d{2}T/);
    return rest;
  });
  const got = strip(lazy.lines());
  assert.deepEqual(got, strip(eager.lines()));
  assert.deepEqual(got.map((l) => [l.level, l.msg]), [['warn', 'cannot read the device'], ['error', 'provisioning failed'], ['fatal', 'bare message']]);
  assert.equal(got[0]!.token, '[redacted]');
  assert.equal((got[1]!.err as { message?: string }).message, 'disk on fire');
});

test('a silent lazy logger writes nothing', () => {
  let writes = 0;
  const stream = new Writable({
    write(_chunk: Buffer, _enc, cb) {
      writes++;
      cb();
    },
  });
  const log = createLazyLogger({ level: 'silent', destination: stream });
  log.fatal({ a: 1 }, 'not written');
  log.error('not written');
  assert.equal(writes, 0);
});
