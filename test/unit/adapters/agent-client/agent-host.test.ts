import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseHost, formatEndpoint, parseAgentHost } from '../../../../src/adapters/agent-client/agent-host.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

test('-H wins over ATOMIC_HOST, which wins over the default socket', () => {
  assert.deepEqual(chooseHost('unix:///a.sock', { ATOMIC_HOST: 'unix:///b.sock' }), { url: 'unix:///a.sock', from: '-H' });
  assert.deepEqual(chooseHost(undefined, { ATOMIC_HOST: 'unix:///b.sock' }), { url: 'unix:///b.sock', from: 'ATOMIC_HOST' });
  assert.deepEqual(chooseHost(undefined, {}), { url: 'unix:///run/atomic/atomic.sock', from: 'the default' });
  assert.deepEqual(chooseHost('', { ATOMIC_HOST: '' }).url, 'unix:///run/atomic/atomic.sock');
});

test('unix and tcp addresses; TLS goes with tcp', () => {
  assert.deepEqual(parseAgentHost('unix:///run/x.sock'), { kind: 'unix', path: '/run/x.sock' });
  assert.deepEqual(parseAgentHost('/run/x.sock'), { kind: 'unix', path: '/run/x.sock' });
  assert.deepEqual(parseAgentHost('tcp://127.0.0.1:2376'), { kind: 'tcp', host: '127.0.0.1', port: 2376 });
  assert.deepEqual(parseAgentHost('tcp://[::1]:2375'), { kind: 'tcp', host: '::1', port: 2375 });
  const tls = { ca: Buffer.from('a'), cert: Buffer.from('b'), key: Buffer.from('c') };
  assert.equal(parseAgentHost('tcp://h:1', '-H', tls).kind, 'tcp');
  assert.equal(formatEndpoint(parseAgentHost('tcp://[::1]:2375')), 'tcp://[::1]:2375');
  for (const bad of ['unix://relative.sock', 'tcp://host', 'tcp://host:99999', 'ftp://x:1', 'host:1', 'https://h:1']) {
    assert.throws(() => parseAgentHost(bad, 'ATOMIC_HOST'), (e: unknown) => e instanceof InvalidArgument && e.message.startsWith(`ATOMIC_HOST ${JSON.stringify(bad)}`), bad);
  }
});
