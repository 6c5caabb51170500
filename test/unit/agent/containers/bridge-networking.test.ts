// The membership file of BridgeNetworking (connect/disconnect changes kept across agent restarts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMemberships } from '../../../../src/agent/containers/bridge-networking.js';
import { DataLoss } from '../../../../src/lib/errors.js';

test('membership file: a version 1 file is read back; damaged ones are DataLoss naming the file', () => {
  const ok = { version: 1, containers: { ['c'.repeat(64)]: [{ network: 'n'.repeat(64), aliases: ['db'] }] } };
  assert.deepEqual(parseMemberships(JSON.stringify(ok), '/s/f.json'), ok);
  for (const text of ['{', '[]', '{"version":2,"containers":{}}', '{"version":1}', '{"version":1,"containers":{"x":{}}}', '{"version":1,"containers":{"x":[{"network":5}]}}']) {
    assert.throws(() => parseMemberships(text, '/s/f.json'), (e: unknown) => e instanceof DataLoss && e.subject === '/s/f.json', text);
  }
});
