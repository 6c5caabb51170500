import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGroup, parseOwner, parsePasswd, resolveOwner } from '../../../../src/core/provision/parse-passwd.js';

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
