import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DISABLE_USER_OPTS, SSHD_PWAUTH_DROPIN } from '../../../../src/core/provision/modules/plan-ssh.js';
import { planModule } from '../../../../src/core/provision/plan-module.js';
import { randomSalt, sha512Crypt } from '../../../../src/core/provision/sha512-crypt.js';
import { updateAuthorizedKeys } from '../../../../src/core/provision/update-authorized-keys.js';
import { runOk } from '../../../helpers.js';
import { KEY_A, KEY_B, KEY_META, input, only, utf8 } from './fixture-input.js';

test("the disable_root option string is cloud-init's", () => {
  const py = runOk('/usr/bin/python3', ['-c', 'from cloudinit import ssh_util; print(ssh_util.DISABLE_USER_OPTS)']).stdout.replace(/\n$/, '');
  assert.equal(DISABLE_USER_OPTS, py);
});

test('metadata keys and ssh_authorized_keys go to the default user, and to root behind the login-as command', () => {
  const { steps, problems } = planModule('ssh', input({ ssh_authorized_keys: [KEY_A, KEY_META] }, { instance: { publicKeys: [KEY_META] } }));
  assert.deepEqual(problems, []);
  const root = DISABLE_USER_OPTS.replace('$USER', 'atomic').replace('$DISABLE_USER', 'root');
  assert.deepEqual(steps, [
    { action: 'authorized-keys', user: 'atomic', keys: [KEY_META, KEY_A] },
    { action: 'authorized-keys', user: 'root', keys: [KEY_META, KEY_A], options: root },
  ]);
  assert.match(root, /Please login as the user \\"atomic\\" rather than the user \\"root\\"/);
});

test('disable_root: false gives root the plain keys; no default user means NONE in the message', () => {
  assert.deepEqual(only(planModule('ssh', input({ disable_root: false, ssh_authorized_keys: [KEY_A] })).steps, 'authorized-keys')[1], { action: 'authorized-keys', user: 'root', keys: [KEY_A], options: '' });
  const noDefault = only(planModule('ssh', input({ users: ['bob'], ssh_authorized_keys: [KEY_A] })).steps, 'authorized-keys');
  assert.deepEqual(noDefault.map((s) => s.user), ['root']);
  assert.match(noDefault[0]?.options ?? '', /login as the user \\"NONE\\"/);
  assert.deepEqual(planModule('ssh', input({})).steps, []);
});

test('ssh_pwauth writes the sshd drop-in; unchanged and unknown values leave it', () => {
  const pw = (v: boolean | string): string[] => only(planModule('ssh', input({ ssh_pwauth: v })).steps, 'write-file').map((s) => `${s.path} ${s.mode.toString(8)} ${utf8(s.content)}`);
  assert.deepEqual(pw(true), [`${SSHD_PWAUTH_DROPIN} 600 PasswordAuthentication yes\n`]);
  assert.deepEqual(pw('no'), [`${SSHD_PWAUTH_DROPIN} 600 PasswordAuthentication no\n`]);
  assert.deepEqual(pw('unchanged'), []);
  const odd = planModule('ssh', input({ ssh_pwauth: 'sometimes' }));
  assert.deepEqual([odd.steps, odd.problems.length], [[], 1]);
});

test('chpasswd: users of type text are hashed, hash kept, RANDOM refused, expire by default', () => {
  const hash = '$6$rounds=5000$abc$' + 'y'.repeat(86);
  const { steps, problems } = planModule('ssh', input({
    chpasswd: { users: [{ name: 'a', password: 'pw', type: 'text' }, { name: 'b', password: hash }, { name: 'c', type: 'RANDOM' }], list: ['d:' + hash, 'e:plain', 'f:R'] },
  }));
  const salt = randomSalt(() => new Uint8Array(16).fill(7));
  assert.deepEqual(steps, [
    { action: 'set-password-hash', user: 'a', hash: sha512Crypt('pw', { salt }) },
    { action: 'set-password-hash', user: 'e', hash: sha512Crypt('plain', { salt }) },
    { action: 'set-password-hash', user: 'b', hash },
    { action: 'set-password-hash', user: 'd', hash },
    { action: 'expire-password', user: 'a' },
    { action: 'expire-password', user: 'e' },
    { action: 'expire-password', user: 'b' },
    { action: 'expire-password', user: 'd' },
  ]);
  assert.equal(problems.length, 2);
  assert.equal(only(planModule('ssh', input({ chpasswd: { expire: false, users: [{ name: 'a', password: 'x', type: 'text' }] } })).steps, 'expire-password').length, 0);
});

// ssh_util.update_authorized_keys with the parser, as setup_user_keys calls them.
const ORACLE = `
import json, sys
from cloudinit import ssh_util
out = []
for old, keys, options in json.load(sys.stdin):
    p = ssh_util.AuthKeyLineParser()
    olds = [p.parse(l) for l in old.splitlines()]
    new = [p.parse(str(k), options=options) for k in keys]
    out.append(ssh_util.update_authorized_keys(olds, new))
print(json.dumps(out))
`;

test("authorized_keys merging agrees with cloud-init's ssh_util", () => {
  const replaced = KEY_A.replace('alice@example', 'alice-new');
  const cases: [string, string[], string | null][] = [
    ['', [KEY_A], null],
    [`# keep me\n${KEY_B}\n\nnot a key\n`, [replaced, KEY_META], null],
    [`${KEY_A}\n`, [KEY_B, `no-pty,command="echo hi there" ${KEY_META}`], null],
    [`${KEY_B}\n`, [KEY_A, `no-pty ${KEY_META}`], 'no-port-forwarding,command="x y"'],
    [`${KEY_B}\n`, [`no-pty ${KEY_META}`], ''],
    ['', ['garbage line', `${KEY_A}  spaced   comment `], null],
  ];
  const py = JSON.parse(runOk('/usr/bin/python3', ['-c', ORACLE], { input: JSON.stringify(cases) }).stdout) as string[];
  cases.forEach(([old, keys, options], i) => assert.equal(updateAuthorizedKeys(old, keys, options ?? undefined), py[i], JSON.stringify(cases[i])));
});
