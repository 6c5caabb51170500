// network-config v1 and v2 (netplan), bare and under `network:`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateNetworkConfig } from '../../../../src/core/cloud-config/validate.js';
import { isIPv6, parseCidr } from '../../../../src/core/cloud-config/net-address.js';
import { expectClean, expectProblem } from './check-helpers.js';

const check = (text: string): ReturnType<typeof validateNetworkConfig> => validateNetworkConfig(Buffer.from(text), 'net');

test('addresses: IPv4, IPv6 with ::, CIDR and netmask prefixes', () => {
  for (const a of ['::1', '2001:db8::1', 'fe80::1%eth0', '::ffff:192.0.2.1', '1:2:3:4:5:6:7:8']) assert.ok(isIPv6(a), a);
  for (const a of ['1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', 'g::1', ':']) assert.ok(!isIPv6(a), a);
  assert.deepEqual(parseCidr('192.0.2.1/24'), { version: 4, address: '192.0.2.1', prefix: 24 });
  assert.deepEqual(parseCidr('192.0.2.1/255.255.255.0'), { version: 4, address: '192.0.2.1', prefix: 24 });
  assert.equal(parseCidr('192.0.2.1/33'), undefined);
  assert.equal(parseCidr('192.0.2.256'), undefined);
  assert.equal(parseCidr('010.0.0.1'), undefined);
});

test('a typical v1 config is clean', () => {
  const r = check(
    'version: 1\nconfig:\n  - type: physical\n    name: eth0\n    mac_address: "52:54:00:12:34:56"\n    subnets:\n      - type: static\n        address: 192.0.2.10/24\n        gateway: 192.0.2.1\n        dns_nameservers: [192.0.2.53]\n      - type: dhcp6\n  - type: bond\n    name: bond0\n    bond_interfaces: [eth1, eth2]\n    params: {bond-mode: active-backup}\n  - type: vlan\n    name: eth0.100\n    vlan_link: eth0\n    vlan_id: 100\n  - type: nameserver\n    address: [8.8.8.8]\n    search: [example.com]\n  - type: route\n    destination: 0.0.0.0/0\n    gateway: 192.0.2.1\n',
  );
  expectClean(r.problems);
  assert.equal(r.version, 1);
});

test('v1 problems are located', () => {
  const r = check(
    [
      'network:',
      '  version: 1',
      '  config:',
      '    - type: physical', //                 4
      '      mac_address: 52:54:00:12:34:56', // 5  YAML 1.1: a base-60 integer
      '      subnets:',
      '        - type: static', //               7
      '        - type: dhcp9', //                8
      '        - type: static', //               9
      '          address: 10.0.0.5', //          10 no prefix: cloud-init picks /24
      '    - type: vlan', //                     11
      '      name: v1',
      '      vlan_link: eth0',
      '      vlan_id: 5000', //                  14
      '    - type: wireless', //                 15
      '',
    ].join('\n'),
  );
  expectProblem(r.problems, { severity: 'error', path: '/network/config/0', line: 4, column: 7, message: /missing required key 'name'/ });
  expectProblem(r.problems, { severity: 'error', path: '/network/config/0/mac_address', line: 5, column: 20, message: /base-60 integer/ });
  expectProblem(r.problems, { severity: 'error', path: '/network/config/0/subnets/0', line: 7, column: 11, message: /needs 'address'/ });
  expectProblem(r.problems, { severity: 'error', path: '/network/config/0/subnets/1/type', line: 8, column: 17, message: /did you mean dhcp/ });
  expectProblem(r.problems, { severity: 'warning', path: '/network/config/0/subnets/2/address', line: 10, column: 20, message: /assumes \/24/ });
  expectProblem(r.problems, { severity: 'error', path: '/network/config/1/vlan_id', line: 14, column: 16, message: /maximum 4094/ });
  expectProblem(r.problems, { severity: 'error', path: '/network/config/2/type', line: 15, column: 13, message: /type must be one of/ });
});

test('a typical v2 config is clean', () => {
  const r = check(
    'network:\n  version: 2\n  ethernets:\n    nic0:\n      match: {macaddress: "52:54:00:12:34:56"}\n      set-name: eth0\n      addresses: [192.0.2.10/24, "2001:db8::10/64"]\n      routes: [{to: default, via: 192.0.2.1}]\n      nameservers: {addresses: [192.0.2.53], search: [example.com]}\n    eth1: {dhcp4: false}\n    eth2: {dhcp4: no}\n  bonds:\n    bond0:\n      interfaces: [eth1, eth2]\n      parameters: {mode: 802.3ad, mii-monitor-interval: 100}\n      dhcp4: true\n  vlans:\n    vlan10: {id: 10, link: bond0, dhcp4: yes}\n',
  );
  expectClean(r.problems);
  assert.equal(r.version, 2);
  assert.deepEqual((r.config as { ethernets: { eth2: unknown } }).ethernets.eth2, { dhcp4: false });
});

test('v2 problems are located, references checked', () => {
  const r = check(
    [
      'version: 2',
      'ethernets:',
      '  eth0:',
      '    addresses: [192.0.2.10]', //          4  no prefix length
      '    gateway4: 192.0.2.1', //              5  deprecated in netplan
      '    set-name: lan0', //                   6  without match
      '    routes: [{via: 192.0.2.1}]', //       7  no 'to'
      'bonds:',
      '  bond0:',
      '    interfaces: [eth0, eth9]', //         10 eth9 undefined
      '    parameters: {mode: active-passive}', // 11
      'bridges:',
      '  br0: {interfaces: [eth0]}', //          13 eth0 already in bond0
      'vlans:',
      '  v: {id: 1, link: nope}', //             15
      'tunnels: {}', //                          16 not known to cloud-init
      '',
    ].join('\n'),
  );
  expectProblem(r.problems, { severity: 'error', path: '/ethernets/eth0/addresses/0', line: 4, column: 17, message: /prefix length/ });
  expectProblem(r.problems, { severity: 'warning', path: '/ethernets/eth0/gateway4', line: 5, column: 5, message: /deprecated in netplan/ });
  expectProblem(r.problems, { severity: 'error', path: '/ethernets/eth0/set-name', line: 6, column: 5, message: /needs a match/ });
  expectProblem(r.problems, { severity: 'error', path: '/ethernets/eth0/routes/0', line: 7, column: 14, message: /missing required key 'to'/ });
  expectProblem(r.problems, { severity: 'error', path: '/bonds/bond0/interfaces/1', line: 10, column: 24, message: /'eth9' is not defined/ });
  expectProblem(r.problems, { severity: 'error', path: '/bonds/bond0/parameters/mode', line: 11, column: 24, message: /is not one of/ });
  expectProblem(r.problems, { severity: 'error', path: '/bridges/br0/interfaces/0', line: 13, column: 22, message: /already a member of bonds\/bond0/ });
  expectProblem(r.problems, { severity: 'error', path: '/vlans/v/link', line: 15, column: 20, message: /'nope' is not defined/ });
  expectProblem(r.problems, { severity: 'warning', path: '/tunnels', line: 16, column: 1, message: /does not check it/ });
});

test('version, disabled, and documents that are not network-config', () => {
  expectProblem(check('config: []\n').problems, { severity: 'error', path: '', line: 1, column: 1, message: /missing required key 'version'/ });
  expectProblem(check('version: 3\n').problems, { severity: 'error', path: '/version', line: 1, column: 10, message: /1 or 2/ });
  expectProblem(check('version: "2"\n').problems, { severity: 'error', path: '/version', line: 1, column: 10, message: /got a string/ });
  assert.deepEqual(check('network: {config: disabled}\n'), { config: { config: 'disabled' }, disabled: true, problems: [] });
  expectProblem(check('- a\n').problems, { severity: 'error', path: '', line: 1, column: 1, message: /mapping with a version/ });
  expectProblem(check('{"version": 2, "ethernets": {"e": {"dhcp4": "true"}}}').problems, { severity: 'error', path: '/ethernets/e/dhcp4', line: 1, column: 45, message: /expected a boolean/ });
});
