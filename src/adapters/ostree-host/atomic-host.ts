// The `atomic host` operations (rpm-ostree/bootc's verbs) composed from the policy-free ostree
// adapter: status, upgrade/deploy/rebase, rollback, pin, cleanup, kargs, remotes, init. They work
// on an offline sysroot exactly as on a booted host. Every state change runs under the sysroot
// lock (the flock libostree and `ostree admin` take), refuses to start when another holder is
// there, and ends with the boot menu regenerated from the BLS entries.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AtomicError, Conflict, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, ResourceExhausted } from '../../lib/errors.js';
import { editKargs, type KargsEdit } from '../../core/host/kargs.js';
import { checkSpace } from '../../core/host/preflight.js';
import { formatRefspec, parseRefspec, type Refspec } from '../../core/host/refspec.js';
import { parseEd25519PublicKey, parseTrustedKeys, verifyCommitEd25519 } from '../../core/ostree/sign-ed25519.js';
import { OstreeRepo, type CommitInfo, type PullProgress } from '../ostree/ostree-repo.js';
import { Sysroot, type Deployment } from '../ostree/sysroot.js';
import { clearLockPid, directoryBytes, freeBytes, lockHolderPid, readHostState, writeGrubCfg, writeHostState, writeLockPid, type LastUpdateError } from './host-files.js';

export interface HostOptions {
  readonly sysroot: string;
  /** The stateroot (libostree's osname); default: the booted one, or the only one there is. */
  readonly stateroot?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: PullProgress) => void;
}

export interface DeploymentStatus extends Deployment {
  readonly version: string | undefined;
  /** Commit time, ISO 8601. */
  readonly timestamp: string | undefined;
  readonly default: boolean;
  readonly rollback: boolean;
}

export interface HostStatus {
  readonly sysroot: string;
  readonly booted: boolean;
  readonly deployments: readonly DeploymentStatus[];
  readonly lastError?: LastUpdateError;
}

export type UpdateOutcome =
  | { readonly kind: 'no-update'; readonly csum: string; readonly version?: string }
  | { readonly kind: 'available'; readonly from: string; readonly to: string; readonly version?: string }
  | { readonly kind: 'downloaded'; readonly csum: string; readonly version?: string }
  | { readonly kind: 'deployed'; readonly csum: string; readonly version?: string; readonly staged: boolean; readonly deployment: Deployment };

export interface UpgradeOptions {
  /** Only fetch commit metadata and say whether there is an update. */
  readonly check?: boolean;
  readonly downloadOnly?: boolean;
  /** Stage the deployment (finalized at shutdown); booted hosts only. */
  readonly stage?: boolean;
}

/** ostree's limits on what a detached metadata object may be (ostree-repo-pull.c: OSTREE_MAX_METADATA_SIZE). */
const MAX_COMMITMETA_BYTES = 10 * 1024 * 1024;

export class AtomicHost {
  private constructor(
    readonly sysroot: Sysroot,
    readonly repo: OstreeRepo,
    private readonly opts: HostOptions,
  ) {}

  static async open(opts: HostOptions): Promise<AtomicHost> {
    const sysroot = await Sysroot.open(opts.sysroot, signalOf(opts));
    return new AtomicHost(sysroot, await sysroot.getRepo(signalOf(opts)), opts);
  }

  /** `atomic host init`: an empty sysroot with a stateroot (ostree admin init-fs + os-init). */
  static async init(path: string, stateroot: string, signal?: AbortSignal): Promise<void> {
    await Sysroot.initFs(path, signal === undefined ? {} : { signal });
    const s = await Sysroot.open(path, signal === undefined ? {} : { signal });
    await s.initOsname(stateroot, signal === undefined ? {} : { signal });
  }

  /** The stateroot the verbs act on. */
  stateroot(): string {
    if (this.opts.stateroot !== undefined) return this.opts.stateroot;
    const booted = this.sysroot.getBootedDeployment();
    if (booted !== undefined) return booted.stateroot;
    const names = [...new Set(this.sysroot.deployments().map((d) => d.stateroot))];
    if (names.length === 1) return names[0]!;
    if (names.length === 0) throw new FailedPrecondition('the sysroot has no deployments yet; give --os NAME', { subject: this.sysroot.path });
    throw new InvalidArgument(`the sysroot has deployments of several stateroots (${names.join(', ')}); give --os NAME`, { subject: this.sysroot.path });
  }

  async status(): Promise<HostStatus> {
    const all = this.sysroot.deployments();
    const infos = await Promise.all(all.map((d) => this.repo.loadCommit(d.csum, signalOf(this.opts)).catch(() => undefined)));
    const rollbacks = new Set<Deployment>();
    for (const name of new Set(all.map((d) => d.stateroot))) {
      const r = this.rollbackOf(name);
      if (r !== undefined) rollbacks.add(r);
    }
    const state = await readHostState(this.sysroot.path);
    return {
      sysroot: this.sysroot.path,
      booted: this.sysroot.isBooted,
      deployments: all.map((d, i) => ({
        ...d,
        version: infos[i]?.version,
        timestamp: infos[i] === undefined ? undefined : new Date(infos[i].timestamp * 1000).toISOString(),
        default: i === 0,
        rollback: rollbacks.has(d),
      })),
      ...(state.lastError === undefined ? {} : { lastError: state.lastError }),
    };
  }

  /**
   * The deployment `rollback` would make the default: on a booted host the one after the booted
   * one (libostree's rollback); offline, the stateroot's second deployment.
   */
  private rollbackOf(stateroot: string): Deployment | undefined {
    const mine = this.sysroot.deployments().filter((d) => d.stateroot === stateroot && !d.staged);
    const booted = this.sysroot.getBootedDeployment();
    if (booted !== undefined && booted.stateroot === stateroot) {
      const i = mine.findIndex((d) => d.csum === booted.csum && d.deployserial === booted.deployserial);
      return mine[i === 0 ? 1 : 0];
    }
    return mine[1];
  }

  /** The deployment whose origin and /etc an update starts from: the stateroot's default. */
  private requireMergeDeployment(stateroot: string): Deployment {
    const d = this.sysroot.deployments().find((x) => x.stateroot === stateroot && !x.staged);
    if (d === undefined) throw new FailedPrecondition(`stateroot ${stateroot} has no deployment to update; deploy one first`, { subject: this.sysroot.path });
    return d;
  }

  private originOf(d: Deployment): Refspec {
    if (d.originRefspec === undefined) throw new FailedPrecondition(`deployment ${d.csum.slice(0, 12)} has no origin refspec to follow`, { subject: this.sysroot.path });
    return parseRefspec(d.originRefspec);
  }

  /** Run `fn` holding the sysroot lock; fail fast when someone else holds it. Records failures. */
  async locked<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    const acquired = await this.sysroot.tryLock(signalOf(this.opts));
    if (!acquired) {
      const pid = await lockHolderPid(this.sysroot.path);
      throw new Conflict(`another operation is in progress (${pid === undefined ? 'pid unknown: ostree admin or rpm-ostree?' : `pid ${pid}`})`, { subject: this.sysroot.path });
    }
    try {
      await writeLockPid(this.sysroot.path);
      const result = await fn();
      await writeHostState(this.sysroot.path, {});
      return result;
    } catch (e) {
      if (!(e instanceof AtomicError) || e.code !== 'Cancelled') {
        const message = e instanceof Error ? e.message : String(e);
        await writeHostState(this.sysroot.path, { lastError: { at: new Date().toISOString(), operation, message } }).catch(() => undefined);
      }
      throw e;
    } finally {
      await clearLockPid(this.sysroot.path).catch(() => undefined);
      await this.sysroot.unlock(signalOf(this.opts)).catch(() => undefined);
    }
  }

  // --- updates ----------------------------------------------------------------------------------

  async upgrade(opts: UpgradeOptions = {}): Promise<UpdateOutcome> {
    return this.locked('upgrade', async () => {
      const stateroot = this.stateroot();
      const merge = this.requireMergeDeployment(stateroot);
      const origin = this.originOf(merge);
      // The commit object alone first when something must be decided before the tree is
      // fetched: --check, or an ed25519 signature (libostree cannot check those during the pull).
      // Otherwise one pull does it all, with the space checked beforehand from what is deployed.
      if (opts.check === true || origin.remote === undefined || (await this.ed25519Configured(origin.remote))) {
        const target = await this.fetchCommit(origin, { commitOnly: true });
        if (target.csum === merge.csum) return withVersion({ kind: 'no-update', csum: target.csum }, target);
        if (opts.check === true) return withVersion({ kind: 'available', from: merge.csum, to: target.csum }, target);
        return this.downloadAndDeploy(stateroot, merge, origin, target, opts);
      }
      await this.preflight(merge, await this.repo.loadCommit(merge.csum, signalOf(this.opts)));
      await this.requireRemote(origin.remote);
      await this.repo.pull(origin.remote, [origin.ref], { ...signalOf(this.opts), ...(this.opts.onProgress === undefined ? {} : { onProgress: this.opts.onProgress }) });
      const target = await this.repo.loadCommit(await this.repo.resolveRev(formatRefspec(origin), signalOf(this.opts)), signalOf(this.opts));
      if (target.csum === merge.csum) return withVersion({ kind: 'no-update', csum: target.csum }, target);
      return this.downloadAndDeploy(stateroot, merge, origin, target, { ...opts, pulled: true });
    });
  }

  private async ed25519Configured(remote: string): Promise<boolean> {
    const signal = signalOf(this.opts);
    return (await this.repo.remoteGetOption(remote, 'verification-ed25519-key', signal)) !== undefined || (await this.repo.remoteGetOption(remote, 'verification-ed25519-file', signal)) !== undefined;
  }

  /** `deploy VERSION|CHECKSUM`: a specific commit of the origin's ref (older or newer). */
  async deploy(versionOrCsum: string, opts: UpgradeOptions = {}): Promise<UpdateOutcome> {
    return this.locked('deploy', async () => {
      const stateroot = this.stateroot();
      const merge = this.requireMergeDeployment(stateroot);
      const origin = this.originOf(merge);
      const target = /^[0-9a-f]{64}$/.test(versionOrCsum)
        ? await this.fetchCommit(origin, { commitOnly: true, commit: versionOrCsum })
        : await this.findVersion(origin, versionOrCsum);
      if (target.csum === merge.csum) return withVersion({ kind: 'no-update', csum: target.csum }, target);
      if (opts.check === true) return withVersion({ kind: 'available', from: merge.csum, to: target.csum }, target);
      return this.downloadAndDeploy(stateroot, merge, origin, target, opts);
    });
  }

  /**
   * `rebase REMOTE:REF`: follow another ref from now on. On a stateroot without deployments
   * (a fresh `atomic host init`) this is the first deployment.
   */
  async rebase(refspec: string, opts: UpgradeOptions = {}): Promise<UpdateOutcome> {
    return this.locked('rebase', async () => {
      const stateroot = this.opts.stateroot ?? this.stateroot();
      const merge = this.sysroot.deployments().find((x) => x.stateroot === stateroot && !x.staged);
      const origin = parseRefspec(refspec);
      const target = await this.fetchCommit(origin, { commitOnly: true });
      if (opts.check === true) return withVersion({ kind: 'available', from: merge?.csum ?? '', to: target.csum }, target);
      return this.downloadAndDeploy(stateroot, merge, origin, target, opts);
    });
  }

  /**
   * Fetch a commit object (not its tree) and check its signatures: GPG through libostree when
   * the remote verifies GPG, ed25519 here when the remote has ed25519 keys.
   */
  private async fetchCommit(origin: Refspec, opts: { commitOnly: boolean; commit?: string }): Promise<CommitInfo> {
    const signal = signalOf(this.opts);
    if (origin.remote !== undefined) {
      await this.requireRemote(origin.remote);
      await this.repo.pull(origin.remote, [origin.ref], {
        ...signal,
        commitOnly: opts.commitOnly,
        ...(opts.commit === undefined ? {} : { overrideCommitIds: [opts.commit] }),
        ...(this.opts.onProgress === undefined ? {} : { onProgress: this.opts.onProgress }),
      });
    }
    const csum = opts.commit ?? (await this.repo.resolveRev(formatRefspec(origin), signal));
    const info = await this.repo.loadCommit(csum, signal);
    if (origin.remote !== undefined) await this.verifyEd25519(origin.remote, csum);
    return info;
  }

  private async requireRemote(name: string): Promise<void> {
    const remotes = await this.repo.remoteList(signalOf(this.opts));
    if (!remotes.includes(name)) throw new NotFound(`no remote named ${name} (remotes: ${remotes.join(', ') || 'none'}); add it with atomic host remote add`, { subject: this.sysroot.path });
  }

  /** VERSION: walk the ref's history (commit objects only) from the tip until `version` matches. */
  private async findVersion(origin: Refspec, version: string): Promise<CommitInfo> {
    const signal = signalOf(this.opts);
    if (origin.remote !== undefined) {
      await this.requireRemote(origin.remote);
      await this.repo.pull(origin.remote, [origin.ref], { ...signal, commitOnly: true, depth: -1 });
    }
    let csum: string | undefined = await this.repo.resolveRev(formatRefspec(origin), signal);
    const seen: string[] = [];
    while (csum !== undefined) {
      const info: CommitInfo = await this.repo.loadCommit(csum, signal);
      if (info.version === version) {
        if (origin.remote !== undefined) await this.verifyEd25519(origin.remote, csum);
        return info;
      }
      if (info.version !== undefined) seen.push(info.version);
      csum = info.parent;
    }
    throw new NotFound(`${formatRefspec(origin)} has no commit with version ${version}${seen.length > 0 ? ` (versions: ${seen.slice(0, 10).join(', ')}${seen.length > 10 ? ', ...' : ''})` : ''}`, { subject: this.sysroot.path });
  }

  private async downloadAndDeploy(stateroot: string, merge: Deployment | undefined, origin: Refspec, target: CommitInfo, opts: UpgradeOptions & { pulled?: boolean }): Promise<UpdateOutcome> {
    const signal = signalOf(this.opts);
    if (opts.pulled !== true) await this.preflight(merge, target);
    if (origin.remote !== undefined && opts.pulled !== true) {
      await this.repo.pull(origin.remote, [origin.ref], {
        ...signal,
        overrideCommitIds: [target.csum],
        ...(this.opts.onProgress === undefined ? {} : { onProgress: this.opts.onProgress }),
      });
    }
    if (opts.downloadOnly === true) return withVersion({ kind: 'downloaded', csum: target.csum }, target);
    const deployOpts = { ...signal, stateroot, revision: target.csum, originRefspec: formatRefspec(origin), ...(merge === undefined ? {} : { mergeDeployment: merge }) };
    if (opts.stage === true) {
      if (!this.sysroot.isBooted) throw new FailedPrecondition('--stage needs a booted host (staged deployments are finalized at shutdown); without it the deployment is written at once', { subject: this.sysroot.path });
      const staged = await this.sysroot.stageTree(deployOpts);
      return withVersion({ kind: 'deployed', csum: target.csum, staged: true, deployment: staged }, target);
    }
    const created = await this.sysroot.deployTree(deployOpts);
    // Keep the previous default as the rollback target; pinned ones are kept by libostree anyway.
    await this.sysroot.simpleWriteDeployment(created, merge, { ...signal, stateroot, retainRollback: true });
    await writeGrubCfg(this.sysroot.path);
    const now = this.sysroot.deployments()[0]!;
    return withVersion({ kind: 'deployed', csum: target.csum, staged: false, deployment: now }, target);
  }

  /**
   * Space before anything changes: /boot for a new kernel + initramfs (estimated from the current
   * one's size) and the repo's file system for the new objects (estimated from the commit's
   * `atomic.unpacked-size` metadata, which atomic's image builds record: the new commit's when it
   * was fetched first, else the deployed one's, the next version being of a similar size).
   */
  private async preflight(merge: Deployment | undefined, target: CommitInfo): Promise<void> {
    const sysroot = this.sysroot.path;
    const kernelBytes = merge === undefined ? 0 : await directoryBytes(join(sysroot, 'boot', 'ostree', `${merge.stateroot}-${merge.bootcsum}`));
    const repoBytes = commitSizeEstimate(target);
    const needs = [
      { what: 'the new kernel and initramfs', path: join(sysroot, 'boot'), neededBytes: kernelBytes, freeBytes: await freeBytes(join(sysroot, 'boot')) },
      ...(repoBytes === undefined ? [] : [{ what: 'the new objects', path: this.repo.path, neededBytes: repoBytes, freeBytes: await freeBytes(this.repo.path) }]),
    ];
    const result = checkSpace(needs);
    if (!result.ok) throw new ResourceExhausted(result.problems.join('; '), { subject: sysroot, problems: result.problems });
  }

  /** ed25519 (upstream ostree's `ostree sign` format) when the remote names keys. */
  private async verifyEd25519(remote: string, csum: string): Promise<void> {
    const signal = signalOf(this.opts);
    const keyOption = await this.repo.remoteGetOption(remote, 'verification-ed25519-key', signal);
    const fileOption = await this.repo.remoteGetOption(remote, 'verification-ed25519-file', signal);
    if (keyOption === undefined && fileOption === undefined) return;
    const keys: Uint8Array[] = [];
    if (keyOption !== undefined) keys.push(parseEd25519PublicKey(keyOption.trim(), `remote ${remote} verification-ed25519-key`));
    if (fileOption !== undefined) keys.push(...parseTrustedKeys(await readFile(fileOption, 'utf8'), fileOption));
    const commitBytes = await this.repo.loadVariant('commit', csum, signal);
    const meta = await this.repo.readCommitDetachedMetadata(csum, signal);
    if (meta !== undefined && meta.length > MAX_COMMITMETA_BYTES) throw new PermissionDenied(`commit ${csum}: detached metadata of ${meta.length} bytes refused`, { subject: remote });
    const r = verifyCommitEd25519({ commitBytes, detachedMetadata: meta, trustedKeys: keys, subject: `commit ${csum}` });
    if (!r.valid) throw new PermissionDenied(`commit ${csum} from remote ${remote} is not signed by a trusted ed25519 key: ${r.message}`, { subject: remote });
  }

  // --- boot order ---------------------------------------------------------------------------------

  async rollback(): Promise<Deployment> {
    return this.locked('rollback', async () => {
      const stateroot = this.stateroot();
      const target = this.rollbackOf(stateroot);
      if (target === undefined) throw new FailedPrecondition(`stateroot ${stateroot} has no rollback deployment`, { subject: this.sysroot.path });
      const order = this.sysroot.deployments().filter((d) => !d.staged);
      const reordered = [target, ...order.filter((d) => d !== target)];
      await this.sysroot.writeDeployments(reordered, signalOf(this.opts));
      await writeGrubCfg(this.sysroot.path);
      return this.sysroot.deployments()[0]!;
    });
  }

  private deploymentAt(index: number): Deployment {
    const all = this.sysroot.deployments();
    if (!Number.isInteger(index) || index < 0 || index >= all.length) {
      throw new InvalidArgument(`no deployment with index ${index} (there ${all.length === 1 ? 'is 1' : `are ${all.length}`}: ${all.length === 0 ? 'none' : `0..${all.length - 1}`})`, { subject: this.sysroot.path });
    }
    return all[index]!;
  }

  async setPinned(index: number, pinned: boolean): Promise<Deployment> {
    return this.locked(pinned ? 'pin' : 'unpin', async () => {
      const d = this.deploymentAt(index);
      if (d.staged) throw new FailedPrecondition('a staged deployment cannot be pinned', { subject: this.sysroot.path });
      await this.sysroot.deploymentSetPinned(d, pinned, signalOf(this.opts));
      return this.sysroot.deployments()[index]!;
    });
  }

  /** ostree admin cleanup; with `rollback`, the rollback deployment goes first (unless pinned). */
  async cleanup(opts: { rollback?: boolean } = {}): Promise<{ removedDeployment?: Deployment; prunedBytes: number; objectsPruned: number }> {
    return this.locked('cleanup', async () => {
      let removed: Deployment | undefined;
      if (opts.rollback === true) {
        const r = this.rollbackOf(this.stateroot());
        if (r === undefined) throw new FailedPrecondition('there is no rollback deployment to remove', { subject: this.sysroot.path });
        if (r.pinned) throw new FailedPrecondition(`the rollback deployment (index ${r.index}) is pinned; unpin it first`, { subject: this.sysroot.path });
        await this.sysroot.writeDeployments(this.sysroot.deployments().filter((d) => d !== r && !d.staged), signalOf(this.opts));
        removed = r;
      }
      const pruned = await this.sysroot.cleanup(signalOf(this.opts));
      await writeGrubCfg(this.sysroot.path);
      return { ...(removed === undefined ? {} : { removedDeployment: removed }), prunedBytes: pruned.prunedBytes, objectsPruned: pruned.objectsPruned };
    });
  }

  /** Kernel arguments of the default deployment; edited when `edit` changes anything. */
  async kargs(edit: KargsEdit): Promise<readonly string[]> {
    const changes = (edit.append?.length ?? 0) + (edit.delete?.length ?? 0) + (edit.replace?.length ?? 0);
    const stateroot = this.stateroot();
    if (changes === 0) return userKargs(this.requireMergeDeployment(stateroot));
    return this.locked('kargs', async () => {
      const d = this.requireMergeDeployment(stateroot);
      const next = editKargs(userKargs(d), edit);
      await this.sysroot.deploymentSetKargs(d, next, signalOf(this.opts));
      await writeGrubCfg(this.sysroot.path);
      return userKargs(this.sysroot.deployments()[d.index] ?? d);
    });
  }

  // --- remotes -----------------------------------------------------------------------------------

  async remoteAdd(name: string, url: string, opts: { gpgVerify: boolean; gpgImport?: string; ed25519Key?: string; ed25519File?: string }): Promise<void> {
    await this.locked('remote add', async () => {
      const signal = signalOf(this.opts);
      if (opts.ed25519Key !== undefined) parseEd25519PublicKey(opts.ed25519Key, '--ed25519-key');
      if (opts.ed25519File !== undefined) {
        const keys = parseTrustedKeys(await readFile(opts.ed25519File, 'utf8'), opts.ed25519File);
        if (keys.length === 0) throw new InvalidArgument('no keys in the file', { subject: opts.ed25519File });
      }
      const remotes = await this.repo.remoteList(signal);
      if (remotes.includes(name)) throw new Conflict(`remote ${name} exists already`, { subject: this.sysroot.path });
      await this.repo.remoteAdd(name, url, {
        ...signal,
        gpgVerify: opts.gpgVerify,
        // Our own check reads these (libostree 2022.7 cannot); sign-verify stays off so libostree does not try.
        options: {
          ...(opts.ed25519Key === undefined ? {} : { 'verification-ed25519-key': opts.ed25519Key }),
          ...(opts.ed25519File === undefined ? {} : { 'verification-ed25519-file': opts.ed25519File }),
        },
      });
      if (opts.gpgImport !== undefined) await this.repo.remoteGpgImport(name, opts.gpgImport, signal);
    });
  }

  async remoteList(): Promise<{ name: string; url: string; gpgVerify: boolean; ed25519: boolean }[]> {
    const signal = signalOf(this.opts);
    const out = [];
    for (const name of await this.repo.remoteList(signal)) {
      const ed = (await this.repo.remoteGetOption(name, 'verification-ed25519-key', signal)) ?? (await this.repo.remoteGetOption(name, 'verification-ed25519-file', signal));
      out.push({ name, url: await this.repo.remoteGetUrl(name, signal), gpgVerify: await this.repo.remoteGetGpgVerify(name, signal), ed25519: ed !== undefined });
    }
    return out;
  }

  async remoteDelete(name: string): Promise<void> {
    await this.locked('remote delete', async () => {
      await this.requireRemote(name);
      const users = this.sysroot.deployments().filter((d) => d.originRefspec?.startsWith(`${name}:`) === true);
      if (users.length > 0) throw new Conflict(`remote ${name} is the origin of deployment ${users.map((d) => d.index).join(', ')}; rebase first`, { subject: this.sysroot.path });
      await this.repo.remoteDelete(name, signalOf(this.opts));
    });
  }
}

function signalOf(opts: { signal?: AbortSignal }): { signal?: AbortSignal } {
  return opts.signal === undefined ? {} : { signal: opts.signal };
}

function withVersion<T extends UpdateOutcome>(outcome: T, info: CommitInfo): T {
  return info.version === undefined ? outcome : { ...outcome, version: info.version };
}

/** Kernel arguments a user manages: everything but ostree=, which libostree writes itself. */
function userKargs(d: Deployment): string[] {
  return d.kargs.filter((k) => !k.startsWith('ostree='));
}

/**
 * ostree.sizes (written by `ostree commit --generate-sizes`): an array of (csum, archived size,
 * unpacked size, type) entries; the unpacked total is what a bare repo needs. Undefined when the
 * commit has none (the adapter exposes string-ish metadata only; sizes arrive as a number when
 * our own image builds record `atomic.unpacked-size`).
 */
function commitSizeEstimate(info: CommitInfo): number | undefined {
  const v = info.metadata['atomic.unpacked-size'];
  return typeof v === 'number' ? v : undefined;
}

