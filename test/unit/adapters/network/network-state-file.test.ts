// networks.json on disk: missing = empty state, atomic replace (no temp files left), damage refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNetworkState, writeNetworkState } from '../../../../src/adapters/network/network-state-file.js';
import { readSysctl, sysctlPath } from '../../../../src/adapters/network/sysctl.js';
import { EMPTY_NETWORK_STATE, type NetworkState } from '../../../../src/core/containers/network-state.js';
import { DataLoss } from '../../../../src/lib/errors.js';
import { tempDir } from '../../../helpers.js';

const state: NetworkState = {
  version: 1,
  networks: [{ id: 'f'.repeat(64), name: 'none', driver: 'null', created: '2026-01-01T00:00:00.000Z', internal: false, icc: true, labels: {}, isDefault: false }],
  endpoints: [],
  sandboxes: [{ containerId: 'c1', netnsPath: '/run/atomic/netns/c1', ports: [] }],
};

test('a missing file is the empty state; a written one reads back; mode 0600; no temp files', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'networks.json');
  assert.deepEqual(await readNetworkState(file), EMPTY_NETWORK_STATE);
  await writeNetworkState(file, state);
  await writeNetworkState(file, { ...state, sandboxes: [] });
  assert.deepEqual(await readNetworkState(file), { ...state, sandboxes: [] });
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir), ['networks.json']);
  assert.match(readFileSync(file, 'utf8'), /^\{\n {2}"version": 1,/);
});

test('a damaged file is DataLoss, not an empty state (that would forget allocations)', async (t) => {
  const file = join(tempDir(t), 'networks.json');
  writeFileSync(file, '{"version":1,"networks":[');
  await assert.rejects(readNetworkState(file), (e: unknown) => e instanceof DataLoss && e.subject === file);
});

test('sysctl paths keep interface names whole; a missing key reads as undefined', async () => {
  assert.equal(sysctlPath('net', 'ipv4', 'conf', 'br-0123456789ab', 'route_localnet'), '/proc/sys/net/ipv4/conf/br-0123456789ab/route_localnet');
  assert.equal(await readSysctl(sysctlPath('net', 'ipv4', 'conf', 'no-such-if', 'route_localnet')), undefined);
  assert.match((await readSysctl(sysctlPath('net', 'ipv4', 'ip_local_port_range'))) ?? '', /^\d+\s+\d+$/);
});
