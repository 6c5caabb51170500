import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlainObject } from '../../../../src/core/cloud-config/merge-cloud-config.js';
import { MODULES } from '../../../../src/core/provision/model.js';
import { renderFinalMessage, timeRfc2822 } from '../../../../src/core/provision/modules/plan-final-message.js';
import { planModule } from '../../../../src/core/provision/plan-module.js';
import { input, only, utf8 } from './fixture-input.js';

test('timezone: one step, and names that would leave /usr/share/zoneinfo are refused', () => {
  assert.deepEqual(planModule('timezone', input({ timezone: 'Europe/Paris' })).steps, [{ action: 'set-timezone', timezone: 'Europe/Paris' }]);
  assert.deepEqual(planModule('timezone', input({})).steps, []);
  for (const bad of ['../../etc/passwd', '/etc/passwd', 'Europe/../x']) {
    const r = planModule('timezone', input({ timezone: bad }));
    assert.deepEqual([r.steps.length, r.problems.length], [0, 1], bad);
  }
});

test("final_message: cloud-init's default text, user templates with $VAR and {{var}}, boot-finished", () => {
  const { steps, problems } = planModule('final_message', input({}));
  assert.deepEqual(problems, []);
  const [rec] = only(steps, 'record');
  assert.deepEqual(rec, {
    action: 'record',
    what: 'final-message',
    data: { message: 'atomicd v. 0.1.0 finished at Tue, 02 Jan 2024 03:04:05 +0000. Datasource DataSourceNoCloud [seed=/dev/sr0].  Up 64.50 seconds' },
  });
  const [fin] = only(steps, 'write-file');
  assert.equal(fin?.path, '/var/lib/atomicd/cloud/instances/iid-test-1/boot-finished');
  assert.equal(utf8(fin?.content ?? new Uint8Array()), '64.50 - Tue, 02 Jan 2024 03:04:05 +0000 - v. 0.1.0\n');
  const custom = only(planModule('final_message', input({ final_message: 'up $UPTIME s, ${version} from $DATASOURCE at $timestamp' })).steps, 'record')[0];
  assert.equal(custom?.what === 'final-message' ? custom.data.message : '', 'up 64.50 s, 0.1.0 from DataSourceNoCloud [seed=/dev/sr0] at Tue, 02 Jan 2024 03:04:05 +0000');
  const r = renderFinalMessage('## template: jinja\nv={{ version }} {{nope}}', { version: '1' });
  assert.deepEqual(r, { text: 'v=1 {{nope}}', problems: ['/final_message: unknown variable {{nope}}'] });
  assert.equal(timeRfc2822(new Date(Date.UTC(2023, 11, 31, 23, 59, 9))), 'Sun, 31 Dec 2023 23:59:09 +0000');
});

test('power_state: recorded with the shutdown command; condition false or a bad mode plans nothing', () => {
  assert.deepEqual(planModule('power_state_change', input({ power_state: { mode: 'reboot', delay: 5, message: 'bye' } })).steps, [
    { action: 'record', what: 'power-state', data: { mode: 'reboot', delay: 5, timeoutSeconds: 30, condition: true, command: ['shutdown', '-r', '+5', 'bye'], message: 'bye' } },
  ]);
  const now = only(planModule('power_state_change', input({ power_state: { mode: 'poweroff', timeout: 10, condition: 'test -f /x' } })).steps, 'record')[0];
  assert.deepEqual(now?.data, { mode: 'poweroff', delay: 'now', timeoutSeconds: 10, condition: 'test -f /x', command: ['shutdown', '-P', 'now'] });
  assert.deepEqual(planModule('power_state_change', input({ power_state: { mode: 'halt', condition: false } })).steps, []);
  const bad = planModule('power_state_change', input({ power_state: { mode: 'sleep' } }));
  assert.deepEqual([bad.steps.length, bad.problems.length], [0, 1]);
});

test('containers and atomic.update are recorded as the validated config', () => {
  const containers = [{ image: 'nginx:1.25', name: 'web', ports: ['8080:80'] }];
  assert.deepEqual(planModule('containers', input({ containers })).steps, [{ action: 'record', what: 'containers', data: containers }]);
  assert.deepEqual(planModule('containers', input({})).steps, []);
  const update = { strategy: 'periodic', periodic: { start_time: '02:00', length_minutes: 60 } };
  assert.deepEqual(planModule('atomic_update', input({ atomic: { update } })).steps, [{ action: 'record', what: 'atomic-update', data: update }]);
  assert.deepEqual(planModule('atomic_update', input({ atomic: {} })).steps, []);
});

test('every module of MODULES plans without throwing on an empty and on a full config', () => {
  const full: PlainObject = {
    bootcmd: ['true'], runcmd: ['true'], write_files: [{ path: '/a', content: 'x' }, { path: '/b', content: 'y', defer: true }], hostname: 'h', manage_etc_hosts: true,
    timezone: 'Etc/UTC', ssh_authorized_keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAA k'], containers: [], atomic: { update: { strategy: 'immediate' } },
    power_state: { mode: 'reboot' }, final_message: 'done',
  };
  for (const m of MODULES) {
    assert.deepEqual(planModule(m.name, input({})).problems, [], m.name);
    const r = planModule(m.name, input(full));
    assert.deepEqual(r.problems, [], m.name);
    assert.ok(r.steps.length > 0, `${m.name} plans something for the full config`);
  }
});
