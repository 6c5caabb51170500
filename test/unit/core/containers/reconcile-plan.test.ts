import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONFIG_HASH_LABEL, MANAGED_BY_LABEL, declaredContainers, splitCommand } from '../../../../src/core/containers/declared-containers.js';
import { planReconcile, type ObservedContainer } from '../../../../src/core/containers/reconcile-plan.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

test('a declared entry becomes the create request docker run would send', () => {
  const [d] = declaredContainers([
    {
      image: 'registry.local:5000/web:1.2',
      name: 'web',
      command: 'httpd -f -p "8 0"',
      env: { A: '1', B: true },
      ports: ['8080:80', '127.0.0.1:5353:53/udp', '9000-9001:9000-9001', '443', ':7000'],
      volumes: ['data:/data:ro'],
      restart: 'on-failure:3',
      labels: ['tier=front'],
      memory: '64m',
      cpu_shares: 512,
      user: 'app',
      workdir: '/srv',
    },
  ]);
  assert.ok(d !== undefined);
  assert.equal(d.name, 'web');
  assert.deepEqual(d.config.Cmd, ['httpd', '-f', '-p', '8 0']);
  assert.deepEqual(d.config.Env, ['A=1', 'B=true']);
  assert.deepEqual(Object.keys(d.config.ExposedPorts ?? {}).sort(), ['443/tcp', '53/udp', '7000/tcp', '80/tcp', '9000/tcp', '9001/tcp']);
  assert.deepEqual(d.hostConfig.PortBindings, {
    '80/tcp': [{ HostIp: '', HostPort: '8080' }],
    '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }],
    '9000/tcp': [{ HostIp: '', HostPort: '9000' }],
    '9001/tcp': [{ HostIp: '', HostPort: '9001' }],
    '7000/tcp': [{ HostIp: '', HostPort: '' }],
    '443/tcp': [{ HostIp: '', HostPort: '' }],
  });
  assert.deepEqual(d.hostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.equal(d.hostConfig.Memory, 64 * 1024 * 1024);
  assert.equal(d.hostConfig.CpuShares, 512);
  assert.deepEqual(d.hostConfig.Binds, ['data:/data:ro']);
  assert.equal(d.config.Labels?.tier, 'front');
  assert.equal(d.config.Labels?.[MANAGED_BY_LABEL], 'cloud-config');
  assert.equal(d.config.Labels?.[CONFIG_HASH_LABEL], d.hash);
  assert.match(d.hash, /^[0-9a-f]{64}$/);
});

test('the hash ignores key order and changes with any field', () => {
  const [a] = declaredContainers([{ image: 'busybox', name: 'x', env: { A: '1', B: '2' }, restart: 'always' }]);
  const [b] = declaredContainers([{ restart: 'always', env: { A: '1', B: '2' }, name: 'x', image: 'busybox' }]);
  const [c] = declaredContainers([{ image: 'busybox', name: 'x', env: { A: '1', B: '3' }, restart: 'always' }]);
  assert.equal(a?.hash, b?.hash);
  assert.notEqual(a?.hash, c?.hash);
});

test('entries without a name get image-N names; restart false means no', () => {
  const d = declaredContainers([{ image: 'docker.io/library/redis:7@sha256:' + 'a'.repeat(64) }, { image: 'busybox', restart: false }]);
  assert.deepEqual(d.map((x) => x.name), ['redis-1', 'busybox-2']);
  assert.deepEqual(d[1]?.hostConfig.RestartPolicy, { Name: 'no' });
});

test('splitCommand: quotes and escapes like a shell, without expansions', () => {
  assert.deepEqual(splitCommand(`sh -c 'echo "$HOME" a\\ b' "x\\"y" ''`, 'f'), ['sh', '-c', 'echo "$HOME" a\\ b', 'x"y', '']);
  assert.throws(() => splitCommand('echo "oops', '/containers/0/command'), (e: unknown) => e instanceof InvalidArgument && /\/containers\/0\/command: unterminated " quote/.test(e.message));
});

test('bad entries name the field', () => {
  assert.throws(() => declaredContainers([{ image: 'a', ports: ['70000:80'] }]), (e: unknown) => e instanceof InvalidArgument && /^\/containers\/0\/ports\/0: invalid port spec "70000:80"/.test(e.message));
  assert.throws(() => declaredContainers([{ name: 'x' }]), (e: unknown) => e instanceof InvalidArgument && /\/containers\/0\/image: required/.test(e.message));
  assert.throws(() => declaredContainers([{ image: 'a', restart: 'sometimes' }]), InvalidArgument);
});

const observed = (name: string, labels: Record<string, string>, status = 'running'): ObservedContainer => ({ id: `${name}-id`.padEnd(64, '0'), name, labels, status });

test('planReconcile: create missing, pull once per missing image, leave equal ones alone', () => {
  const declared = declaredContainers([{ image: 'busybox', name: 'a' }, { image: 'busybox', name: 'b' }, { image: 'redis', name: 'c' }]);
  const current = declared[2];
  assert.ok(current !== undefined);
  const steps = planReconcile({ declared, observed: [observed('c', current.config.Labels ?? {})], images: new Set(['redis']) });
  assert.deepEqual(steps.map((s) => [s.action, 'name' in s ? s.name : 'container' in s ? s.container.name : s.image]), [
    ['pull', 'busybox'],
    ['create', 'a'],
    ['start', 'a'],
    ['create', 'b'],
    ['start', 'b'],
  ]);
});

test('planReconcile: changed declarations are recreated, undeclared managed ones removed first, foreign ones never touched', () => {
  const [old] = declaredContainers([{ image: 'busybox', name: 'web', env: ['V=1'] }]);
  const declared = declaredContainers([{ image: 'busybox', name: 'web', env: ['V=2'] }, { image: 'busybox', name: 'mine' }]);
  assert.ok(old !== undefined);
  const steps = planReconcile({
    declared,
    observed: [observed('web', old.config.Labels ?? {}), observed('gone', { 'io.atomic.managed-by': 'cloud-config' }), observed('mine', { user: 'label' }), observed('other', {})],
    images: new Set(['busybox']),
  });
  assert.deepEqual(steps.map((s) => s.action), ['remove', 'remove', 'create', 'start', 'report']);
  assert.deepEqual(steps[0], { action: 'remove', id: observed('gone', {}).id, name: 'gone', reason: 'undeclared' });
  assert.deepEqual(steps[1], { action: 'remove', id: observed('web', {}).id, name: 'web', reason: 'changed' });
  const report = steps[4];
  assert.ok(report?.action === 'report');
  assert.match(report.message, /container name "\/mine" is used by container mine-id/);
});

test('planReconcile: a created-but-never-started declared container is started; an exited one is left to its restart policy', () => {
  const declared = declaredContainers([{ image: 'busybox', name: 'a' }, { image: 'busybox', name: 'b' }]);
  const steps = planReconcile({
    declared,
    observed: [observed('a', declared[0]?.config.Labels ?? {}, 'created'), observed('b', declared[1]?.config.Labels ?? {}, 'exited')],
    images: new Set(['busybox']),
  });
  assert.deepEqual(steps, [{ action: 'start', name: 'a' }]);
});
