// `atomicd provision` end to end against busybox root trees: the real shadow tools, chroot, our
// ISO writer and reader, loopback NoCloud-net and the fake IMDSv2 server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { busyboxRoot } from '../fixtures/busybox-root.js';
import { startSeedHttpServer } from '../fixtures/seed-http-server.js';
import { startFakeImds } from '../fakes/imds-server.js';
import { AGENT, runAgent, runAgentAsync, runCli, runOk, tempDir } from '../helpers.js';

const ALICE_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGFsaWNlLXRlc3Qta2V5LW5vdC1yZWFsLTAwMDAwMDAw alice@test';
const DEFAULT_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRlZmF1bHQtdGVzdC1rZXktbm90LXJlYWwtMDAwMDAw default@test';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const gzB64 = (s: string): string => gzipSync(s).toString('base64');

/** A cloud-config that touches every module the issue lists. */
const USER_DATA = `#cloud-config
hostname: node-7
fqdn: node-7.example.internal
manage_etc_hosts: true
timezone: Europe/Paris
groups:
  - ops
  - admins: [root]
users:
  - default
  - name: alice
    gecos: Alice
    groups: [ops, adm]
    shell: /bin/sh
    sudo: ALL=(ALL) NOPASSWD:ALL
    lock_passwd: true
    ssh_authorized_keys: [${ALICE_KEY}]
  - name: svc
    system: true
    no_create_home: true
ssh_authorized_keys: [${DEFAULT_KEY}]
write_files:
  - path: /etc/app/plain.txt
    content: "plain text\\n"
    permissions: '0640'
    owner: alice:ops
    defer: true
  - path: /etc/app/b64.txt
    encoding: b64
    content: ${b64('from base64\n')}
  - path: /etc/app/gz-b64.txt
    encoding: gz+b64
    content: ${gzB64('from gzip and base64\n')}
  - path: /etc/app/gzip.txt
    encoding: gzip
    content: !!binary |
      ${gzB64('from raw gzip\n')}
  - path: /etc/app/deferred.txt
    content: "written in the final stage\\n"
    defer: true
  - path: /etc/motd
    append: true
    content: "appended line\\n"
bootcmd:
  - echo boot >> /var/log/bootcmd.count
runcmd:
  - echo run >> /var/log/runcmd.count
  - [sh, -c, 'id alice > /var/log/alice.id']
`;

function seedDir(parent: string, instanceId: string, userData = USER_DATA): string {
  const dir = join(parent, `seed-${instanceId}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'user-data'), userData);
  writeFileSync(join(dir, 'meta-data'), `instance-id: ${instanceId}\nlocal-hostname: node-7\n`);
  return dir;
}

function lines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n').filter((l) => l !== '') : [];
}

/** uid/gid of `name` in the ROOT's databases (the host's do not matter). */
function account(root: string, name: string): { uid: number; gid: number; home: string } {
  const line = readFileSync(join(root, 'etc/passwd'), 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  assert.ok(line !== undefined, `${name} in ${root}/etc/passwd`);
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]), home: f[5]! };
}
function groupId(root: string, name: string): number {
  const line = readFileSync(join(root, 'etc/group'), 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  assert.ok(line !== undefined, `group ${name} in ${root}/etc/group`);
  return Number(line.split(':')[2]);
}
function groupMembers(root: string, name: string): string[] {
  const line = readFileSync(join(root, 'etc/group'), 'utf8').split('\n').find((l) => l.startsWith(`${name}:`)) ?? '';
  return (line.split(':')[3] ?? '').split(',').filter((m) => m !== '');
}

interface Status {
  state: string;
  ok: boolean;
  newInstance?: boolean;
  datasource?: { name: string; instanceId: string };
  modules: { name: string; state: string; ok: boolean; failures: string[] }[];
  errors: string[];
  noDatasource?: { reasons: string[] };
}
function provisionJson(root: string, args: readonly string[]): { status: Status; exit: number; stderr: string } {
  const r = runAgent(['--log-level', 'warn', 'provision', '--root', root, '--json', ...args]);
  return { status: JSON.parse(r.stdout) as Status, exit: r.status, stderr: r.stderr };
}

test('a typical seed applied to a busybox root: accounts, keys, sudo, files, hostname, hosts, timezone, commands', (t) => {
  const { root } = busyboxRoot(t);
  const dir = tempDir(t);
  const { status, exit, stderr } = provisionJson(root, ['--seed', seedDir(dir, 'iid-one')]);
  assert.equal(exit, 0, `${stderr}\n${JSON.stringify(status.errors)}`);
  assert.equal(status.ok, true);
  assert.deepEqual(status.datasource, { name: 'NoCloud', source: seedDir(dir, 'iid-one'), instanceId: 'iid-one' });

  // Users and groups, in the root's databases, made by the shadow tools.
  const alice = account(root, 'alice');
  const atomic = account(root, 'atomic');
  assert.equal(alice.home, '/home/alice');
  assert.ok(alice.uid >= 2000, 'UID_MIN of the root\'s login.defs');
  assert.ok(groupMembers(root, 'ops').includes('alice'));
  assert.ok(groupMembers(root, 'adm').includes('alice'));
  assert.ok(groupMembers(root, 'admins').includes('root'));
  const svc = account(root, 'svc');
  assert.ok(svc.uid < 1000, 'system user');
  assert.equal(existsSync(join(root, 'home/svc')), false, 'no_create_home');
  assert.match(readFileSync(join(root, 'etc/shadow'), 'utf8'), /^alice:!/m, 'lock_passwd locks the password');

  // SSH keys: 0700 / 0600, owned by the user (uid from the root's passwd).
  for (const [user, key] of [['alice', ALICE_KEY], ['atomic', DEFAULT_KEY]] as const) {
    const acct = account(root, user);
    const sshDir = join(root, acct.home.slice(1), '.ssh');
    const keys = join(sshDir, 'authorized_keys');
    assert.equal(statSync(sshDir).mode & 0o777, 0o700);
    assert.equal(statSync(keys).mode & 0o777, 0o600);
    assert.equal(statSync(keys).uid, acct.uid);
    assert.equal(statSync(keys).gid, acct.gid);
    assert.ok(readFileSync(keys, 'utf8').includes(key), `${user}'s key`);
  }
  assert.ok(atomic.uid >= 2000);

  // sudoers drop-in.
  const sudoers = join(root, 'etc/sudoers.d/90-cloud-init-users');
  assert.equal(statSync(sudoers).mode & 0o777, 0o440);
  const rules = readFileSync(sudoers, 'utf8');
  assert.match(rules, /^alice ALL=\(ALL\) NOPASSWD:ALL$/m);
  assert.match(rules, /^atomic ALL=\(ALL\) NOPASSWD:ALL$/m);

  // write_files: every encoding, owner from the root's databases, mode, append, defer.
  const plain = join(root, 'etc/app/plain.txt');
  assert.equal(readFileSync(plain, 'utf8'), 'plain text\n');
  assert.equal(statSync(plain).mode & 0o777, 0o640);
  assert.equal(statSync(plain).uid, alice.uid);
  assert.equal(statSync(plain).gid, groupId(root, 'ops'));
  assert.equal(readFileSync(join(root, 'etc/app/b64.txt'), 'utf8'), 'from base64\n');
  assert.equal(readFileSync(join(root, 'etc/app/gz-b64.txt'), 'utf8'), 'from gzip and base64\n');
  assert.equal(readFileSync(join(root, 'etc/app/gzip.txt'), 'utf8'), 'from raw gzip\n');
  assert.equal(readFileSync(join(root, 'etc/app/deferred.txt'), 'utf8'), 'written in the final stage\n');
  assert.equal(readFileSync(join(root, 'etc/motd'), 'utf8'), 'appended line\n');
  // owner alice:ops needs `defer: true`: write_files runs before users_groups, as in cloud-init.
  const order = status.modules.map((m) => m.name);
  assert.ok(order.indexOf('write_files_deferred') > order.indexOf('users_groups'), 'deferred files come after users exist');

  // Hostname, /etc/hosts, timezone.
  assert.equal(readFileSync(join(root, 'etc/hostname'), 'utf8').trim(), 'node-7');
  assert.match(readFileSync(join(root, 'etc/hosts'), 'utf8'), /^127\.0\.1\.1 node-7\.example\.internal node-7$/m);
  assert.equal(readlinkSync(join(root, 'etc/localtime')), '/usr/share/zoneinfo/Europe/Paris');
  assert.equal(readFileSync(join(root, 'etc/timezone'), 'utf8').trim(), 'Europe/Paris');

  // Commands ran inside the root: what they wrote is there (and `id` saw the root's alice).
  assert.deepEqual(lines(join(root, 'var/log/bootcmd.count')), ['boot']);
  assert.deepEqual(lines(join(root, 'var/log/runcmd.count')), ['run']);
  assert.match(readFileSync(join(root, 'var/log/alice.id'), 'utf8'), new RegExp(`uid=${alice.uid}\\(alice\\)`));
  assert.equal(existsSync('/var/log/runcmd.count'), false, 'nothing ran on the host');
});

test('runcmd runs once per instance-id, bootcmd at every boot; a new instance-id runs per-instance modules again', (t) => {
  const { root } = busyboxRoot(t);
  const dir = tempDir(t);
  const first = provisionJson(root, ['--seed', seedDir(dir, 'iid-a')]);
  assert.equal(first.exit, 0, first.stderr);
  assert.equal(first.status.newInstance, true);

  const again = provisionJson(root, ['--seed', seedDir(dir, 'iid-a')]);
  assert.equal(again.exit, 0, again.stderr);
  assert.equal(again.status.newInstance, false);
  const state = (name: string): string | undefined => again.status.modules.find((m) => m.name === name)?.state;
  assert.equal(state('runcmd'), 'skipped');
  assert.equal(state('scripts_user'), 'skipped');
  assert.equal(state('users_groups'), 'skipped');
  assert.equal(state('bootcmd'), 'ran');
  assert.deepEqual(lines(join(root, 'var/log/runcmd.count')), ['run']);
  assert.deepEqual(lines(join(root, 'var/log/bootcmd.count')), ['boot', 'boot']);
  assert.equal(readFileSync(join(root, 'etc/motd'), 'utf8'), 'appended line\n', 'per-instance write_files did not append again');

  const next = provisionJson(root, ['--seed', seedDir(dir, 'iid-b')]);
  assert.equal(next.exit, 0, next.stderr);
  assert.equal(next.status.newInstance, true);
  assert.deepEqual(lines(join(root, 'var/log/runcmd.count')), ['run', 'run']);
  assert.deepEqual(lines(join(root, 'var/log/bootcmd.count')), ['boot', 'boot', 'boot']);
  assert.equal(readFileSync(join(root, 'var/lib/atomicd/cloud/data/previous-instance-id'), 'utf8').trim(), 'iid-a');

  const s = runCli(['cloud-init', 'status', '--root', root]);
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stdout, /^status: done$/m);
  assert.match(s.stdout, /instance-id iid-b \(new instance\)/);
});

/** What provisioning left in a root, for comparing roots provisioned from different media. */
function applied(root: string): Record<string, string> {
  const read = (p: string): string => (existsSync(join(root, p)) ? readFileSync(join(root, p), 'utf8') : '<missing>');
  const alice = account(root, 'alice');
  return {
    hostname: read('etc/hostname'),
    hosts: read('etc/hosts').split('\n').filter((l) => l.startsWith('127.0.1.1')).join('\n'),
    alice: `${alice.uid}:${alice.gid}:${alice.home}`,
    aliceKeys: read('home/alice/.ssh/authorized_keys'),
    defaultKeys: read('home/atomic/.ssh/authorized_keys'),
    // Its header carries the time it was written.
    sudoers: read('etc/sudoers.d/90-cloud-init-users').split('\n').filter((l) => !l.startsWith('# Created')).join('\n'),
    files: ['plain.txt', 'b64.txt', 'gz-b64.txt', 'gzip.txt', 'deferred.txt'].map((f) => read(`etc/app/${f}`)).join('|'),
    runcmd: read('var/log/runcmd.count'),
    instanceId: read('var/lib/atomicd/cloud/data/instance-id'),
  };
}

test('the same seed as ISO, vfat, directory, NoCloud-net over loopback HTTP and IMDSv2 gives the same result', async (t) => {
  const dir = tempDir(t);
  const src = seedDir(dir, 'iid-media');
  writeFileSync(join(src, 'meta-data'), `instance-id: iid-media\nlocal-hostname: node-7\npublic-keys:\n  - ${DEFAULT_KEY}\n`);
  const userDataNoKey = USER_DATA.replace(`ssh_authorized_keys: [${DEFAULT_KEY}]\n`, '');
  writeFileSync(join(src, 'user-data'), userDataNoKey);
  const iso = join(dir, 'seed.iso');
  const vfat = join(dir, 'seed.vfat');
  for (const [out, format] of [[iso, 'iso'], [vfat, 'vfat']] as const) {
    const r = runCli(['seed', 'create', '--format', format, '-o', out, '--user-data', join(src, 'user-data'), '--meta-data', join(src, 'meta-data')]);
    assert.equal(r.status, 0, r.stderr);
  }
  const http = await startSeedHttpServer({ dir: src });
  t.after(() => http.close());
  const imds = await startFakeImds({
    instanceId: 'iid-media',
    localHostname: 'node-7',
    publicKeys: [{ name: 'default', key: DEFAULT_KEY }],
    userData: Buffer.from(userDataNoKey),
  });
  t.after(() => imds.close());

  const media: Record<string, string[]> = {
    iso: ['--seed', iso],
    vfat: ['--seed', vfat],
    directory: ['--seed', src],
    'nocloud-net': ['--seed', http.url],
    imds: ['--datasource', 'ec2', '--metadata-url', imds.url, '--dmi-dir', join(dir, 'no-dmi')],
  };
  const results: Record<string, Record<string, string>> = {};
  for (const [name, args] of Object.entries(media)) {
    const { root } = busyboxRoot(t);
    const r = await runAgentAsync(['--log-level', 'warn', 'provision', '--root', root, '--json', ...args]);
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    results[name] = applied(root);
  }
  const fromIso = results.iso!;
  assert.ok(fromIso.aliceKeys!.includes(ALICE_KEY));
  assert.ok(fromIso.defaultKeys!.includes(DEFAULT_KEY), 'metadata public keys go to the default user');
  for (const name of Object.keys(media)) assert.deepEqual(results[name], fromIso, `${name} applies what the ISO seed applies`);
  assert.ok(imds.requests.length > 0 && imds.requests.every((q) => q.method === 'PUT' || q.tokenPresent), 'every IMDS GET carried the token');
});

test('no datasource: done at once with the reasons, nothing applied, no network', async (t) => {
  const { root } = busyboxRoot(t);
  const dir = tempDir(t);
  const imds = await startFakeImds({ instanceId: 'never' });
  t.after(() => imds.close());
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  writeFileSync(join(dir, 'cmdline'), 'console=ttyS0 root=/dev/vda1\n');
  const r = await runAgentAsync(['--log-level', 'warn', 'provision', '--root', root, '--json', '--cmdline', join(dir, 'cmdline'), '--dmi-dir', empty, '--sys-block-dir', empty, '--metadata-url', imds.url]);
  assert.equal(r.status, 0, r.stderr);
  const status = JSON.parse(r.stdout) as Status;
  assert.equal(status.state, 'done');
  assert.ok(status.noDatasource !== undefined && status.noDatasource.reasons.length > 0);
  assert.deepEqual(status.modules, []);
  assert.equal(imds.requests.length, 0, 'the metadata service was not asked');
  assert.equal(readFileSync(join(root, 'etc/hostname'), 'utf8'), 'localhost\n');
});

test('invalid YAML in one MIME part does not stop the other parts; the status names the part and line', (t) => {
  const { root } = busyboxRoot(t);
  const dir = tempDir(t);
  const good = join(dir, 'good.yaml');
  const bad = join(dir, 'bad.yaml');
  const script = join(dir, 'hello.sh');
  writeFileSync(good, '#cloud-config\nwrite_files:\n  - path: /etc/good\n    content: "good part\\n"\n');
  writeFileSync(bad, '#cloud-config\nruncmd:\n  - [echo, unclosed\nhostname: x\n');
  writeFileSync(script, '#!/bin/sh\necho script part > /var/log/script-part\n');
  const ud = join(dir, 'user-data');
  const mime = runCli(['cloud-init', 'mime', '--no-validate', '-o', ud, `${good}:cloud-config`, `${bad}:cloud-config`, `${script}:x-shellscript`]);
  assert.equal(mime.status, 0, mime.stderr);
  const seed = join(dir, 'seed');
  mkdirSync(seed);
  writeFileSync(join(seed, 'user-data'), readFileSync(ud));
  writeFileSync(join(seed, 'meta-data'), 'instance-id: iid-mime\n');
  const { status, exit } = provisionJson(root, ['--seed', seed]);
  assert.equal(exit, 1, 'some part failed');
  assert.equal(readFileSync(join(root, 'etc/good'), 'utf8'), 'good part\n');
  assert.equal(readFileSync(join(root, 'var/log/script-part'), 'utf8'), 'script part\n');
  assert.ok(status.errors.some((e) => /user-data#part-2\(bad\.yaml\):4:\d+: \/: YAML/.test(e)), status.errors.join('\n'));
});

// An absolute symlink inside the root is resolved inside the root, as chroot(2) and the booted
// system see it (Debian's /var/run -> /run must keep working); it never leads to the host.
test('write_files escaping the root (../, symlinks climbing out) is refused, absolute symlinks stay inside; bad base64 fails that file only', (t) => {
  const fixture = busyboxRoot(t);
  const { root } = fixture;
  const dir = tempDir(t);
  const marker = `atomic-escape-${process.pid}-${Date.now()}`;
  const ud = `#cloud-config
write_files:
  - path: /../../../../tmp/${marker}-dotdot
    content: escaped
  - path: ${fixture.absoluteEtcLink}/${marker}-abs
    content: escaped
  - path: ${fixture.climbingEtcLink}/${marker}-up
    content: escaped
  - path: /etc/bad-b64
    encoding: b64
    content: "not*base64!"
  - path: /etc/after-bad
    content: "still written\\n"
`;
  const { status, exit } = provisionJson(root, ['--seed', seedDir(dir, 'iid-escape', ud)]);
  assert.equal(exit, 1);
  const wf = status.modules.find((m) => m.name === 'write_files');
  assert.ok(wf !== undefined && !wf.ok);
  assert.equal(wf.failures.length, 3, wf.failures.join('\n'));
  assert.ok(wf.failures.some((f) => f.includes(`${marker}-dotdot`) && /'\.\.'/.test(f)), wf.failures.join('\n'));
  assert.ok(wf.failures.some((f) => f.includes(`${marker}-up`) && /above the root/.test(f)), wf.failures.join('\n'));
  assert.equal(readFileSync(join(root, 'etc', `${marker}-abs`), 'utf8'), 'escaped', 'written inside the root, where the link points when booted');
  assert.ok(wf.failures.some((f) => /bad-b64/.test(f) && /base64/i.test(f)), wf.failures.join('\n'));
  for (const leaked of [`/tmp/${marker}-dotdot`, `/etc/${marker}-abs`, `/etc/${marker}-up`]) assert.equal(existsSync(leaked), false, `${leaked} was written on the host`);
  assert.equal(lstatSync(join(root, 'var/lib/etc-abs')).isSymbolicLink(), true, 'the symlink is left as it was');
  assert.equal(existsSync(join(root, 'etc/bad-b64')), false);
  assert.equal(readFileSync(join(root, 'etc/after-bad'), 'utf8'), 'still written\n');
});

test('oversized user-data and an unreachable seed URL end with a clear status, not a hang', async (t) => {
  const { root } = busyboxRoot(t);
  const dir = tempDir(t);
  const big = join(dir, 'big');
  mkdirSync(big);
  writeFileSync(join(big, 'user-data'), Buffer.concat([Buffer.from('#cloud-config\n# '), Buffer.alloc(17 * 1024 * 1024, 0x61), Buffer.from('\n')]));
  writeFileSync(join(big, 'meta-data'), 'instance-id: iid-big\n');
  const r1 = provisionJson(root, ['--seed', big]);
  assert.equal(r1.exit, 1);
  assert.equal(r1.status.state, 'error');
  assert.ok(r1.status.errors.some((e) => /user-data/.test(e) && /16777216|16 MiB|larger|too large/i.test(e)), r1.status.errors.join('\n'));

  // A port nobody listens on: refused at once; and a server that never answers: the timeout ends it.
  const hang = await startSeedHttpServer({ files: {}, hang: true });
  t.after(() => hang.close());
  for (const url of ['http://127.0.0.1:9/seed/', hang.url]) {
    const r = await runAgentAsync(['--log-level', 'warn', 'provision', '--root', root, '--json', '--timeout', '2', '--seed', url]);
    assert.equal(r.status, 1, r.stderr);
    const s = JSON.parse(r.stdout) as Status;
    assert.equal(s.state, 'error');
    assert.ok(s.errors.length === 1 && /datasource/.test(s.errors[0]!), s.errors.join('\n'));
  }
  const status = runCli(['cloud-init', 'status', '--root', root]);
  assert.equal(status.status, 1);
  assert.match(status.stdout, /^status: error$/m);
});

test('atomicd provision: usage errors exit 2 with one line', () => {
  const noRoot = runAgent(['provision']);
  assert.equal(noRoot.status, 2);
  assert.match(noRoot.stderr, /--root DIR is required/);
  const badDs = runAgent(['provision', '--root', '/tmp', '--datasource', 'azure']);
  assert.equal(badDs.status, 2);
  assert.match(badDs.stderr, /--datasource "azure"/);
  const unknown = runAgent(['frobnicate']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  assert.match(runOk(process.execPath, [AGENT, 'provision', '--help']).stdout, /--seed PATH\|URL/);
});
