// Planned steps applied to a real busybox root tree with the real shadow tools and chroot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { PlainObject } from '../../src/core/cloud-config/merge-cloud-config.js';
import { MODULES, type InstanceData, type ModuleName } from '../../src/core/provision/model.js';
import { ATOMIC_DEFAULT_USER, planModule, type ModuleInput } from '../../src/core/provision/plan-module.js';
import { parseGroup, parsePasswd } from '../../src/core/provision/parse-passwd.js';
import type { Step } from '../../src/core/provision/steps.js';
import { executeSteps, type StepEvent, type StepOutcome } from '../../src/adapters/rootfs/execute-steps.js';
import { busyboxRoot } from '../fixtures/busybox-root.js';
import { REPO, runOk, tempDir } from '../helpers.js';

const KEY_A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA alice@example';
const KEY_B = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB bob@example';
const KEY_META = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMM meta@cloud';

const INSTANCE: InstanceData = { datasource: 'NoCloud', source: '/dev/sr0', instanceId: 'iid-rootfs-1', localHostname: 'meta-name', metadata: {}, publicKeys: [KEY_META] };

function moduleInput(config: PlainObject): ModuleInput {
  return { config, instance: INSTANCE, defaultUser: ATOMIC_DEFAULT_USER, instanceDir: '/var/lib/atomicd/cloud/instances/iid-rootfs-1', now: new Date(), bootTime: new Date(Date.now() - 5000), version: 'test' };
}

function planAll(config: PlainObject, names: readonly ModuleName[] = MODULES.map((m) => m.name)): { steps: Step[]; problems: string[] } {
  const steps: Step[] = [];
  const problems: string[] = [];
  for (const n of names) {
    const p = planModule(n, moduleInput(config));
    steps.push(...p.steps);
    problems.push(...p.problems);
  }
  return { steps, problems };
}

function failures(outcomes: readonly StepOutcome[]): string[] {
  return outcomes.filter((o) => o.status !== 'ok').map((o) => `${o.description}: ${o.reason ?? ''}`);
}

function accounts(root: string): { passwd: ReturnType<typeof parsePasswd>; group: ReturnType<typeof parseGroup>; shadow: Map<string, string> } {
  const shadow = new Map(readFileSync(join(root, 'etc/shadow'), 'utf8').split('\n').filter((l) => l !== '').map((l) => [l.split(':')[0] ?? '', l.split(':')[1] ?? '']));
  return { passwd: parsePasswd(readFileSync(join(root, 'etc/passwd'), 'utf8')), group: parseGroup(readFileSync(join(root, 'etc/group'), 'utf8')), shadow };
}

const mode = (p: string): number => statSync(p).mode & 0o7777;

test('a full cloud-config applied to a busybox root: users, keys, sudo, files, hostname, hosts, timezone, bootcmd, runcmd', async (t) => {
  const { root, absoluteEtcLink, climbingEtcLink } = busyboxRoot(t);
  const token = randomBytes(6).toString('hex');
  const text = 'plain text\n';
  const gz = gzipSync('gzipped\n');
  const config: PlainObject = {
    users: [
      'default',
      { name: 'ops', gecos: 'Ops', groups: ['adm', 'deploy'], sudo: 'ALL=(ALL) NOPASSWD:ALL', ssh_authorized_keys: [KEY_A], plain_text_passwd: 'secret', lock_passwd: false, shell: '/bin/sh' },
      { name: 'svc', system: true },
    ],
    groups: ['deploy', { admins: ['root'] }],
    ssh_authorized_keys: [KEY_B],
    write_files: [
      { path: '/etc/app/plain.conf', content: text },
      { path: '/etc/app/b64.conf', content: Buffer.from(text).toString('base64'), encoding: 'b64' },
      { path: '/etc/app/gz.bin', content: gz, encoding: 'gzip' },
      { path: '/etc/app/gzb64.conf', content: gz.toString('base64'), encoding: 'gz+b64', permissions: '0600' },
      { path: '/etc/app/bad.conf', content: 'not*base64', encoding: 'base64' },
      { path: '/etc/app/log.txt', content: 'first\n' },
      { path: '/etc/app/log.txt', content: 'second\n', append: true },
      { path: '/srv/deep/new/dir/file', content: 'made parents\n' },
      { path: `/../../../../../../../../tmp/atomic-escape-${token}`, content: 'escaped\n' },
      { path: `${absoluteEtcLink}/atomic-abs-${token}.conf`, content: 'inside\n' },
      { path: `${climbingEtcLink}/atomic-up-${token}.conf`, content: 'escaped\n' },
      { path: '/home/ops/later.txt', content: 'deferred\n', defer: true, owner: 'ops:deploy', permissions: '0640' },
    ],
    hostname: 'web',
    fqdn: 'web.example.com',
    manage_etc_hosts: true,
    timezone: 'Europe/Paris',
    bootcmd: [`echo "boot $INSTANCE_ID" > /tmp/atomic-bootcmd-${token}`, ['sh', '-c', `id -u > /tmp/atomic-bootcmd-uid-${token}`]],
    runcmd: [`echo runcmd > /root/atomic-runcmd-${token}`, `ls /home > /tmp/atomic-homes-${token}`],
    containers: [{ image: 'busybox:1.36', name: 'demo' }],
    final_message: 'done after $UPTIME seconds',
  };

  // The network stage up to write_files, to see deferred files are not there yet.
  const early = planAll(config, ['write_files']);
  assert.equal(early.problems.length, 1);
  assert.match(early.problems[0] ?? '', /\/write_files\/4\/content: encoding base64: invalid base64/);
  await executeSteps(early.steps, { root });
  assert.equal(existsSync(join(root, 'home/ops/later.txt')), false, 'a deferred file is not written by write_files');

  const { steps, problems } = planAll(config);
  assert.equal(problems.length, 1);
  const events: StepEvent[] = [];
  const outcomes = await executeSteps(steps, { root }, { log: (e) => events.push(e), runTimeoutMs: 60_000 });
  assert.equal(outcomes.length, steps.length);
  assert.equal(events.filter((e) => e.event === 'step-end').length, steps.length);

  // Exactly the two escapes failed; every other step ran to the end.
  const failed = failures(outcomes);
  assert.equal(failed.length, 2, failed.join('\n'));
  assert.match(failed[0] ?? '', /atomic-escape-.*refusing a path with '\.\.'/);
  assert.match(failed[1] ?? '', /atomic-up-.*points above the root/);
  assert.equal(existsSync(`/tmp/atomic-escape-${token}`), false);
  assert.equal(existsSync(`/etc/atomic-up-${token}.conf`), false);
  // The absolute link /var/lib/etc-abs -> /etc is read as inside a chroot: ROOT/etc.
  assert.equal(existsSync(`/etc/atomic-abs-${token}.conf`), false, 'nothing written to the host /etc');
  assert.equal(readFileSync(join(root, `etc/atomic-abs-${token}.conf`), 'utf8'), 'inside\n');

  // Accounts, from the root's own databases.
  const { passwd, group, shadow } = accounts(root);
  const ops = passwd.find((u) => u.name === 'ops');
  const atomic = passwd.find((u) => u.name === 'atomic');
  const svc = passwd.find((u) => u.name === 'svc');
  assert.ok(ops !== undefined && atomic !== undefined && svc !== undefined, 'users created');
  assert.ok(ops.uid >= 2000 && atomic.uid >= 2000, "uids from the root's login.defs");
  assert.ok(svc.uid < 1000, 'a system user');
  assert.equal(existsSync(join(root, 'home/svc')), false, 'no home for a system user');
  const gid = (name: string): number | undefined => group.find((g) => g.name === name)?.gid;
  const members = (name: string): readonly string[] => group.find((g) => g.name === name)?.members ?? [];
  assert.deepEqual([members('adm'), members('deploy'), members('sudo'), members('admins')], [['ops', 'atomic'], ['ops'], ['atomic'], ['root']]);
  assert.equal(gid('adm'), 4000, 'the existing adm group was kept');
  // ops got the planned SHA-512 hash (what `openssl passwd -6` makes of it) and is not locked; atomic is locked.
  const opsHash = shadow.get('ops') ?? '';
  const salt = opsHash.split('$')[2] ?? '';
  assert.equal(opsHash, runOk('openssl', ['passwd', '-6', '-salt', salt, 'secret']).stdout.trim());
  assert.ok((shadow.get('atomic') ?? '').startsWith('!'), 'the default user is locked');

  // authorized_keys: 0700/0600, owned by the user's uid in the ROOT's passwd.
  const opsKeys = join(root, 'home/ops/.ssh/authorized_keys');
  assert.equal(readFileSync(opsKeys, 'utf8'), `${KEY_A}\n`);
  assert.deepEqual([mode(join(root, 'home/ops/.ssh')), mode(opsKeys)], [0o700, 0o600]);
  assert.deepEqual([statSync(opsKeys).uid, statSync(opsKeys).gid, statSync(join(root, 'home/ops/.ssh')).uid], [ops.uid, ops.gid, ops.uid]);
  assert.equal(readFileSync(join(root, 'home/atomic/.ssh/authorized_keys'), 'utf8'), `${KEY_META}\n${KEY_B}\n`);
  const rootKeys = readFileSync(join(root, 'root/.ssh/authorized_keys'), 'utf8').split('\n');
  assert.equal(rootKeys.length, 3);
  assert.match(rootKeys[0] ?? '', /^no-port-forwarding,.*Please login as the user \\"atomic\\" rather than the user \\"root\\".*exit 142" ssh-ed25519 /);

  // sudo.
  const sudoers = join(root, 'etc/sudoers.d/90-cloud-init-users');
  assert.equal(mode(sudoers), 0o440);
  assert.match(readFileSync(sudoers, 'utf8'), /^# Created by atomicd .*\n\n# User rules for ops\nops ALL=\(ALL\) NOPASSWD:ALL\n\n# User rules for atomic\natomic ALL=\(ALL\) NOPASSWD:ALL\n$/);
  assert.match(readFileSync(join(root, 'etc/sudoers'), 'utf8'), /^#includedir \/etc\/sudoers\.d$/m);

  // write_files.
  const f = (p: string): string => readFileSync(join(root, p), 'utf8');
  assert.deepEqual([f('etc/app/plain.conf'), f('etc/app/b64.conf'), f('etc/app/gz.bin'), f('etc/app/gzb64.conf')], [text, text, 'gzipped\n', 'gzipped\n']);
  assert.deepEqual([mode(join(root, 'etc/app/plain.conf')), mode(join(root, 'etc/app/gzb64.conf')), mode(join(root, 'etc/app'))], [0o644, 0o600, 0o755]);
  assert.equal(existsSync(join(root, 'etc/app/bad.conf')), false, 'bad base64: that file only');
  assert.equal(f('etc/app/log.txt'), 'first\nsecond\n');
  assert.equal(f('srv/deep/new/dir/file'), 'made parents\n');
  const later = statSync(join(root, 'home/ops/later.txt'));
  assert.deepEqual([f('home/ops/later.txt'), later.uid, later.gid, later.mode & 0o777], ['deferred\n', ops.uid, gid('deploy'), 0o640]);

  // Hostname, /etc/hosts, time zone.
  assert.equal(f('etc/hostname'), 'web\n');
  assert.equal(f('var/lib/atomicd/cloud/data/previous-hostname'), 'web\n');
  assert.match(f('etc/hosts'), /^127\.0\.1\.1 web\.example\.com web\n127\.0\.0\.1 localhost\n/m);
  assert.equal(readlinkSync(join(root, 'etc/localtime')), '/usr/share/zoneinfo/Europe/Paris');
  assert.equal(f('etc/timezone'), 'Europe/Paris\n');

  // Commands ran inside the root, never on the host.
  assert.equal(f(`tmp/atomic-bootcmd-${token}`), 'boot iid-rootfs-1\n');
  assert.equal(f(`tmp/atomic-bootcmd-uid-${token}`), '0\n');
  assert.equal(existsSync(`/tmp/atomic-bootcmd-${token}`), false);
  assert.equal(mode(join(root, 'var/lib/atomicd/cloud/instances/iid-rootfs-1/scripts/runcmd')), 0o700);
  assert.equal(f(`root/atomic-runcmd-${token}`), 'runcmd\n');
  assert.deepEqual(f(`tmp/atomic-homes-${token}`).trim().split('\n').sort(), ['atomic', 'ops']);
  assert.equal(existsSync(`/root/atomic-runcmd-${token}`), false);
  const runs = outcomes.filter((o) => o.action === 'run' && (o.runs?.length ?? 0) > 0);
  assert.deepEqual(runs.map((o) => o.runs?.map((r) => [r.command, r.exitCode])), [[['/bin/sh', 0]], [['/var/lib/atomicd/cloud/instances/iid-rootfs-1/scripts/runcmd', 0]]]);

  // Recorded hand-offs and the final message.
  const records = outcomes.filter((o) => o.action === 'record').map((o) => o.reason);
  assert.deepEqual(records, ['recorded (containers)', 'recorded (final-message)']);
  assert.match(f('var/lib/atomicd/cloud/instances/iid-rootfs-1/boot-finished'), /^\d+\.\d\d - .* - v\. test\n$/);
});

test('applying the same users again changes nothing once the group members exist', async (t) => {
  const { root } = busyboxRoot(t);
  const config: PlainObject = { users: ['default', { name: 'ops', sudo: ['ALL=(ALL) ALL'], ssh_authorized_keys: [KEY_A] }], groups: { deploy: ['ops'] } };
  const first = await executeSteps(planAll(config, ['users_groups', 'ssh']).steps, { root });
  assert.deepEqual(failures(first), []);
  // On the first run the group came before its member existed: a warning, not a failure (as in
  // cloud-init); the second run adds the member.
  assert.match(first[0]?.warnings[0] ?? '', /not adding ops to group deploy: user ops does not exist/);
  assert.deepEqual(accounts(root).group.find((g) => g.name === 'deploy')?.members, []);
  const second = await executeSteps(planAll(config, ['users_groups', 'ssh']).steps, { root });
  assert.deepEqual(failures(second), []);
  assert.deepEqual(accounts(root).group.find((g) => g.name === 'deploy')?.members, ['ops']);
  const snapshot = ['etc/passwd', 'etc/group', 'etc/sudoers.d/90-cloud-init-users', 'home/ops/.ssh/authorized_keys'].map((p) => readFileSync(join(root, p), 'utf8'));
  const again = await executeSteps(planAll(config, ['users_groups', 'ssh']).steps, { root });
  assert.deepEqual(failures(again), []);
  assert.deepEqual(['etc/passwd', 'etc/group', 'etc/sudoers.d/90-cloud-init-users', 'home/ops/.ssh/authorized_keys'].map((p) => readFileSync(join(root, p), 'utf8')), snapshot);
  assert.match(again.find((o) => o.action === 'ensure-user')?.reason ?? '', /exists/);
  assert.deepEqual(again[0]?.warnings, []);
});

test('lock_passwd: the shadow entries are what usermod --lock makes, and it runs only when it changes something', async (t) => {
  const { root } = busyboxRoot(t);
  const hash = runOk('openssl', ['passwd', '-6', '-salt', 'atomicsalt', 'secret']).stdout.trim();
  const config: PlainObject = { users: [{ name: 'hashed', hashed_passwd: hash, lock_passwd: true }, { name: 'bare', lock_passwd: true }] };
  const outcomes = await executeSteps(planAll(config, ['users_groups']).steps, { root });
  assert.deepEqual(failures(outcomes), []);
  const locks = outcomes.filter((o) => o.action === 'lock-password');
  assert.equal(locks.length, 2);
  // useradd --password HASH leaves it unlocked: usermod ran. useradd without one leaves '!': it did not.
  assert.equal(locks[0]?.reason, undefined);
  assert.equal(locks[1]?.reason, 'the password of bare is already locked');
  const { shadow } = accounts(root);
  assert.equal(shadow.get('hashed'), `!${hash}`);
  assert.equal(shadow.get('bare'), '!');
  // The oracle: usermod --lock on both now changes nothing at all.
  const before = ['etc/passwd', 'etc/shadow'].map((p) => readFileSync(join(root, p), 'utf8'));
  for (const user of ['hashed', 'bare']) runOk('usermod', ['--root', root, '--lock', user]);
  assert.deepEqual(['etc/passwd', 'etc/shadow'].map((p) => readFileSync(join(root, p), 'utf8')), before);
});

test('a failing, a slow and a chatty command: each step still runs, outcomes say why', async (t) => {
  const { root } = busyboxRoot(t);
  const steps: Step[] = [
    { action: 'run', purpose: 'bootcmd', command: { kind: 'argv', argv: ['/bin/sh', '-c', 'echo partial; echo broke >&2; exit 3'] }, env: {} },
    { action: 'run', purpose: 'bootcmd', command: { kind: 'argv', argv: ['/bin/sh', '-c', 'sleep 30'] }, env: {} },
    { action: 'run', purpose: 'bootcmd', command: { kind: 'argv', argv: ['/bin/sh', '-c', 'i=0; while [ $i -lt 20000 ]; do echo line $i; i=$((i+1)); done'] }, env: {} },
    { action: 'run', purpose: 'bootcmd', command: { kind: 'argv', argv: ['/bin/no-such-command'] }, env: {} },
    { action: 'set-timezone', timezone: 'Mars/Olympus' },
    { action: 'authorized-keys', user: 'ghost', keys: [KEY_A] },
    { action: 'write-file', path: '/etc/ok', content: new TextEncoder().encode('ok\n'), mode: 0o644, owner: 'nobody:nogroup', append: false },
    { action: 'write-file', path: '/etc/owned-by-ghost', content: new Uint8Array(), mode: 0o644, owner: 'ghost', append: false },
    { action: 'write-file', path: '/etc/passwd/inside-a-file', content: new Uint8Array(), mode: 0o644, owner: 'root:root', append: false },
  ];
  const started = Date.now();
  const out = await executeSteps(steps, { root }, { runTimeoutMs: 1500 });
  assert.ok(Date.now() - started < 15_000);
  assert.deepEqual(out.map((o) => o.status), ['failed', 'failed', 'ok', 'failed', 'failed', 'failed', 'ok', 'failed', 'failed']);
  assert.equal(out[0]?.reason, 'bootcmd: exit status 3: broke');
  assert.deepEqual([out[0]?.runs?.[0]?.stdout, out[0]?.runs?.[0]?.stderr], ['partial\n', 'broke\n']);
  assert.match(out[1]?.reason ?? '', /timed out/);
  assert.equal(out[2]?.runs?.[0]?.truncated, true);
  assert.match(out[2]?.runs?.[0]?.stdout ?? '', /line 19999\n$/);
  assert.match(out[4]?.reason ?? '', /invalid time zone Mars\/Olympus/);
  assert.match(out[5]?.reason ?? '', /user ghost does not exist in the root's \/etc\/passwd/);
  assert.match(out[7]?.reason ?? '', /user 'ghost' does not exist/);
  assert.match(out[8]?.reason ?? '', /not a directory/);
  for (const o of out) assert.ok(o.reason === undefined || !o.reason.includes('\n'), 'one-line reasons');
  const ok = statSync(join(root, 'etc/ok'));
  assert.deepEqual([ok.uid, ok.gid], [65534, 65534]);
});

test('symlinks: absolute ones are read inside the root, a final symlink is replaced, never written through', async (t) => {
  const { root } = busyboxRoot(t);
  const host = tempDir(t, 'atomic-host-side-');
  writeFileSync(join(host, 'victim'), 'host file\n');
  // Absolute targets that name real host paths.
  symlinkSync(join(host, 'victim'), join(root, 'etc/evil-file'));
  symlinkSync(host, join(root, 'etc/evil-dir'));
  mkdirSync(join(root, 'run/lock'), { recursive: true });
  symlinkSync('/run', join(root, 'var/run'));
  const w = (path: string, append = false): Step => ({ action: 'write-file', path, content: new TextEncoder().encode('mine\n'), mode: 0o644, owner: 'root:root', append });
  const out = await executeSteps([w('/etc/evil-file'), w('/etc/evil-dir/new'), w('/var/run/lock/app.pid'), w('/etc/evil-file', true)], { root });
  assert.deepEqual(out.map((o) => o.status), ['ok', 'ok', 'ok', 'ok']);
  assert.equal(readFileSync(join(host, 'victim'), 'utf8'), 'host file\n');
  assert.equal(existsSync(join(host, 'new')), false);
  assert.equal(lstatSync(join(root, 'etc/evil-file')).isFile(), true, 'the symlink was replaced by a file');
  assert.equal(readFileSync(join(root, 'etc/evil-file'), 'utf8'), 'mine\nmine\n');
  assert.equal(readFileSync(join(root, host, 'new'), 'utf8'), 'mine\n');
  assert.equal(readFileSync(join(root, 'run/lock/app.pid'), 'utf8'), 'mine\n');
  // A home whose .ssh is a symlink out of the tree is refused.
  const { steps } = planAll({ users: [{ name: 'mallory' }] }, ['users_groups']);
  assert.deepEqual(failures(await executeSteps(steps, { root })), []);
  symlinkSync(host, join(root, 'home/mallory/.ssh'));
  const keys = await executeSteps([{ action: 'authorized-keys', user: 'mallory', keys: [KEY_A] }], { root });
  assert.match(keys[0]?.reason ?? '', /symbolic link/);
  assert.equal(existsSync(join(host, 'authorized_keys')), false);
});

test('update_hostname leaves a hostname the user changed; manage_etc_hosts localhost edits the file', async (t) => {
  const { root } = busyboxRoot(t);
  const first = await executeSteps(planAll({ hostname: 'web', manage_etc_hosts: 'localhost' }, ['set_hostname', 'update_hostname', 'update_etc_hosts']).steps, { root });
  assert.deepEqual(failures(first), []);
  assert.equal(readFileSync(join(root, 'etc/hostname'), 'utf8'), 'web\n');
  // With only `hostname`, the fqdn comes from the metadata's local-hostname (util.get_hostname_fqdn).
  assert.equal(readFileSync(join(root, 'etc/hosts'), 'utf8'), '127.0.0.1\tlocalhost\n127.0.1.1\tmeta-name\tweb\n\n');
  writeFileSync(join(root, 'etc/hostname'), 'mine\n');
  const second = await executeSteps(planAll({ hostname: 'other' }, ['update_hostname']).steps, { root });
  assert.match(second[0]?.reason ?? '', /maintained by the user/);
  assert.equal(readFileSync(join(root, 'etc/hostname'), 'utf8'), 'mine\n');
});

test('an abort cancels the running command and every step after it', async (t) => {
  const { root } = busyboxRoot(t);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 300);
  const out = await executeSteps(
    [
      { action: 'run', purpose: 'bootcmd', command: { kind: 'argv', argv: ['/bin/sh', '-c', 'sleep 20'] }, env: {} },
      { action: 'set-timezone', timezone: 'Etc/UTC' },
    ],
    { root },
    { signal: ac.signal },
  );
  assert.deepEqual(out.map((o) => o.status), ['cancelled', 'cancelled']);
});

test('a live target also sets the kernel hostname (in a private UTS namespace); a root tree never does', async (t) => {
  const { root } = busyboxRoot(t);
  const kernelFile = join(tempDir(t), 'hostname');
  writeFileSync(kernelFile, 'before\n');
  await executeSteps([{ action: 'set-hostname', hostname: 'tree-only' }], { root, kernelHostnamePath: kernelFile });
  assert.equal(readFileSync(kernelFile, 'utf8'), 'before\n', 'not live: the kernel name is left alone');
  assert.equal(readFileSync(join(root, 'etc/hostname'), 'utf8').trim(), 'tree-only');

  // The real thing: sethostname through /proc/sys/kernel/hostname, in a UTS namespace of its own.
  const steps = join(REPO, 'dist', 'src', 'adapters', 'rootfs', 'execute-steps.js');
  const script = `const m = await import(${JSON.stringify(steps)}); const os = await import('node:os');
    const r = await m.executeSteps([{ action: 'set-hostname', hostname: 'live-host-7' }], { root: ${JSON.stringify(root)}, live: true });
    process.stdout.write(r[0].status + ' ' + os.hostname());`;
  const out = runOk('unshare', ['--uts', process.execPath, '--input-type=module', '-e', script]).stdout;
  assert.equal(out, 'ok live-host-7');
  assert.equal(readFileSync(join(root, 'etc/hostname'), 'utf8').trim(), 'live-host-7');
  assert.notEqual(runOk('hostname', []).stdout.trim(), 'live-host-7', "the test machine's own hostname is untouched");
});
