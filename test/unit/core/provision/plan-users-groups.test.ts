import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlainObject } from '../../../../src/core/cloud-config/merge-cloud-config.js';
import { ATOMIC_DEFAULT_USER, planModule } from '../../../../src/core/provision/plan-module.js';
import { normalizeUsersGroups } from '../../../../src/core/provision/normalize-users-groups.js';
import { randomSalt, sha512Crypt } from '../../../../src/core/provision/sha512-crypt.js';
import type { Step } from '../../../../src/core/provision/steps.js';
import { runOk } from '../../../helpers.js';
import { KEY_A, KEY_B, input, only } from './fixture-input.js';

const plan = (config: PlainObject): { steps: Step[]; problems: string[] } => planModule('users_groups', input(config));

test('without a users key the default user is created, as cloud.cfg users: [default] does', () => {
  const { steps, problems } = plan({});
  assert.deepEqual(problems, []);
  assert.deepEqual(steps, [
    { action: 'ensure-group', name: 'adm', members: [] },
    { action: 'ensure-group', name: 'sudo', members: [] },
    { action: 'ensure-user', name: 'atomic', groups: ['adm', 'sudo'], gecos: 'atomic', shell: '/bin/sh', system: false, noUserGroup: false, noLogInit: false, createHome: true },
    { action: 'lock-password', user: 'atomic' },
    { action: 'sudoers', user: 'atomic', rules: ['ALL=(ALL) NOPASSWD:ALL'] },
  ]);
});

test('users without default do not create the default user; the default user comes last', () => {
  assert.deepEqual(only(plan({ users: ['bob'] }).steps, 'ensure-user').map((u) => u.name), ['bob']);
  assert.deepEqual(only(plan({ users: ['default', 'bob'] }).steps, 'ensure-user').map((u) => u.name), ['bob', 'atomic']);
  assert.deepEqual(only(plan({ users: 'zed,alice' }).steps, 'ensure-user').map((u) => u.name), ['alice', 'zed']);
  assert.deepEqual(only(plan({ users: { carol: { gecos: 'C' }, dave: true, erin: false } }).steps, 'ensure-user').map((u) => [u.name, u.gecos]), [['carol', 'C'], ['dave', undefined]]);
  assert.deepEqual(plan({ users: null }).steps, []);
});

test('a user entry: groups as a string, password, sudo, keys, lock_passwd false', () => {
  const { steps, problems } = plan({
    users: [{ name: 'ops', gecos: 'Ops', groups: 'adm, wheel', sudo: 'ALL=(ALL) ALL', ssh_authorized_keys: [KEY_A, KEY_B, KEY_A], lock_passwd: false, plain_text_passwd: 'secret', shell: '/bin/sh', uid: 2500 }],
  });
  assert.deepEqual(problems, []);
  const salt = randomSalt(() => new Uint8Array(16).fill(7));
  assert.deepEqual(steps, [
    { action: 'ensure-group', name: 'adm', members: [] },
    { action: 'ensure-group', name: 'wheel', members: [] },
    { action: 'ensure-user', name: 'ops', groups: ['adm', 'wheel'], gecos: 'Ops', shell: '/bin/sh', uid: '2500', system: false, noUserGroup: false, noLogInit: false, createHome: true },
    { action: 'set-password-hash', user: 'ops', hash: sha512Crypt('secret', { salt }) },
    { action: 'sudoers', user: 'ops', rules: ['ALL=(ALL) ALL'] },
    { action: 'authorized-keys', user: 'ops', keys: [KEY_A, KEY_B] },
  ]);
  assert.match(only(steps, 'set-password-hash')[0]?.hash ?? '', /^\$6\$/);
});

test('groups as a list, as a mapping, and create_groups: false', () => {
  const u = only(plan({ users: [{ name: 'a', groups: ['x', 'y'], primary_group: 'p', create_groups: false }] }).steps, 'ensure-user')[0];
  assert.deepEqual([u?.groups, u?.primaryGroup], [['x', 'y'], 'p']);
  assert.equal(only(plan({ users: [{ name: 'a', groups: ['x'], create_groups: false }] }).steps, 'ensure-group').length, 0);
  assert.deepEqual(only(plan({ users: [{ name: 'a', groups: ['x'], primary_group: 'p' }] }).steps, 'ensure-group').map((g) => g.name), ['x', 'p']);
  assert.deepEqual(only(plan({ users: [{ name: 'a', groups: { m1: null, m2: null } }] }).steps, 'ensure-user')[0]?.groups, ['m1', 'm2']);
});

test('top-level groups in their three forms, with members sorted', () => {
  const names = (config: PlainObject): [string, readonly string[]][] => only(plan({ users: [], ...config }).steps, 'ensure-group').map((g) => [g.name, g.members]);
  assert.deepEqual(names({ groups: 'one,two' }), [['one', []], ['two', []]]);
  assert.deepEqual(names({ groups: ['admingroup', { admingroup: ['sys', 'root'] }, { cloud: 'root' }] }), [['admingroup', ['root', 'sys']], ['cloud', ['root']]]);
  assert.deepEqual(names({ groups: { g: ['b', 'a', 'b'], h: 'x,y' } }), [['g', ['a', 'b']], ['h', ['x', 'y']]]);
  const bad = plan({ users: [], groups: [5, 'ok'] });
  assert.deepEqual(bad.steps, [{ action: 'ensure-group', name: 'ok', members: [] }]);
  assert.equal(bad.problems.length, 1);
});

test('sudo: a string, a list, false and null, and true as a problem', () => {
  const rules = (sudo: PlainObject['x']): readonly string[] | undefined => only(plan({ users: [{ name: 'u', sudo }] }).steps, 'sudoers')[0]?.rules;
  assert.deepEqual(rules('ALL=(ALL) ALL'), ['ALL=(ALL) ALL']);
  assert.deepEqual(rules(['ALL=(ALL) NOPASSWD:/bin/ls', 'ALL=(ALL) ALL']), ['ALL=(ALL) NOPASSWD:/bin/ls', 'ALL=(ALL) ALL']);
  assert.equal(rules(false), undefined);
  assert.equal(rules(null), undefined);
  const t = plan({ users: [{ name: 'u', sudo: true }, { name: 'v' }] });
  assert.equal(only(t.steps, 'sudoers').length, 0);
  assert.match(t.problems[0] ?? '', /\/users\/u\/sudo/);
  // The rest of u and all of v are still planned.
  assert.deepEqual(only(t.steps, 'ensure-user').map((u) => u.name), ['u', 'v']);
});

test('the default user keeps the distro settings and gains the listed groups', () => {
  const { steps } = plan({ users: ['default', { name: 'atomic', groups: ['docker'], shell: '/bin/bash', ssh_authorized_keys: [KEY_A] }] });
  const u = only(steps, 'ensure-user')[0];
  assert.equal(u?.name, 'atomic');
  assert.deepEqual(u?.groups, ['adm', 'docker', 'sudo']);
  // ug_util merges the distro's default_user first: its shell wins (cloud-init behaviour).
  assert.equal(u?.shell, '/bin/sh');
  assert.deepEqual(only(steps, 'authorized-keys'), [{ action: 'authorized-keys', user: 'atomic', keys: [KEY_A] }]);
});

test('system users and no_create_home get -M; keys with them are refused for that user only', () => {
  const { steps, problems } = plan({ users: [{ name: 'svc', system: true }, { name: 'nh', no_create_home: true }, { name: 'bad', system: true, ssh_authorized_keys: [KEY_A] }, 'ok'] });
  const users = only(steps, 'ensure-user');
  assert.deepEqual(users.map((u) => [u.name, u.system, u.createHome]), [['svc', true, false], ['nh', false, false], ['ok', false, true]]);
  assert.equal(problems.length, 1);
  assert.match(problems[0] ?? '', /bad.*ssh_authorized_keys.*system/);
});

test('passwd goes to useradd, hashed_passwd to chpasswd -e, and lock_passwd still locks by default', () => {
  const hash = '$6$abc$' + 'x'.repeat(86);
  const { steps } = plan({ users: [{ name: 'h', passwd: hash, hashed_passwd: hash, expiredate: '2030-01-01', inactive: '5', 'lock-passwd': true }] });
  const u = only(steps, 'ensure-user')[0];
  assert.equal(u?.passwordHash, hash);
  assert.deepEqual([u?.expiredate, u?.inactive], ['2030-01-01', '5']);
  assert.deepEqual(only(steps, 'set-password-hash'), [{ action: 'set-password-hash', user: 'h', hash }]);
  assert.deepEqual(only(steps, 'lock-password'), [{ action: 'lock-password', user: 'h' }]);
});

// cloud-init's own ug_util, run by Debian's python3, on the same configs.
const ORACLE = `
import json, sys
from cloudinit.distros import ug_util
class Distro:
    def get_default_user(self):
        return json.loads(sys.argv[1])
users, groups = ug_util.normalize_users_groups(json.load(sys.stdin), Distro())
default, _ = ug_util.extract_default(users)
for c in users.values():
    c.pop('default', None)
print(json.dumps({'users': list(users.items()), 'groups': groups, 'default': default}))
`;

test("normalization agrees with cloud-init's ug_util on the accepted forms", () => {
  const configs: PlainObject[] = [
    { users: ['default'] },
    { users: ['default', 'bob', { name: 'ops', groups: ['b', 'a'], 'lock-passwd': false }] },
    { users: ['default', { name: 'atomic', groups: 'docker', shell: '/bin/bash', sudo: null }] },
    { users: 'zed,alice,zed' },
    { users: { carol: { gecos: 'C' }, dave: true, erin: 'no', fred: 'yes' } },
    { users: [['x', 'y'], { name: 'x', uid: 5 }, { name: 'x', uid: 6, shell: '/bin/sh' }] },
    { users: [], groups: ['admingroup', { admingroup: ['sys', 'root'] }, { cloud: 'root' }, 'empty'] },
    { users: [], groups: { g: ['b', 'a', 'b'], h: 'x,y' } },
    { users: [], groups: 'one,two' },
  ];
  for (const config of configs) {
    const py = JSON.parse(runOk('/usr/bin/python3', ['-c', ORACLE, JSON.stringify(ATOMIC_DEFAULT_USER)], { input: JSON.stringify(config) }).stdout) as {
      users: [string, Record<string, unknown>][];
      groups: Record<string, string[]>;
      default: string | null;
    };
    const ours = normalizeUsersGroups(config, ATOMIC_DEFAULT_USER);
    const label = JSON.stringify(config);
    assert.deepEqual(ours.users.map((u) => [u.name, u.config]), py.users, label);
    assert.deepEqual(Object.fromEntries(ours.groups.map((g) => [g.name, g.members])), py.groups, label);
    assert.equal(ours.defaultUser ?? null, py.default, label);
  }
});
