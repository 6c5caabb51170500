// `atomic host` end to end on temp sysroots with a real archive repo served over loopback HTTP;
// after each step the real ostree CLI (`ostree admin status`, `ostree fsck`) must agree with us.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { commitmeta, ed25519Entry, newKey, objectPath, signFile } from '../fixtures/ed25519-sign.js';
import { adminStatus, blsEntries, cliCommit, fsck, makeGpgKey, makeOsTree, ostree, ostreeTempDir, serveRepo, STATEROOT, type RepoServer } from '../fixtures/ostree-env.js';
import { CLI, DIST, runCliAsync, type RunResult } from '../helpers.js';

const REF = 'testos/x86_64/stable';

interface Env {
  readonly dir: string;
  readonly repo: string;
  readonly server: RepoServer;
  readonly sysroot: string;
  readonly commits: Record<string, string>;
  commit(version: string, opts?: { gpg?: ReturnType<typeof makeGpgKey>; ref?: string }): string;
  host(args: readonly string[]): Promise<RunResult>;
  hostOk(args: readonly string[]): Promise<RunResult>;
}

async function env(t: Parameters<typeof ostreeTempDir>[0], opts: { gpgVerify?: boolean } = {}): Promise<Env> {
  const dir = ostreeTempDir(t);
  const repo = join(dir, 'repo');
  ostree(['init', '--mode=archive', `--repo=${repo}`]);
  const server = await serveRepo(repo);
  t.after(() => server.close());
  const sysroot = join(dir, 'sysroot');
  const commits: Record<string, string> = {};
  const e: Env = {
    dir,
    repo,
    server,
    sysroot,
    commits,
    commit(version, o = {}) {
      const tree = makeOsTree(join(dir, `tree-${version}-${Object.keys(commits).length}`), { version });
      const csum = cliCommit(repo, tree, { branch: o.ref ?? REF, subject: `Test OS ${version}`, version, ...(o.gpg === undefined ? {} : { gpgSign: o.gpg }) });
      commits[version] = csum;
      return csum;
    },
    host: (args) => runCliAsync(['host', ...args, '--sysroot', sysroot]),
    async hostOk(args) {
      const r = await e.host(args);
      assert.equal(r.status, 0, `atomic host ${args.join(' ')}: ${r.stderr}${r.stdout}`);
      return r;
    },
  };
  assert.equal((await runCliAsync(['host', 'init', '--sysroot', sysroot, '--os', STATEROOT])).status, 0);
  await e.hostOk(['remote', 'add', 'origin', server.url, ...(opts.gpgVerify === true ? [] : ['--no-gpg-verify'])]);
  return e;
}

interface StatusJson {
  deployments: { index: number; csum: string; deployserial: number; version?: string; default: boolean; rollback: boolean; pinned: boolean; originRefspec?: string; kargs: string[] }[];
  lastError?: { operation: string; message: string };
}
const status = async (e: Env): Promise<StatusJson> => JSON.parse((await e.hostOk(['status', '--json'])).stdout) as StatusJson;

/** Our view and the real CLI's agree on the order, the commits, pins and origins; fsck is clean. */
async function agree(e: Env): Promise<void> {
  const ours = (await status(e)).deployments;
  const theirs = adminStatus(e.sysroot);
  assert.deepEqual(
    ours.map((d) => [d.csum, d.version, d.pinned, d.originRefspec]),
    theirs.map((d) => [d.csum, d.version, d.pinned, d.originRefspec]),
    'atomic host status vs ostree admin status',
  );
  const check = fsck(join(e.sysroot, 'ostree', 'repo'));
  assert.match(check, /no errors found/);
  assert.doesNotMatch(check, /corrupt/i);
  // The BLS entries are in the same order (libostree gives the default the highest version) and
  // our grub.cfg lists them in that order too.
  const bls = blsEntries(e.sysroot);
  assert.equal(bls.length, ours.length);
  const grub = readFileSync(join(e.sysroot, 'boot', 'loader', 'grub.cfg'), 'utf8');
  // Each menu entry's ostree= path is a symlink chain to its deployment directory (CSUM.SERIAL).
  const menu = [...grub.matchAll(/ostree=(\/ostree\/boot\.\d\/\S+)/g)].map((m) => basename(realpathSync(join(e.sysroot, m[1]!))));
  assert.deepEqual(menu, ours.map((d) => `${d.csum}.${d.deployserial}`), `grub.cfg menu order:\n${grub}`);
}

test('init, deploy v1, upgrade to v2, --check with and without an update, rollback, pin, cleanup', async (t) => {
  const e = await env(t);
  e.commit('1');
  await e.hostOk(['rebase', `origin:${REF}`, '--os', STATEROOT]);
  assert.deepEqual((await status(e)).deployments.map((d) => d.version), ['1']);
  await agree(e);

  const none = await e.host(['upgrade', '--check']);
  assert.equal(none.status, 77, 'no update: exit 77 like rpm-ostree');
  assert.match(none.stdout, /No update available/);

  e.commit('2');
  const check = await e.hostOk(['upgrade', '--check']);
  assert.match(check.stdout, /Update available: .* \(version 2\)/);
  assert.deepEqual((await status(e)).deployments.map((d) => d.version), ['1'], '--check changes nothing');

  await e.hostOk(['upgrade']);
  let s = await status(e);
  assert.deepEqual(s.deployments.map((d) => [d.version, d.default, d.rollback]), [['2', true, false], ['1', false, true]]);
  await agree(e);

  await e.hostOk(['rollback']);
  s = await status(e);
  assert.deepEqual(s.deployments.map((d) => d.version), ['1', '2'], 'v1 is the default again');
  await agree(e);
  await e.hostOk(['rollback']);
  assert.deepEqual((await status(e)).deployments.map((d) => d.version), ['2', '1']);

  await e.hostOk(['pin', '1']);
  assert.deepEqual((await status(e)).deployments.map((d) => d.pinned), [false, true]);
  await agree(e);
  const refused = await e.host(['cleanup', '--rollback']);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /pinned; unpin it first/);
  await e.hostOk(['unpin', '1']);
  await e.hostOk(['cleanup', '--rollback']);
  assert.deepEqual((await status(e)).deployments.map((d) => d.version), ['2']);
  await agree(e);
});

test('deploy VERSION and CHECKSUM, rebase to another ref, kargs', async (t) => {
  const e = await env(t);
  e.commit('1');
  await e.hostOk(['rebase', `origin:${REF}`, '--os', STATEROOT]);
  e.commit('2');
  e.commit('3');
  await e.hostOk(['deploy', '2']);
  assert.equal((await status(e)).deployments[0]!.version, '2');
  await e.hostOk(['deploy', e.commits['3']!]);
  assert.equal((await status(e)).deployments[0]!.version, '3');
  await agree(e);
  const missing = await e.host(['deploy', '9.9']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /has no commit with version 9\.9 \(versions: 3, 2, 1\)/);

  e.commit('10', { ref: 'testos/x86_64/testing' });
  await e.hostOk(['rebase', 'origin:testos/x86_64/testing']);
  const s = await status(e);
  assert.equal(s.deployments[0]!.version, '10');
  assert.equal(s.deployments[0]!.originRefspec, 'origin:testos/x86_64/testing');
  await agree(e);

  await e.hostOk(['kargs', '--append', 'console=ttyS0', '--append', 'quiet']);
  await e.hostOk(['kargs', '--replace', 'console=ttyS0=ttyS1', '--delete', 'quiet']);
  const kargs = (await e.hostOk(['kargs'])).stdout.trim().split(' ');
  assert.ok(kargs.includes('console=ttyS1') && !kargs.includes('quiet'), kargs.join(' '));
  const bls = blsEntries(e.sysroot)[0]!;
  assert.match(bls.options, /console=ttyS1/);
  assert.match(readFileSync(join(e.sysroot, 'boot', 'loader', 'grub.cfg'), 'utf8'), /console=ttyS1/);
  await agree(e);
});

test('GPG: a signed commit deploys; unsigned and wrong-key commits are refused', async (t) => {
  const e = await env(t, { gpgVerify: true });
  const good = makeGpgKey(e.dir, 'good');
  const bad = makeGpgKey(e.dir, 'bad');
  await e.hostOk(['remote', 'delete', 'origin']);
  await e.hostOk(['remote', 'add', 'origin', e.server.url, '--gpg-import', good.publicKey]);
  e.commit('1', { gpg: good });
  await e.hostOk(['rebase', `origin:${REF}`, '--os', STATEROOT]);
  e.commit('2');
  const unsigned = await e.host(['upgrade']);
  assert.notEqual(unsigned.status, 0);
  assert.match(unsigned.stderr, /GPG|signature/i);
  e.commit('3', { gpg: bad });
  const wrong = await e.host(['upgrade']);
  assert.notEqual(wrong.status, 0);
  assert.match(wrong.stderr, /GPG|signature|key/i);
  assert.deepEqual((await status(e)).deployments.map((d) => d.version), ['1'], 'nothing deployed');
  const last = (await status(e)).lastError;
  assert.ok(last !== undefined && last.operation === 'upgrade', 'status shows the last update error');
  e.commit('4', { gpg: good });
  await e.hostOk(['upgrade']);
  assert.deepEqual((await status(e)).deployments.map((d) => d.version), ['4', '1']);
  assert.equal((await status(e)).lastError, undefined, 'a successful operation clears the last error');
});

test('bad input: one line, the right exit code, nothing changed', async (t) => {
  const e = await env(t);
  e.commit('1');
  await e.hostOk(['rebase', `origin:${REF}`, '--os', STATEROOT]);
  const before = JSON.stringify(adminStatus(e.sysroot));
  const cases: [readonly string[], number, RegExp][] = [
    [['pin', '99'], 2, /no deployment with index 99 \(there is 1: 0\.\.0\)/],
    [['deploy', 'no-such-version'], 2, /has no commit with version no-such-version/],
    [['rebase', 'nosuchremote:a/b'], 2, /no remote named nosuchremote/],
    [['rebase', 'not a refspec'], 2, /is not/],
  ];
  for (const [args, code, pattern] of cases) {
    const r = await e.host(args);
    assert.equal(r.status, code, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, pattern);
  }
  const gone = await runCliAsync(['host', 'status', '--sysroot', join(e.dir, 'nope')]);
  assert.notEqual(gone.status, 0);
  assert.equal(gone.stderr.trim().split('\n').length, 1, gone.stderr);
  const notSysroot = await runCliAsync(['host', 'status', '--sysroot', e.dir]);
  assert.notEqual(notSysroot.status, 0);
  assert.equal(notSysroot.stderr.trim().split('\n').length, 1, notSysroot.stderr);

  // Unreachable remote: libostree's bounded retries, then a clear error.
  await e.hostOk(['remote', 'add', 'dead', 'http://127.0.0.1:9']);
  const dead = await e.host(['rebase', `dead:${REF}`]);
  assert.notEqual(dead.status, 0);
  assert.match(dead.stderr, /127\.0\.0\.1:9|connect|refused/i);
  assert.equal(dead.stderr.trim().split('\n').length, 1, dead.stderr);
  assert.equal(JSON.stringify(adminStatus(e.sysroot)), before, 'nothing changed');
  assert.equal(existsSync(join(e.sysroot, 'ostree', 'atomic-lock.pid')), false, 'no stale lock record');
});

test('a second concurrent operation fails fast with the holder\'s pid', async (t) => {
  const e = await env(t);
  e.commit('1');
  await e.hostOk(['rebase', `origin:${REF}`, '--os', STATEROOT]);
  // Hold the sysroot lock from another process the way libostree does (an OFD lock on
  // ostree/lock, which flock(1) cannot take): a second process using the binding.
  writeFileSync(join(e.sysroot, 'ostree', 'atomic-lock.pid'), `${process.pid}\n`);
  const { spawn } = await import('node:child_process');
  const holderScript = `const { Sysroot } = await import(${JSON.stringify(join(DIST, 'src', 'adapters', 'ostree', 'sysroot.js'))});
    const s = await Sysroot.open(${JSON.stringify(e.sysroot)}); await s.lock(); process.stdout.write('locked\\n'); setTimeout(() => {}, 60000);`;
  const holder = spawn(process.execPath, ['--input-type=module', '-e', holderScript], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => holder.kill('SIGKILL'));
  await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
  const r = await e.host(['upgrade']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`another operation is in progress \\(pid ${process.pid}\\)`));
});

test('ed25519 (upstream ostree sign format): a signed commit deploys; unsigned, tampered and foreign-key commits are refused', async (t) => {
  const e = await env(t);
  const trusted = newKey(e.dir, 'trusted');
  const other = newKey(e.dir, 'other');
  const sign = (csum: string, key: typeof trusted): void => {
    const sig = signFile(e.dir, key, objectPath(e.repo, csum, 'commit'));
    writeFileSync(objectPath(e.repo, csum, 'commitmeta'), commitmeta(ed25519Entry([sig])));
  };
  await e.hostOk(['remote', 'add', 'signed', e.server.url, '--no-gpg-verify', '--ed25519-key', trusted.publicBase64]);
  sign(e.commit('1'), trusted);
  await e.hostOk(['rebase', `signed:${REF}`, '--os', STATEROOT]);
  assert.deepEqual((await status(e)).deployments.map((d) => d.version), ['1']);

  e.commit('2');
  const unsigned = await e.host(['upgrade']);
  assert.equal(unsigned.status, 2, unsigned.stderr);
  assert.match(unsigned.stderr, /is not signed by a trusted ed25519 key/);

  sign(e.commit('3'), other);
  const foreign = await e.host(['upgrade']);
  assert.equal(foreign.status, 2, foreign.stderr);
  assert.match(foreign.stderr, /is not signed by a trusted ed25519 key/);

  // A valid signature over different bytes: signed v4's commit object, served under v5's name.
  const v4 = e.commit('4');
  sign(v4, trusted);
  const v5 = e.commit('5');
  writeFileSync(objectPath(e.repo, v5, 'commitmeta'), readFileSync(objectPath(e.repo, v4, 'commitmeta')));
  const tampered = await e.host(['upgrade']);
  assert.equal(tampered.status, 2, tampered.stderr);
  assert.deepEqual((await status(e)).deployments.map((d) => d.version), ['1'], 'nothing was deployed');

  sign(e.commit('6'), trusted);
  await e.hostOk(['upgrade']);
  assert.deepEqual((await status(e)).deployments.map((d) => d.version), ['6', '1']);
  await agree(e);
});

test('an interrupted pull resumes: objects fetched before the interruption are not fetched again', async (t) => {
  const e = await env(t);
  e.commit('1');
  await e.hostOk(['rebase', `origin:${REF}`, '--os', STATEROOT]);
  const tree = makeOsTree(join(e.dir, 'tree-big'), { version: '2', blobs: 400, blobBytes: 16 * 1024 });
  cliCommit(e.repo, tree, { branch: REF, subject: 'Test OS 2', version: '2' });
  const fileObjects = (): string[] => e.server.requests.filter((p) => p.endsWith('.filez'));

  // Kill the first upgrade once a good part of the objects has arrived.
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [CLI, 'host', 'upgrade', '--sysroot', e.sysroot], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('close', resolve));
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (fileObjects().length >= 150) {
        clearInterval(poll);
        child.kill('SIGKILL');
        resolve();
      }
    }, 5);
    child.on('exit', () => {
      clearInterval(poll);
      resolve();
    });
  });
  await exited;
  const first = new Set(fileObjects());
  assert.ok(first.size >= 150 && first.size < 400, `the first pull was interrupted midway (${first.size} of 400+ objects)`);
  const before = e.server.requests.length;

  await e.hostOk(['upgrade']);
  const again = e.server.requests.slice(before).filter((p) => p.endsWith('.filez'));
  const refetched = again.filter((p) => first.has(p));
  assert.ok(again.length > 0, 'the second pull fetched the rest');
  // Only what was in flight when the process died may come again: requested but not yet written
  // (libostree keeps up to 8 fetches outstanding, ostree-repo-pull.c, plus writes queued behind them).
  assert.ok(refetched.length <= 24, `objects fetched before the kill were fetched again: ${refetched.length} of ${first.size}`);
  assert.deepEqual((await status(e)).deployments.map((d) => d.version), ['2', '1']);
  await agree(e);
});

test('preflight: too little space in /boot refuses the upgrade before anything changes; --download-only pulls without deploying', async (t) => {
  const e = await env(t);
  e.commit('1');
  await e.hostOk(['rebase', `origin:${REF}`, '--os', STATEROOT]);
  const v2 = e.commit('2');
  const list = JSON.parse((await e.hostOk(['remote', 'list', '--json'])).stdout) as { name: string; url: string; gpgVerify: boolean }[];
  assert.deepEqual(list, [{ name: 'origin', url: e.server.url, gpgVerify: false, ed25519: false }]);

  // A 4 MiB /boot: less than the 16 MiB reserve the preflight keeps on top of the estimate.
  const boot = join(e.sysroot, 'boot');
  const saved = join(e.dir, 'boot-saved');
  assert.equal(spawnSync('cp', ['-a', boot, saved]).status, 0);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', boot]);
  assert.equal(mounted.status, 0, `mount tmpfs (needs CAP_SYS_ADMIN): ${mounted.stderr}`);
  t.after(() => spawnSync('umount', ['-l', boot]));
  assert.equal(spawnSync('sh', ['-c', `cp -a '${saved}'/. '${boot}'/`]).status, 0);
  const before = JSON.stringify(adminStatus(e.sysroot));
  const refused = await e.host(['upgrade']);
  assert.equal(refused.status, 1, refused.stderr);
  assert.match(refused.stderr, /not enough space for the new kernel and initramfs on .*\/boot: .* short; atomic host cleanup would/);
  assert.equal(JSON.stringify(adminStatus(e.sysroot)), before, 'nothing changed');
  assert.equal(spawnSync('umount', [boot]).status, 0);

  const dl = await e.hostOk(['upgrade', '--download-only']);
  assert.match(dl.stdout, /Downloaded/);
  assert.deepEqual((await status(e)).deployments.map((d) => d.version), ['1'], 'not deployed');
  assert.match(ostree(['ls', `--repo=${join(e.sysroot, 'ostree', 'repo')}`, v2, '/usr/lib/os-release']), /os-release/, 'the tree is in the repo');
  await e.hostOk(['upgrade']);
  assert.deepEqual((await status(e)).deployments.map((d) => d.version), ['2', '1']);
});
