import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instanceFromSeed, normalizePublicKeys } from '../../../../src/adapters/datasources/instance-from-seed.js';
import { InvalidArgument, ResourceExhausted } from '../../../../src/lib/errors.js';
import { recordingLog } from '../../../fakes/recording-log.js';

const b = (s: string): Uint8Array => Buffer.from(s, 'utf8');

test('meta-data, user-data, vendor-data and network-config become InstanceData', async () => {
  const log = recordingLog();
  const i = await instanceFromSeed({
    datasource: 'NoCloud',
    source: '/dev/sr0',
    files: {
      'meta-data': b('instance-id: iid-1\nlocal-hostname: node-1\npublic-keys:\n  - ssh-ed25519 AAAA one\n'),
      'user-data': b('#cloud-config\n{}\n'),
      'vendor-data': b('#cloud-config\nruncmd: [true]\n'),
      'network-config': b('version: 2\nethernets:\n  eth0:\n    dhcp4: true\n'),
    },
    log,
  });
  assert.equal(i.datasource, 'NoCloud');
  assert.equal(i.source, '/dev/sr0');
  assert.equal(i.instanceId, 'iid-1');
  assert.equal(i.localHostname, 'node-1');
  assert.deepEqual(i.publicKeys, ['ssh-ed25519 AAAA one']);
  assert.equal(Buffer.from(i.userData ?? []).toString(), '#cloud-config\n{}\n');
  assert.equal(Buffer.from(i.vendorData ?? []).toString(), '#cloud-config\nruncmd: [true]\n');
  assert.deepEqual(i.networkConfig, { version: 2, ethernets: { eth0: { dhcp4: true } } });
});

test("the hint's keys win; without an instance-id anywhere it is 'nocloud', as in cloud-init", async () => {
  const log = recordingLog();
  const i = await instanceFromSeed({
    datasource: 'NoCloud', source: 'seed', log,
    files: { 'meta-data': b('instance-id: from-file\nlocal-hostname: file-host\n'), 'user-data': b('') },
    overrides: { 'instance-id': 'from-cmdline', dsmode: 'local' },
  });
  assert.equal(i.instanceId, 'from-cmdline');
  assert.equal(i.localHostname, 'file-host');
  assert.equal(i.metadata.dsmode, 'local');
  const empty = await instanceFromSeed({ datasource: 'NoCloud', source: 'seed', log, files: { 'meta-data': b(''), 'user-data': b('') } });
  assert.equal(empty.instanceId, 'nocloud');
  assert.equal(empty.metadata['instance-id'], 'nocloud');
  // `i` without a value (null) is no instance-id either.
  assert.equal((await instanceFromSeed({ datasource: 'NoCloud', source: 's', log, files: {}, overrides: { 'instance-id': null } })).instanceId, 'nocloud');
  assert.ok(log.lines.some((l) => l.level === 'warn' && /meta-data has warnings/.test(l.msg)), 'empty meta-data is warned about');
});

test('bad meta-data or network-config is InvalidArgument with every problem located', async () => {
  const log = recordingLog();
  await assert.rejects(
    () => instanceFromSeed({ datasource: 'NoCloud', source: '/seed', log, files: { 'meta-data': b('instance-id: [a, b]\nlocal-hostname: "bad host"\n') } }),
    (e) => e instanceof InvalidArgument && e.subject === '/seed' && e.problems.length === 2 && e.problems.every((p) => p.startsWith('/seed/meta-data:')),
  );
  await assert.rejects(() => instanceFromSeed({ datasource: 'NoCloud', source: '/seed', log, files: { 'meta-data': b('- a list\n') } }), InvalidArgument);
  await assert.rejects(
    () => instanceFromSeed({ datasource: 'NoCloud', source: '/seed', log, files: { 'network-config': b('version: 2\nethernets:\n  eth0:\n    addresses: [not-an-ip]\n') } }),
    (e) => e instanceof InvalidArgument && /network-config/.test(e.message),
  );
  await assert.rejects(() => instanceFromSeed({ datasource: 'NoCloud', source: 's', log, files: {}, overrides: { 'instance-id': '../../etc' } }), /instance-id/);
});

test('an empty network-config is none (cloud-init: `if seeded.get("network-config")`)', async () => {
  const i = await instanceFromSeed({ datasource: 'NoCloud', source: 's', log: recordingLog(), files: { 'network-config': b('  \n') } });
  assert.equal(i.networkConfig, undefined);
});

test('a file above the limit is ResourceExhausted naming it', async () => {
  await assert.rejects(
    () => instanceFromSeed({ datasource: 'NoCloud', source: 'http://h/seed/', log: recordingLog(), maxFileBytes: 10, files: { 'user-data': new Uint8Array(11) } }),
    (e) => e instanceof ResourceExhausted && /^user-data is 11 bytes/.test(e.message) && e.subject === 'http://h/seed/',
  );
});

test('public keys: a string of lines, a list, a mapping of either (normalize_pubkey_data)', async () => {
  assert.deepEqual(normalizePublicKeys('ssh-rsa A a\n\n# comment\n ssh-ed25519 B b \n'), ['ssh-rsa A a', 'ssh-ed25519 B b']);
  assert.deepEqual(normalizePublicKeys(['ssh-rsa A', 'ssh-rsa B']), ['ssh-rsa A', 'ssh-rsa B']);
  assert.deepEqual(normalizePublicKeys({ one: 'ssh-rsa A', two: ['ssh-rsa B', 'ssh-rsa C'] }), ['ssh-rsa A', 'ssh-rsa B', 'ssh-rsa C']);
  assert.deepEqual(normalizePublicKeys(undefined), []);
  assert.deepEqual(normalizePublicKeys(42), []);
});
