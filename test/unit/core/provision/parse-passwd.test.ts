import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGroup, parseOwner, parsePasswd, resolveOwner, passwordLocked } from '../../../../src/core/provision/parse-passwd.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\n# comment\n+nis\nops:x:2001:2001:Ops,,,:/home/ops:/bin/sh\nbroken:x:notanumber:1::/:/bin/sh\nshort:x:1\n';
const GROUP = 'root:x:0:\nadm:x:4000:ops,bob\ndeploy:x:2100:\r\nbad:x::\n';

test('passwd and group lines are parsed; comments, NIS and malformed lines are skipped', () => {
  assert.deepEqual(parsePasswd(PASSWD), [
    { name: 'root', uid: 0, gid: 0, gecos: 'root', home: '/root', shell: '/bin/sh' },
    { name: 'ops', uid: 2001, gid: 2001, gecos: 'Ops,,,', home: '/home/ops', shell: '/bin/sh' },
  ]);
  assert.deepEqual(parseGroup(GROUP), [
    { name: 'root', gid: 0, members: [] },
    { name: 'adm', gid: 4000, members: ['ops', 'bob'] },
    { name: 'deploy', gid: 2100, members: [] },
  ]);
});

test('owners: user, user:group, :group, none and -1, numbers, unknown names', () => {
  const p = parsePasswd(PASSWD);
  const g = parseGroup(GROUP);
  const cur = { uid: 7, gid: 8 };
  assert.deepEqual(parseOwner('ops:deploy'), { user: 'ops', group: 'deploy' });
  assert.deepEqual(parseOwner(' none : -1 '), {});
  assert.deepEqual(resolveOwner('ops:deploy', p, g, cur), { ok: true, uid: 2001, gid: 2100 });
  assert.deepEqual(resolveOwner('ops', p, g, cur), { ok: true, uid: 2001, gid: 8 });
  assert.deepEqual(resolveOwner(':adm', p, g, cur), { ok: true, uid: 7, gid: 4000 });
  assert.deepEqual(resolveOwner('', p, g, cur), { ok: true, uid: 7, gid: 8 });
  assert.deepEqual(resolveOwner('1234:5678', p, g, cur), { ok: true, uid: 1234, gid: 5678 });
  const missing = resolveOwner('ghost:deploy', p, g, cur);
  assert.equal(missing.ok, false);
  assert.match(missing.ok ? '' : missing.message, /user 'ghost' does not exist in the root's \/etc\/passwd/);
  assert.equal(resolveOwner('ops:ghosts', p, g, cur).ok, false);
});

test('passwordLocked: only when usermod --lock would change nothing', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/sh\nold:!legacy:2001:2001::/home/old:/bin/sh\nnoshadow:x:2002:2002::/home/n:/bin/sh\nplain:secret:2003:2003::/home/p:/bin/sh\n';
  const shadow = 'root:*:19000:0:99999:7:::\nold:!:19000::::::\nplain:!:19000::::::\nlocked:!$6$s$h:19000::::::\n';
  assert.equal(passwordLocked(passwd + 'locked:x:2004:2004::/home/l:/bin/sh\n', shadow, 'locked'), true);
  assert.equal(passwordLocked(passwd, shadow, 'old'), true, "a password in passwd that starts with '!' is locked too");
  assert.equal(passwordLocked(passwd, shadow, 'root'), false, "'*' is not '!'");
  assert.equal(passwordLocked(passwd, shadow, 'noshadow'), false, 'no shadow entry');
  assert.equal(passwordLocked(passwd, shadow, 'plain'), false, 'usermod would lock the password kept in passwd');
  assert.equal(passwordLocked(passwd, shadow, 'nobody'), false, 'no such user');
});
