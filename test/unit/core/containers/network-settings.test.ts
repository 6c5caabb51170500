// NetworkSettings as docker inspect shows them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointSettings, networksByName, portMap, type EndpointView } from '../../../../src/core/containers/network-settings.js';

const ep: EndpointView = {
  networkId: 'n'.repeat(64), networkName: 'bridge', endpointId: 'e'.repeat(64), ip: '172.17.0.2', prefixLen: 16, gateway: '172.17.0.1', mac: '02:42:ac:11:00:02', aliases: [],
};

test('endpoint settings on the default bridge and on a user network', () => {
  assert.deepEqual(endpointSettings(ep), {
    IPAMConfig: null, Links: null, Aliases: null, MacAddress: '02:42:ac:11:00:02', NetworkID: 'n'.repeat(64), EndpointID: 'e'.repeat(64), Gateway: '172.17.0.1',
    IPAddress: '172.17.0.2', IPPrefixLen: 16, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DriverOpts: null, DNSNames: null,
  });
  const user = endpointSettings({ ...ep, networkName: 'app', aliases: ['db'], requestedIPv4Address: '10.0.0.9' }, 'web');
  assert.deepEqual(user.IPAMConfig, { IPv4Address: '10.0.0.9' });
  assert.deepEqual(user.Aliases, ['db']);
  assert.deepEqual(user.DNSNames, ['web', 'db', 'eeeeeeeeeeee']);
  assert.deepEqual(Object.keys(networksByName([ep, { ...ep, networkName: 'app' }])), ['bridge', 'app']);
});

test('port map: exposed-only ports are null, published ones list their bindings', () => {
  const pub = (proto: 'tcp' | 'udp', hostIp: string, hostPort: number, containerPort: number) => ({ proto, hostIp, hostPort, containerPort, containerIp: '172.17.0.2', bridge: 'atomic0', networkId: 'n' });
  assert.deepEqual(portMap(['80/tcp', '443/tcp', '9000'], [pub('tcp', '', 8080, 80), pub('tcp', '127.0.0.1', 8081, 80), pub('udp', '', 5353, 53)]), {
    '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '8081' }],
    '443/tcp': null,
    '9000/tcp': null,
    '53/udp': [{ HostIp: '0.0.0.0', HostPort: '5353' }],
  });
});
