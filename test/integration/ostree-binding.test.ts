// The libostree binding (native/) through its adapter (src/adapters/ostree/), against real
// libostree 2022.7: repositories made with the `ostree` CLI served over loopback HTTP, GnuPG keys,
// temp sysroots. After every change the real CLI (`ostree admin status`, `ostree fsck`) and the BLS
// entries on disk must agree with what the binding reports.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AlreadyExists, Cancelled, Conflict, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unavailable, type AtomicError } from '../../src/lib/errors.js';
import { OstreeRepo, type PullProgress } from '../../src/adapters/ostree/ostree-repo.js';
import { Sysroot } from '../../src/adapters/ostree/sysroot.js';
import { loadNative } from '../../src/adapters/ostree/native-addon.js';
import { ERROR_DOMAIN, G_IO_ERROR, NATIVE_ERROR, OSTREE_GPG_ERROR, isGLibError } from '../../src/adapters/ostree/ostree-error.js';
import {
  STATEROOT,
  adminStatus,
  blsEntries,
  cliCommit,
  cliSysroot,
  fsck,
  makeGpgKey,
  makeOsTree,
  ostree,
  removeOstreeTree,
  serveRepo,
  type GpgKey,
  type RepoServer,
} from '../fixtures/ostree-env.js';
import { REPO, run, tempDir } from '../helpers.js';

const T0 = 1_700_000_000;

/** Asserts `p` rejects with an instance of `cls` whose cause is the GLib error (domain, code). */
async function rejectsWith(p: Promise<unknown>, cls: abstract new (...args: never[]) => AtomicError, glib?: { domain: string; code: number }): Promise<AtomicError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof cls, `expected ${cls.name}, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  if (glib !== undefined) {
    const cause = caught.cause;
    assert.ok(isGLibError(cause), `expected a GLib error as cause of: ${caught.message}`);
    assert.equal(cause.domain, glib.domain, caught.message);
    assert.equal(cause.code, glib.code, caught.message);
  }
  return caught;
}

interface Served {
  dir: string;
  server: RepoServer;
  slow: RepoServer;
  keyA: GpgKey;
  keyB: GpgKey;
  v1: string;
  v2: string;
  unsigned: string;
  wrongKey: string;
  big: string;
  v1Tree: string;
}

describe('libostree binding', () => {
  let env: Served;

  before(async () => {
    const dir = tempDir(undefined, 'atomic-ostree-binding-');
    const keyA = makeGpgKey(dir, 'alice');
    const keyB = makeGpgKey(dir, 'bob');
    const srv = join(dir, 'srv');
    ostree(['init', `--repo=${srv}`, '--mode=archive']);
    const v1Tree = makeOsTree(join(dir, 'tree-v1'), { version: '1' });
    const v2Tree = makeOsTree(join(dir, 'tree-v2'), { version: '2' });
    const bigTree = makeOsTree(join(dir, 'tree-big'), { version: '3', blobs: 400 });
    const v1 = cliCommit(srv, v1Tree, { branch: `${STATEROOT}/stable`, subject: 'v1', version: '1', timestamp: T0, gpgSign: keyA });
    const v2 = cliCommit(srv, v2Tree, { branch: `${STATEROOT}/stable`, subject: 'v2', version: '2', timestamp: T0 + 60, gpgSign: keyA });
    const unsigned = cliCommit(srv, v1Tree, { branch: `${STATEROOT}/unsigned`, subject: 'unsigned', version: '1', timestamp: T0 + 1 });
    const wrongKey = cliCommit(srv, v1Tree, { branch: `${STATEROOT}/wrongkey`, subject: 'wrong key', version: '1', timestamp: T0 + 2, gpgSign: keyB });
    const big = cliCommit(srv, bigTree, { branch: `${STATEROOT}/big`, subject: 'big', version: '3', timestamp: T0 + 3 });
    ostree(['summary', '-u', `--repo=${srv}`]);
    env = { dir, server: await serveRepo(srv), slow: await serveRepo(srv, { delayMs: 25 }), keyA, keyB, v1, v2, unsigned, wrongKey, big, v1Tree };
  });

  after(async () => {
    await env.server.close();
    await env.slow.close();
    removeOstreeTree(env.dir);
  });

  /** A fresh repository in the shared temp dir with remote "origin" -> the fixture server. */
  async function clientRepo(name: string, opts: { gpgVerify: boolean; mode?: 'archive' | 'bare' | 'bare-user' } = { gpgVerify: true }): Promise<OstreeRepo> {
    const repo = await OstreeRepo.create(join(env.dir, name), opts.mode ?? 'bare-user');
    await repo.remoteAdd('origin', env.server.url, { gpgVerify: opts.gpgVerify });
    if (opts.gpgVerify) assert.equal(await repo.remoteGpgImport('origin', env.keyA.publicKey), 1);
    return repo;
  }

  describe('repository', () => {
    it('commits a tree with metadata; refs, commit fields and bytes agree with the CLI', async () => {
      const repo = await OstreeRepo.create(join(env.dir, 'local-archive'), 'archive');
      assert.equal(repo.mode, 'archive');
      const csum = await repo.commit({ tree: env.v1Tree, branch: 'local/main', subject: 'first', version: '1', timestamp: T0 });
      // Same tree, subject, metadata and time through the real CLI: the same commit checksum.
      const cliRepo = join(env.dir, 'cli-archive');
      ostree(['init', `--repo=${cliRepo}`, '--mode=archive']);
      assert.equal(cliCommit(cliRepo, env.v1Tree, { branch: 'local/main', subject: 'first', version: '1', timestamp: T0, noBindings: true }), csum);

      assert.deepEqual(await repo.listRefs(), { 'local/main': csum });
      assert.equal(await repo.resolveRev('local/main'), csum);
      const info = await repo.loadCommit(csum);
      assert.equal(info.subject, 'first');
      assert.equal(info.version, '1');
      assert.equal(info.timestamp, T0);
      assert.equal(info.parent, undefined);
      assert.equal(info.partial, false);
      assert.deepEqual(info.metadata, { version: '1' });
      // A commit's checksum is SHA-256 of its serialized GVariant.
      const bytes = await repo.loadVariant('commit', csum);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), csum);
      assert.equal(await repo.readCommitDetachedMetadata(csum), undefined);

      // The next commit on the branch gets the head as parent; typed metadata round-trips.
      const second = await repo.commit({
        tree: env.v1Tree,
        branch: 'local/main',
        subject: 'second',
        body: 'with a body',
        timestamp: T0 + 10,
        metadata: { 'atomic.count': 3, 'atomic.flag': true, 'atomic.list': ['a', 'b'] },
      });
      const info2 = await repo.loadCommit(second);
      assert.equal(info2.parent, csum);
      assert.equal(info2.body, 'with a body');
      assert.equal(info2.contentChecksum, info.contentChecksum, 'same tree, same content checksum');
      assert.deepEqual(info2.metadata, { 'atomic.count': 3, 'atomic.flag': true, 'atomic.list': ['a', 'b'] });
      const log = ostree(['log', `--repo=${repo.path}`, 'local/main']);
      assert.match(log, new RegExp(`commit ${second}[\\s\\S]*second[\\s\\S]*commit ${csum}[\\s\\S]*first`));
      assert.equal(ostree(['show', `--repo=${repo.path}`, '--print-metadata-key=atomic.list', second]).trim(), "['a', 'b']");
      // Integers are stored in host order, as `ostree commit --add-metadata` stores them (`ostree
      // show` byteswaps every metadata value it prints, so it cannot be the oracle for numbers).
      const cliInts = ostree(['commit', `--repo=${cliRepo}`, '--branch=ints', '--subject=ints', '--add-metadata=atomic.count=3', env.v1Tree]).trim();
      const cliRead = await (await OstreeRepo.open(cliRepo)).loadCommit(cliInts);
      assert.equal(cliRead.metadata['atomic.count'], 3);
      assert.deepEqual(cliRead.metadata['ostree.ref-binding'], ['ints']);
      fsck(repo.path);
    });

    it('resolves, sets and deletes refs, local and remote-qualified', async () => {
      const repo = await OstreeRepo.create(join(env.dir, 'refs'), 'bare-user');
      const csum = await repo.commit({ tree: env.v1Tree, subject: 'no branch', timestamp: T0 });
      assert.deepEqual(await repo.listRefs(), {});
      assert.equal(await repo.resolveRev('nope', { allowNoent: true }), undefined);
      await rejectsWith(repo.resolveRev('nope'), NotFound, { domain: ERROR_DOMAIN.io, code: G_IO_ERROR.NOT_FOUND });
      await repo.setRefImmediate('mirror:os/stable', csum);
      await repo.setRefImmediate('os/testing', csum);
      assert.deepEqual(await repo.listRefs(), { 'mirror:os/stable': csum, 'os/testing': csum });
      assert.deepEqual(await repo.listRefs({ prefix: 'os' }), { 'os/testing': csum });
      assert.match(ostree(['refs', `--repo=${repo.path}`]), /mirror:os\/stable/);
      await repo.setRefImmediate('os/testing', null);
      assert.deepEqual(await repo.listRefs(), { 'mirror:os/stable': csum });
      await rejectsWith(repo.loadCommit('0'.repeat(64)), NotFound, { domain: ERROR_DOMAIN.io, code: G_IO_ERROR.NOT_FOUND });
      await rejectsWith(repo.loadCommit('not-a-checksum'), InvalidArgument);
    });

    it('adds, lists, reads and deletes remotes', async () => {
      const repo = await OstreeRepo.create(join(env.dir, 'remotes'), 'bare-user');
      await repo.remoteAdd('o', 'http://127.0.0.1:9/repo', { gpgVerify: false, options: { 'gpg-verify-summary': false, branches: ['a', 'b'] } });
      await repo.remoteAdd('p', 'http://127.0.0.1:9/other');
      assert.deepEqual(await repo.remoteList(), ['o', 'p']);
      assert.equal(await repo.remoteGetUrl('o'), 'http://127.0.0.1:9/repo');
      assert.equal(await repo.remoteGetOption('o', 'gpg-verify'), 'false');
      assert.equal(await repo.remoteGetOption('o', 'no-such-option'), undefined);
      assert.equal(await repo.remoteGetOption('o', 'no-such-option', { defaultValue: 'x' }), 'x');
      assert.equal(await repo.remoteGetGpgVerify('o'), false);
      assert.equal(await repo.remoteGetGpgVerify('p'), true, "libostree's default");
      assert.deepEqual(ostree(['remote', 'list', `--repo=${repo.path}`]).trim().split('\n'), ['o', 'p']);
      assert.equal(ostree(['config', `--repo=${repo.path}`, 'get', 'remote "o".gpg-verify-summary']).trim(), 'false');
      await rejectsWith(repo.remoteAdd('o', 'http://127.0.0.1:9/again'), AlreadyExists);
      await repo.remoteAdd('o', 'http://127.0.0.1:9/again', { ifNotExists: true });
      assert.equal(await repo.remoteGetUrl('o'), 'http://127.0.0.1:9/repo', 'ifNotExists keeps the existing remote');
      await repo.remoteDelete('o');
      assert.deepEqual(await repo.remoteList(), ['p']);
      await rejectsWith(repo.remoteDelete('o'), NotFound, { domain: ERROR_DOMAIN.io, code: G_IO_ERROR.NOT_FOUND });
      await repo.remoteDelete('o', { ifExists: true });
      await rejectsWith(repo.remoteGetUrl('o'), NotFound);
    });
  });

  describe('pull', () => {
    it('pulls over loopback HTTP with progress; the result matches the server', async () => {
      const repo = await clientRepo('pull-full');
      const events: PullProgress[] = [];
      let settled = false;
      let lateEvents = 0;
      const result = await repo.pull('origin', [`${STATEROOT}/stable`], {
        onProgress: (p) => {
          if (settled) lateEvents++;
          events.push(p);
        },
      });
      settled = true;
      assert.equal(await repo.resolveRev(`origin:${STATEROOT}/stable`), env.v2);
      const info = await repo.loadCommit(env.v2);
      assert.equal(info.version, '2');
      assert.equal(info.parent, env.v1);
      assert.equal(info.partial, false);
      assert.ok(result.progress.fetched > 0, JSON.stringify(result.progress));
      assert.ok(result.progress.bytesTransferred > 0);
      assert.match(result.progress.status, /fetched/);
      for (const e of events) {
        assert.equal(typeof e.fetched, 'number');
        assert.equal(typeof e.bytesTransferred, 'number');
        assert.ok(e.fetched <= e.requested || e.requested === 0, JSON.stringify(e));
      }
      await sleep(300);
      assert.equal(lateEvents, 0, 'no progress after the promise settled');
      assert.ok(env.server.requests.some((r) => r.includes(env.v2.slice(2))), 'objects came over HTTP');
      fsck(repo.path);
    });

    it('a commit-only pull fetches the commit object and nothing else', async () => {
      const repo = await clientRepo('pull-commit-only');
      await repo.pull('origin', [`${STATEROOT}/stable`], { commitOnly: true });
      const info = await repo.loadCommit(env.v2);
      assert.equal(info.partial, true);
      assert.equal(info.version, '2');
      assert.notEqual(run('ostree', ['ls', `--repo=${repo.path}`, env.v2, '/usr']).status, 0, 'the tree is not there');
      await repo.pull('origin', [`${STATEROOT}/stable`]);
      assert.equal((await repo.loadCommit(env.v2)).partial, false);
      assert.match(ostree(['ls', `--repo=${repo.path}`, env.v2, '/usr/lib/os-release']), /os-release/);
    });

    it('aborting mid-pull rejects Cancelled, stops progress, and a second pull completes', async () => {
      const repo = await clientRepo('pull-cancel', { gpgVerify: false });
      const controller = new AbortController();
      const events: PullProgress[] = [];
      const pending = repo.pull('origin', [`${STATEROOT}/big`], {
        overrideUrl: env.slow.url,
        signal: controller.signal,
        progressIntervalMs: 50,
        onProgress: (p) => {
          events.push(p);
          if (p.fetched > 0) controller.abort();
        },
      });
      const err = await rejectsWith(pending, Cancelled, { domain: ERROR_DOMAIN.io, code: G_IO_ERROR.CANCELLED });
      assert.match(err.message, /pull origin:testos\/big: cancelled/);
      const seen = events.length;
      assert.ok(seen > 0);
      const last = events[events.length - 1];
      assert.ok(last !== undefined && last.fetched < last.requested, `cancelled before the end: ${JSON.stringify(last)}`);
      await sleep(300);
      assert.equal(events.length, seen, 'no progress after the rejection');
      assert.equal(await repo.resolveRev(`origin:${STATEROOT}/big`, { allowNoent: true }), undefined);

      await repo.pull('origin', [`${STATEROOT}/big`]);
      assert.equal(await repo.resolveRev(`origin:${STATEROOT}/big`), env.big);
      assert.equal((await repo.loadCommit(env.big)).partial, false);
      fsck(repo.path);
    });

    it('an already aborted signal never starts the pull', async () => {
      const repo = await clientRepo('pull-pre-aborted', { gpgVerify: false });
      const before = env.server.requests.length;
      await rejectsWith(repo.pull('origin', [`${STATEROOT}/stable`], { signal: AbortSignal.abort() }), Cancelled);
      assert.equal(env.server.requests.length, before);
    });

    it('network failures are Unavailable, a missing ref NotFound', async () => {
      const repo = await clientRepo('pull-errors', { gpgVerify: false });
      await rejectsWith(
        repo.pull('origin', [`${STATEROOT}/stable`], { overrideUrl: 'http://127.0.0.1:1', networkRetries: 0 }),
        Unavailable,
        { domain: ERROR_DOMAIN.io, code: G_IO_ERROR.FAILED },
      );
      // libostree: "No such branch ... in repository summary", a bare G_IO_ERROR_FAILED.
      const missing = await rejectsWith(repo.pull('origin', [`${STATEROOT}/no-such-ref`], { networkRetries: 0 }), NotFound, {
        domain: ERROR_DOMAIN.io,
        code: G_IO_ERROR.FAILED,
      });
      assert.match(missing.message, /remote origin has no ref testos\/no-such-ref/);
      // Without a summary file libostree asks for refs/heads/REF and gets a 404.
      const noSummary = await OstreeRepo.create(join(env.dir, 'pull-errors-no-summary'), 'bare-user');
      await noSummary.remoteAdd('origin', `${env.server.url}/no-such-dir`, { gpgVerify: false });
      await rejectsWith(noSummary.pull('origin', [`${STATEROOT}/stable`], { networkRetries: 0 }), NotFound, {
        domain: ERROR_DOMAIN.io,
        code: G_IO_ERROR.NOT_FOUND,
      });
      await rejectsWith(repo.pull('no-such-remote', ['x']), NotFound);
    });

    it('concurrent slow pulls leave the libuv thread pool to the rest of the process', { timeout: 60_000 }, async () => {
      // Six pulls at once from a server in this very process: it reads the repository files
      // through libuv's pool, so pulls occupying pool threads would deadlock here.
      const repos = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => clientRepo(`pull-parallel-${i}`, { gpgVerify: false })));
      const pulls = Promise.all(repos.map((r) => r.pull('origin', [`${STATEROOT}/stable`], { overrideUrl: env.slow.url })));
      const started = Date.now();
      await readFile(join(env.dir, 'srv', 'config'));
      assert.ok(Date.now() - started < 2000, 'a file read is not queued behind the pulls');
      await pulls;
      for (const r of repos) assert.equal(await r.resolveRev(`origin:${STATEROOT}/stable`), env.v2);
    });

    it('a throwing progress listener cancels the pull and its error comes back', async () => {
      const repo = await clientRepo('pull-listener-throws', { gpgVerify: false });
      const boom = new FailedPrecondition('listener says stop');
      await assert.rejects(
        repo.pull('origin', [`${STATEROOT}/big`], {
          overrideUrl: env.slow.url,
          progressIntervalMs: 20,
          onProgress: () => {
            throw boom;
          },
        }),
        (e: unknown) => e === boom,
      );
    });
  });

  describe('GPG', () => {
    it('verifies signed commits and refuses unsigned and wrong-key commits', async () => {
      const repo = await clientRepo('gpg');
      await repo.pull('origin', [`${STATEROOT}/stable`]);
      const verified = await repo.verifyCommitForRemote(env.v2, 'origin', { requireValid: true });
      assert.equal(verified.valid, true);
      assert.equal(verified.countValid, 1);
      assert.equal(verified.signatures[0]?.fingerprint, env.keyA.fingerprint);
      assert.equal(verified.signatures[0]?.userEmail, 'alice@atomic.test');

      const unsigned = await rejectsWith(repo.pull('origin', [`${STATEROOT}/unsigned`]), PermissionDenied, {
        domain: ERROR_DOMAIN.gpg,
        code: OSTREE_GPG_ERROR.NO_SIGNATURE,
      });
      assert.match(unsigned.message, /is not signed by a trusted key \(no signature found\)/);
      const wrong = await rejectsWith(repo.pull('origin', [`${STATEROOT}/wrongkey`]), PermissionDenied, {
        domain: ERROR_DOMAIN.gpg,
        code: OSTREE_GPG_ERROR.MISSING_KEY,
      });
      assert.match(wrong.message, /testos\/wrongkey is not signed by a trusted key \(signed with a key that is not in the remote's keyring\)/);
      assert.equal(await repo.resolveRev(`origin:${STATEROOT}/unsigned`, { allowNoent: true }), undefined, 'no ref for a refused commit');
      assert.equal(await repo.resolveRev(`origin:${STATEROOT}/wrongkey`, { allowNoent: true }), undefined);
    });

    it('signs a commit with ostree_repo_sign_commit; libostree and the CLI verify it', async () => {
      const repo = await OstreeRepo.create(join(env.dir, 'gpg-sign'), 'archive');
      const csum = await repo.commit({ tree: env.v1Tree, branch: 'signed', subject: 'to sign', timestamp: T0 });
      await repo.signCommit(csum, { keyId: env.keyB.fingerprint, homedir: env.keyB.homedir });
      assert.ok((await repo.readCommitDetachedMetadata(csum))?.length);
      await repo.remoteAdd('bob', 'http://127.0.0.1:9/unused', { gpgVerify: true });
      await repo.remoteGpgImport('bob', env.keyB.publicKey);
      await repo.remoteAdd('alice', 'http://127.0.0.1:9/unused', { gpgVerify: true });
      await repo.remoteGpgImport('alice', env.keyA.publicKey);
      assert.equal((await repo.verifyCommitForRemote(csum, 'bob')).valid, true);
      assert.match(ostree(['show', `--repo=${repo.path}`, '--gpg-verify-remote=bob', csum]), /Good signature from "Atomic Test bob/);
      const notTrusted = await repo.verifyCommitForRemote(csum, 'alice');
      assert.equal(notTrusted.valid, false);
      assert.equal(notTrusted.signatures[0]?.keyMissing, true);
      await rejectsWith(repo.verifyCommitForRemote(csum, 'alice', { requireValid: true }), PermissionDenied, {
        domain: ERROR_DOMAIN.gpg,
        code: OSTREE_GPG_ERROR.MISSING_KEY,
      });
      const bare = await repo.commit({ tree: env.v1Tree, subject: 'never signed', timestamp: T0 + 5 });
      const e = await rejectsWith(repo.verifyCommitForRemote(bare, 'bob'), PermissionDenied, { domain: ERROR_DOMAIN.gpg, code: OSTREE_GPG_ERROR.NO_SIGNATURE });
      assert.match(e.message, new RegExp(`commit ${bare} is not signed by a trusted key`));
    });
  });

  describe('sysroot', () => {
    let sysroot: Sysroot;
    let root: string;

    /** The CLI's view of the boot order, as [csum, deployserial]. */
    const cliOrder = (): [string, number][] => adminStatus(root).map((s) => [s.csum, s.deployserial]);
    const ourOrder = (): [string, number][] => sysroot.deployments().map((d) => [d.csum, d.deployserial]);
    const assertAgrees = (): void => {
      assert.deepEqual(ourOrder(), cliOrder());
      fsck(join(root, 'ostree', 'repo'));
      // BLS entries in bootloader order name the deployments in our order.
      const entries = blsEntries(root);
      assert.equal(entries.length, sysroot.deployments().length);
      sysroot.deployments().forEach((d, i) => {
        const entry = entries[i];
        assert.ok(entry !== undefined);
        assert.match(entry.options, new RegExp(`ostree=/ostree/boot\\.\\d/${d.stateroot}/${d.bootcsum}/${d.bootserial}`), `entry ${i}`);
        assert.match(entry.title, new RegExp(`\\(ostree:${i}\\)`));
      });
    };

    before(() => {
      root = join(env.dir, 'sysroot');
    });

    it('init-fs and os-init lay out what the CLI lays out', async () => {
      await Sysroot.initFs(root);
      const cliRoot = cliSysroot(join(env.dir, 'cli-sysroot'));
      const layout = (r: string): string[] => readdirSync(r).sort().map((n) => `${n} ${(statSync(join(r, n)).mode & 0o7777).toString(8)}`);
      sysroot = await Sysroot.open(root);
      await sysroot.initOsname(STATEROOT);
      assert.deepEqual(layout(root), layout(cliRoot));
      assert.deepEqual(layout(join(root, 'ostree', 'deploy', STATEROOT)), layout(join(cliRoot, 'ostree', 'deploy', STATEROOT)));
      assert.equal(ostree(['config', `--repo=${join(root, 'ostree', 'repo')}`, 'get', 'core.mode']).trim(), 'bare');
      assert.deepEqual(sysroot.deployments(), []);
      assert.equal(sysroot.isBooted, false);
      assert.equal(sysroot.getBootedDeployment(), undefined);
      assert.throws(() => sysroot.requireBootedDeployment(), FailedPrecondition);
    });

    it('deploys v1, then v2 as default with v1 kept for rollback', async () => {
      const repo = await sysroot.getRepo();
      assert.equal(repo.path, join(root, 'ostree', 'repo'));
      await repo.remoteAdd('origin', env.server.url, { gpgVerify: true });
      await repo.remoteGpgImport('origin', env.keyA.publicKey);
      await repo.pull('origin', [`${STATEROOT}/stable`], { depth: 1 });
      assert.equal((await repo.loadCommit(env.v1)).partial, false);

      const d1 = await sysroot.deployTree({ stateroot: STATEROOT, revision: env.v1, originRefspec: `origin:${STATEROOT}/stable` });
      assert.equal(d1.index, -1);
      assert.ok(existsSync(join(d1.path, 'usr', 'lib', 'os-release')));
      await sysroot.simpleWriteDeployment(d1, undefined, { stateroot: STATEROOT });
      assert.equal(sysroot.deployments().length, 1);
      const [first] = sysroot.deployments();
      assert.equal(first?.csum, env.v1);
      assert.equal(first?.index, 0);
      assert.equal(first?.originRefspec, `origin:${STATEROOT}/stable`);
      assert.equal(adminStatus(root)[0]?.version, '1');
      assert.equal(adminStatus(root)[0]?.originRefspec, `origin:${STATEROOT}/stable`);
      assertAgrees();
      assert.match(blsEntries(root)[0]?.title ?? '', /Test OS 1/);

      const merge = await sysroot.getMergeDeployment(STATEROOT);
      assert.equal(merge?.csum, env.v1);
      assert.ok(merge !== undefined);
      const d2 = await sysroot.deployTree({ stateroot: STATEROOT, revision: env.v2, mergeDeployment: merge, originRefspec: `origin:${STATEROOT}/stable` });
      await sysroot.simpleWriteDeployment(d2, merge, { stateroot: STATEROOT });
      assert.deepEqual(ourOrder(), [[env.v2, 0], [env.v1, 0]]);
      assertAgrees();
      assert.deepEqual(blsEntries(root).map((e) => /Test OS (\d)/.exec(e.title)?.[1]), ['2', '1']);
      assert.ok(existsSync(join(sysroot.deployments()[0]?.path ?? '', 'etc', 'hostname')), '/etc merged');
      const q = await sysroot.queryDeploymentsFor(STATEROOT);
      assert.equal(q.pending?.csum, env.v2, 'not booted: pending is the first deployment');
      assert.equal(q.rollback, undefined);
    });

    it('rolls back by writing the deployments in a new order', async () => {
      const [v2, v1] = sysroot.deployments();
      assert.ok(v1 !== undefined && v2 !== undefined);
      await sysroot.writeDeployments([v1, v2]);
      assert.deepEqual(ourOrder(), [[env.v1, 0], [env.v2, 0]]);
      assertAgrees();
      assert.deepEqual(blsEntries(root).map((e) => /Test OS (\d)/.exec(e.title)?.[1]), ['1', '2']);
      // And forward again: Deployment values from before the reload still name their deployments.
      await sysroot.writeDeployments([v2, v1]);
      assert.deepEqual(ourOrder(), [[env.v2, 0], [env.v1, 0]]);
      assertAgrees();
    });

    it('pins and unpins', async () => {
      const rollback = sysroot.deployments()[1];
      assert.ok(rollback !== undefined);
      await sysroot.deploymentSetPinned(rollback, true);
      assert.equal(sysroot.deployments()[1]?.pinned, true);
      assert.deepEqual(adminStatus(root).map((s) => s.pinned), [false, true]);
      assertAgrees();
      await sysroot.deploymentSetPinned(rollback, false);
      assert.deepEqual(sysroot.deployments().map((d) => d.pinned), [false, false]);
      assert.deepEqual(adminStatus(root).map((s) => s.pinned), [false, false]);
      assertAgrees();
    });

    it('changes kernel arguments', async () => {
      const current = sysroot.deployments()[0];
      assert.ok(current !== undefined);
      await sysroot.deploymentSetKargs(current, ['console=ttyS0', 'quiet', 'label="a b"']);
      const updated = sysroot.deployments()[0];
      assert.equal(updated?.csum, env.v2);
      assert.deepEqual(updated?.kargs.filter((k) => !k.startsWith('ostree=')), ['console=ttyS0', 'quiet', 'label="a b"']);
      assert.match(blsEntries(root)[0]?.options ?? '', /^console=ttyS0 quiet label="a b" ostree=/);
      assertAgrees();
      await rejectsWith(sysroot.deploymentSetKargs(current, ['two words']), InvalidArgument);
    });

    it('cleanup removes what is no longer deployed; its handles are stale', async () => {
      const [keep, drop] = sysroot.deployments();
      assert.ok(keep !== undefined && drop !== undefined);
      await sysroot.writeDeployments([keep], { postclean: false });
      assert.ok(existsSync(drop.path), 'no postclean: the directory stays until cleanup');
      const pruned = await sysroot.cleanup();
      assert.ok(!existsSync(drop.path));
      assert.ok(pruned.objectsTotal > 0);
      assert.deepEqual(ourOrder(), [[env.v2, 0]]);
      assertAgrees();
      await rejectsWith(sysroot.deploymentSetPinned(drop, true), FailedPrecondition, { domain: ERROR_DOMAIN.native, code: NATIVE_ERROR.STALE_DEPLOYMENT });
      await rejectsWith(sysroot.writeDeployments([keep, drop]), FailedPrecondition, { domain: ERROR_DOMAIN.native, code: NATIVE_ERROR.STALE_DEPLOYMENT });
      assertAgrees();
    });

    it('refuses deployments it did not hand out, and staging on a system that is not booted', async () => {
      const other = await Sysroot.open(root);
      const foreign = other.deployments()[0];
      assert.ok(foreign !== undefined);
      await rejectsWith(sysroot.deploymentSetPinned(foreign, true), InvalidArgument);
      await rejectsWith(sysroot.deploymentSetPinned({ ...foreign }, true), InvalidArgument);
      await rejectsWith(sysroot.stageTree({ stateroot: STATEROOT, revision: env.v1 }), FailedPrecondition, { domain: ERROR_DOMAIN.io, code: G_IO_ERROR.FAILED });
      await rejectsWith(sysroot.deployTree({ stateroot: STATEROOT, revision: '0'.repeat(64) }), NotFound, { domain: ERROR_DOMAIN.io, code: G_IO_ERROR.NOT_FOUND });
      await rejectsWith(sysroot.deployTree({ revision: env.v1 }), InvalidArgument, { domain: ERROR_DOMAIN.native, code: NATIVE_ERROR.INVALID_ARGUMENT });
      assertAgrees();
    });
  });

  describe('sysroot lock', () => {
    it('tryLock is not acquired while another process holds the lock', async () => {
      const root = cliSysroot(join(env.dir, 'lock-sysroot'));
      const script = [
        `const n = require(${JSON.stringify(join(REPO, 'native', 'index.cjs'))});`,
        `const s = new n.Sysroot(${JSON.stringify(root)});`,
        "s.lock().then(() => { process.stdout.write('locked\\n'); process.stdin.resume(); });",
      ].join('\n');
      const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (b: Buffer) => (b.toString().includes('locked') ? resolve() : undefined));
          child.once('exit', (code) => reject(new Error(`lock holder exited ${code}`)));
        });
        const sysroot = await Sysroot.open(root);
        assert.equal(await sysroot.tryLock(), false);
        await rejectsWith(sysroot.lock({ timeoutMs: 300 }), Conflict);
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 100);
        await rejectsWith(sysroot.lock({ signal: controller.signal }), Cancelled, { domain: ERROR_DOMAIN.io, code: G_IO_ERROR.CANCELLED });
        const waiting = sysroot.lock();
        await sleep(200);
        child.stdin.end(); // the holder exits, its flock goes with it
        await exited;
        await waiting;
        await rejectsWith(sysroot.tryLock(), Conflict, { domain: ERROR_DOMAIN.native, code: NATIVE_ERROR.ALREADY_LOCKED });
        const second = await Sysroot.open(root);
        assert.equal(await second.tryLock(), false, 'flock belongs to the open file: another object in this process is refused too');
        await sysroot.unlock();
        assert.equal(await second.tryLock(), true);
        await second.unlock();
      } finally {
        if (child.exitCode === null) child.kill();
        await exited;
      }
    });
  });

  describe('errors', () => {
    it('carry GLib domain and code and map to the taxonomy', async () => {
      await rejectsWith(OstreeRepo.open(join(env.dir, 'no-such-repo')), NotFound, { domain: ERROR_DOMAIN.io, code: G_IO_ERROR.NOT_FOUND });
      await rejectsWith(Sysroot.open(join(env.dir, 'no-such-sysroot')), NotFound, { domain: ERROR_DOMAIN.io, code: G_IO_ERROR.NOT_FOUND });
      mkdirSync(join(env.dir, 'empty-dir'));
      await rejectsWith(Sysroot.open(join(env.dir, 'empty-dir')), NotFound);
      // @ts-expect-error: a mode the adapter does not accept
      await rejectsWith(OstreeRepo.create(join(env.dir, 'bad-mode'), 'fancy'), InvalidArgument);
    });

    it("the adapter's code tables match the running GLib and libostree", () => {
      const native = loadNative();
      assert.equal(native.libostreeVersion, '2022.7');
      assert.deepEqual(native.errorDomains, {
        io: ERROR_DOMAIN.io,
        gpg: ERROR_DOMAIN.gpg,
        native: ERROR_DOMAIN.native,
        keyFile: ERROR_DOMAIN.keyFile,
        file: ERROR_DOMAIN.file,
      });
      for (const [name, code] of Object.entries(G_IO_ERROR)) assert.equal(native.ioErrorCodes[name], code, name);
      assert.deepEqual({ ...native.gpgErrorCodes }, { ...OSTREE_GPG_ERROR });
      assert.deepEqual({ ...native.nativeErrorCodes }, { ...NATIVE_ERROR });
    });

    it('binding objects cannot be forged from JS', () => {
      const native = loadNative();
      assert.throws(() => new (native.Deployment as unknown as new () => unknown)(), TypeError);
      assert.throws(() => new (native.Repo as unknown as new () => unknown)(), TypeError);
    });
  });
});
