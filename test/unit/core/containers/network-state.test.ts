// Network state lookups, name rules, Docker's NetworkResource shape, and refusing a damaged file.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EMPTY_NETWORK_STATE, findNetwork, networkResource, parseNetworkState, requireNetwork, validateNetworkName, type NetworkRecord, type NetworkState,
} from '../../../../src/core/containers/network-state.js';
import { DataLoss, InvalidArgument, NotFound } from '../../../../src/lib/errors.js';

const net = (id: string, name: string, extra: Partial<NetworkRecord> = {}): NetworkRecord => ({
  id, name, driver: 'bridge', created: '2026-01-01T00:00:00.000Z', bridge: `br-${id.slice(0, 12)}`, subnet: '172.18.0.0/16', gateway: '172.18.0.1',
  internal: false, icc: true, labels: {}, isDefault: false, ...extra,
});

const A = 'a'.repeat(60) + '0001';
const B = 'a'.repeat(60) + '0002';
const state: NetworkState = {
  ...EMPTY_NETWORK_STATE,
  networks: [net(A, 'front'), net(B, A.slice(0, 8)), net('b'.repeat(64), 'bridge', { bridge: 'atomic0', isDefault: true, subnet: '172.17.0.0/16', gateway: '172.17.0.1' })],
  endpoints: [{ id: 'e'.repeat(64), containerId: 'c'.repeat(64), networkId: A, ifname: 'eth0', hostIfname: 'veth1234567', ip: '172.18.0.2', prefixLen: 16, gateway: '172.18.0.1', mac: '02:42:ac:12:00:02', aliases: [] }],
};

describe('findNetwork (Docker: full ID, exact name, unique ID prefix)', () => {
  test('order', () => {
    assert.equal(findNetwork(state, A)?.name, 'front');
    assert.equal(findNetwork(state, 'front')?.id, A);
    // A name that looks like an ID prefix wins over the prefix match.
    assert.equal(findNetwork(state, A.slice(0, 8))?.id, B);
    assert.equal(findNetwork(state, 'bbbb')?.name, 'bridge');
    assert.equal(findNetwork(state, 'nope'), undefined);
  });
  test('ambiguous prefix and missing network', () => {
    assert.throws(() => findNetwork(state, 'aaaa'), (e: unknown) => e instanceof InvalidArgument && /ambiguous/.test(e.message));
    assert.throws(() => requireNetwork(state, 'nope'), (e: unknown) => e instanceof NotFound && e.message === 'network nope not found');
  });
});

test('validateNetworkName', () => {
  for (const ok of ['a', 'my-net', 'my_net.2', 'X9']) assert.equal(validateNetworkName(ok), ok);
  for (const bad of ['', '-x', '.x', 'a/b', 'a b', 'é', 'x'.repeat(129), 5]) {
    assert.throws(() => validateNetworkName(bad), (e: unknown) => e instanceof InvalidArgument && e.subject === 'Name', String(bad));
  }
});

test('networkResource: Docker GET /networks/{id}', () => {
  const r = networkResource(state, state.networks[0] as NetworkRecord, { ['c'.repeat(64)]: 'web' });
  assert.deepEqual(r, {
    Name: 'front', Id: A, Created: '2026-01-01T00:00:00.000Z', Scope: 'local', Driver: 'bridge', EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }] },
    Internal: false, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
    Containers: { ['c'.repeat(64)]: { Name: 'web', EndpointID: 'e'.repeat(64), MacAddress: '02:42:ac:12:00:02', IPv4Address: '172.18.0.2/16', IPv6Address: '' } },
    Options: { 'com.docker.network.bridge.name': `br-${A.slice(0, 12)}`, 'com.docker.network.bridge.enable_icc': 'true' },
    Labels: {},
  });
  const d = networkResource(state, state.networks[2] as NetworkRecord);
  assert.equal(d.Options['com.docker.network.bridge.default_bridge'], 'true');
  assert.deepEqual(d.Containers, {});
});

describe('parseNetworkState', () => {
  test('round trip', () => {
    assert.deepEqual(parseNetworkState(JSON.stringify(state), 'networks.json'), state);
  });
  test('damaged files are DataLoss naming the file', () => {
    for (const text of ['{', '[]', '{"version":2,"networks":[],"endpoints":[],"sandboxes":[]}', '{"version":1,"networks":[{}],"endpoints":[],"sandboxes":[]}',
      '{"version":1,"networks":[],"endpoints":[{"containerId":1}],"sandboxes":[]}', '{"version":1,"networks":[],"endpoints":[],"sandboxes":[{"containerId":"x"}]}']) {
      assert.throws(() => parseNetworkState(text, '/s/networks.json'), (e: unknown) => e instanceof DataLoss && e.subject === '/s/networks.json', text);
    }
  });
});
