// POST /networks/create bodies as the docker CLI and compose send them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkCreateRequest, validateBridgeName } from '../../../../src/core/containers/network-create-request.js';
import { InvalidArgument, Unimplemented } from '../../../../src/lib/errors.js';

test('docker network create --subnet --gateway --internal -o enable_icc=false --label', () => {
  const r = networkCreateRequest({
    Name: 'backend', CheckDuplicate: true, Driver: 'bridge', Internal: true, Attachable: false, Ingress: false, EnableIPv6: false,
    IPAM: { Driver: 'default', Config: [{ Subnet: '10.5.0.0/16', Gateway: '10.5.0.254' }], Options: {} },
    Options: { 'com.docker.network.bridge.enable_icc': 'false', 'com.docker.network.bridge.name': 'back0' },
    Labels: { team: 'db' },
  });
  assert.deepEqual(r, {
    options: { name: 'backend', driver: 'bridge', subnet: '10.5.0.0/16', gateway: '10.5.0.254', internal: true, icc: false, bridgeName: 'back0', labels: { team: 'db' } },
    warnings: [],
  });
});

test('the minimal body the CLI sends for `docker network create x`', () => {
  assert.deepEqual(networkCreateRequest({ Name: 'x', Driver: 'bridge', IPAM: { Driver: 'default', Config: [] }, Options: {}, Labels: null }), {
    options: { name: 'x', driver: 'bridge', labels: {} }, warnings: [],
  });
  assert.deepEqual(networkCreateRequest({ Name: 'y' }).options, { name: 'y', labels: {} });
});

test('unsupported options: a warning; default values: silent', () => {
  const r = networkCreateRequest({ Name: 'x', Options: { 'com.docker.network.driver.mtu': '1400', 'com.docker.network.bridge.enable_ip_masquerade': 'true' } });
  assert.deepEqual(r.warnings, ['network option com.docker.network.driver.mtu=1400 is not supported and was ignored']);
});

test('refusals name the field', () => {
  const cases: [unknown, new (...a: never[]) => Error, string][] = [
    [null, InvalidArgument, 'body'],
    [{}, InvalidArgument, 'Name'],
    [{ Name: 'a b' }, InvalidArgument, 'Name'],
    [{ Name: 'x', Driver: 'overlay' }, InvalidArgument, 'Driver'],
    [{ Name: 'x', Attachable: true }, Unimplemented, 'Attachable'],
    [{ Name: 'x', EnableIPv6: true }, Unimplemented, 'EnableIPv6'],
    [{ Name: 'x', Internal: 'yes' }, InvalidArgument, 'Internal'],
    [{ Name: 'x', Labels: { a: 1 } }, InvalidArgument, 'Labels.a'],
    [{ Name: 'x', Options: { 'com.docker.network.bridge.enable_icc': 'no' } }, InvalidArgument, 'com.docker.network.bridge.enable_icc'],
    [{ Name: 'x', Options: { 'com.docker.network.bridge.name': 'a/b' } }, InvalidArgument, 'com.docker.network.bridge.name'],
    [{ Name: 'x', IPAM: { Driver: 'dhcp' } }, InvalidArgument, 'IPAM.Driver'],
    [{ Name: 'x', IPAM: { Config: [{ Subnet: '10.0.0.0/8' }, { Subnet: '11.0.0.0/8' }] } }, Unimplemented, 'IPAM.Config'],
    [{ Name: 'x', IPAM: { Config: [{ Subnet: '10.0.0.0/8', IPRange: '10.1.0.0/16' }] } }, Unimplemented, 'IPAM.Config[0].IPRange'],
    [{ Name: 'x', IPAM: { Config: [{ Subnet: 'fd00::/64' }] } }, Unimplemented, 'IPAM.Config[0].Subnet'],
    [{ Name: 'x', IPAM: { Config: [{ Subnet: 10 }] } }, InvalidArgument, 'IPAM.Config[0].Subnet'],
  ];
  for (const [body, cls, subject] of cases) {
    assert.throws(() => networkCreateRequest(body), (e: unknown) => e instanceof cls && (e as InvalidArgument).subject === subject, JSON.stringify(body));
  }
});

test('bridge names are interface names', () => {
  assert.equal(validateBridgeName('br-0123456789ab'), 'br-0123456789ab');
  for (const bad of ['', '.', '..', 'x'.repeat(16), 'a b', 'a:b', 'a/b']) assert.throws(() => validateBridgeName(bad), InvalidArgument, bad);
});
