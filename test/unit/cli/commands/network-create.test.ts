// atomic network create: flags -> the Engine API NetworkCreateRequest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkCreateBody } from '../../../../src/cli/commands/network-create.js';
import { networkCreateRequest } from '../../../../src/core/containers/network-create-request.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

test('network create flags become the body docker network create sends, which the agent accepts', () => {
  const body = networkCreateBody('appnet', { subnet: '10.1.0.0/24', gateway: '10.1.0.254', internal: true, opt: ['com.docker.network.bridge.enable_icc=false'], label: ['suite=net', 'bare'] });
  assert.deepEqual(body, {
    Name: 'appnet', Driver: 'bridge', Internal: true,
    IPAM: { Driver: 'default', Config: [{ Subnet: '10.1.0.0/24', Gateway: '10.1.0.254' }] },
    Options: { 'com.docker.network.bridge.enable_icc': 'false' }, Labels: { suite: 'net', bare: '' },
  });
  assert.deepEqual(networkCreateRequest(body).options, { name: 'appnet', driver: 'bridge', subnet: '10.1.0.0/24', gateway: '10.1.0.254', internal: true, icc: false, labels: { suite: 'net', bare: '' } });
  assert.deepEqual(networkCreateBody('n2', {}).IPAM, { Driver: 'default', Config: [] });
  assert.throws(() => networkCreateBody('n3', { gateway: '10.0.0.1' }), InvalidArgument);
  assert.throws(() => networkCreateBody('n4', { opt: ['novalue'] }), InvalidArgument);
});
