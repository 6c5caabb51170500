// The pure parts of /networks: list filters and the connect body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesNetworkFilters, parseConnectBody } from '../../../../../src/agent/api/compat/networks.js';
import { parseFilters } from '../../../../../src/agent/api/compat/filters.js';
import type { NetworkResource } from '../../../../../src/core/containers/network-state.js';
import { InvalidArgument } from '../../../../../src/lib/errors.js';

const net = (name: string, driver: NetworkResource['Driver'], labels: Record<string, string> = {}): NetworkResource => ({
  Name: name, Id: `${name.charCodeAt(0).toString(16)}${'0'.repeat(62)}`, Created: '', Scope: 'local', Driver: driver, EnableIPv6: false,
  IPAM: { Driver: 'default', Options: null, Config: [] }, Internal: false, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
  Containers: {}, Options: {}, Labels: labels,
});

const all = [net('bridge', 'bridge'), net('host', 'host'), net('none', 'null'), net('appnet', 'bridge', { suite: 'net', tier: 'web' })];
const names = (filters: string): string[] => all.filter((n) => matchesNetworkFilters(n, parseFilters(filters, ['name', 'id', 'driver', 'type', 'label', 'scope']))).map((n) => n.Name);

test('network list filters: name (substring), driver, type custom|builtin, label, id; values of one key are ORed', () => {
  assert.deepEqual(names(''), ['bridge', 'host', 'none', 'appnet']);
  assert.deepEqual(names('{"name":{"app":true}}'), ['appnet']);
  assert.deepEqual(names('{"name":{"host":true,"none":true}}'), ['host', 'none']);
  assert.deepEqual(names('{"driver":{"bridge":true}}'), ['bridge', 'appnet']);
  assert.deepEqual(names('{"type":{"custom":true}}'), ['appnet']);
  assert.deepEqual(names('{"type":{"builtin":true}}'), ['bridge', 'host', 'none']);
  assert.deepEqual(names('{"label":{"suite=net":true}}'), ['appnet']);
  assert.deepEqual(names('{"label":{"suite=other":true}}'), []);
  assert.deepEqual(names('{"label":{"tier":true},"driver":{"host":true}}'), []);
  assert.deepEqual(names(`{"id":{"${'61'}":true}}`), ['appnet']);
  assert.throws(() => names('{"type":{"weird":true}}'), InvalidArgument);
});

test('connect body: container required, aliases and IPv4Address taken, wrong types refused naming the field', () => {
  assert.deepEqual(parseConnectBody({ Container: 'web' }), { container: 'web', aliases: [] });
  assert.deepEqual(parseConnectBody({ Container: 'web', EndpointConfig: { Aliases: ['db'], IPAMConfig: { IPv4Address: '172.18.0.9' } } }), { container: 'web', aliases: ['db'], ipv4Address: '172.18.0.9' });
  assert.deepEqual(parseConnectBody({ Container: 'web', EndpointConfig: { Aliases: null, IPAMConfig: { IPv4Address: '' } } }), { container: 'web', aliases: [] });
  for (const [body, subject] of [
    [{}, 'Container'],
    [{ Container: 7 }, 'Container'],
    [{ Container: 'web', EndpointConfig: [] }, 'EndpointConfig'],
    [{ Container: 'web', EndpointConfig: { Aliases: 'db' } }, 'EndpointConfig.Aliases'],
    [{ Container: 'web', EndpointConfig: { IPAMConfig: { IPv4Address: 5 } } }, 'EndpointConfig.IPAMConfig.IPv4Address'],
    [{ Container: 'web', EndpointConfig: { IPAMConfig: { IPv6Address: 'fd00::2' } } }, 'EndpointConfig.IPAMConfig.IPv6Address'],
  ] as const) {
    assert.throws(() => parseConnectBody(body as Record<string, unknown>), (e: unknown) => e instanceof InvalidArgument && e.subject === subject, JSON.stringify(body));
  }
});
