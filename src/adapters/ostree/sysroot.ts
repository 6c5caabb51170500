// Sysroot: an ostree system root through libostree (OstreeSysroot, ostree-sysroot.h). Policy-free:
// one method per libostree operation (deploy a tree, write a boot order, pin, set kernel
// arguments, clean up); the update logic that composes them lives in src/core.
//
// Like OstreeSysroot itself, an instance holds the deployment list of its last load. That is what
// makes deployments(), getBootedDeployment() and requireBootedDeployment() synchronous. Every
// method that changes the sysroot reloads it before resolving, and the methods of one instance run
// one after another (an internal queue), so the list never describes a half-applied change.
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Cancelled, Conflict, FailedPrecondition, fromSystemError, InvalidArgument } from '../../lib/errors.js';
import { type Deployment, describeDeployment, toDeployment } from './deployment.js';
import { loadNative, type NativeCancellable, withCancellable } from './native-addon.js';
import { requireCsum, requireInteger, requireName, requireStrings } from './ostree-arguments.js';
import type { OstreeErrorContext } from './ostree-error.js';
import { OstreeRepo, type PruneResult, type Signal } from './ostree-repo.js';
import type * as Native from '../../../native/index.js';

export type { Deployment } from './deployment.js';

export interface DeployTreeOptions extends Signal {
  /** May be omitted only on a booted system (then: the booted deployment's stateroot). */
  readonly stateroot?: string;
  /** Commit checksum to deploy. */
  readonly revision: string;
  /** Written as the origin file's origin/refspec (what upgrades follow). */
  readonly originRefspec?: string;
  /** A complete origin keyfile instead of originRefspec. */
  readonly origin?: string;
  /** Whose /etc (and, unless overridden, kernel arguments) the new deployment inherits. */
  readonly mergeDeployment?: Deployment;
  /** Kernel arguments of the new deployment, replacing the merge deployment's. */
  readonly overrideKernelArgv?: readonly string[];
}

export interface SimpleWriteOptions extends Signal {
  /** May be omitted only on a booted system. */
  readonly stateroot?: string;
  /** Keep every other deployment of the stateroot (ostree admin deploy --retain). */
  readonly retain?: boolean;
  /** Put the new deployment second: it is not booted by default. */
  readonly notDefault?: boolean;
  /** Skip the cleanup libostree would otherwise do. */
  readonly noClean?: boolean;
  readonly retainPending?: boolean;
  readonly retainRollback?: boolean;
}

export interface LockOptions extends Signal {
  /** Give up after this long with Conflict (the lock is held elsewhere). Default: wait. */
  readonly timeoutMs?: number;
}

export class Sysroot {
  readonly #sysroot: Native.Sysroot;
  // The binding handle of every Deployment this instance handed out (see deployment.ts).
  readonly #handles = new WeakMap<Deployment, Native.Deployment>();
  #deployments: readonly Deployment[] = [];
  #isBooted = false;
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(sysroot: Native.Sysroot) {
    this.#sysroot = sysroot;
  }

  /**
   * `ostree admin init-fs PATH`: the top-level directories of a root filesystem and an empty
   * sysroot (ostree/repo in bare mode, ostree/deploy). Idempotent.
   */
  static async initFs(path: string, opts: Signal & { readonly modern?: boolean } = {}): Promise<void> {
    requireName(path, 'path');
    // ot-admin-builtin-init-fs.c: these directories with these modes, or only /boot with --modern.
    const dirs: readonly (readonly [string, number])[] =
      opts.modern === true
        ? [['boot', 0o755]]
        : [['boot', 0o755], ['dev', 0o755], ['home', 0o755], ['proc', 0o755], ['run', 0o755], ['sys', 0o755], ['root', 0o700], ['tmp', 0o1777]];
    try {
      await mkdir(path, { recursive: true });
      for (const [name, mode] of dirs) {
        await mkdir(join(path, name), { recursive: true, mode });
        await chmod(join(path, name), mode); // mkdir's mode is filtered by the umask
      }
    } catch (e) {
      throw fromSystemError(e, path, `init-fs ${path}`);
    }
    const sysroot = new (loadNative().Sysroot)(path);
    await withCancellable(opts.signal, { doing: `init-fs ${path}`, subject: path }, (c) => sysroot.ensureInitialized(c));
  }

  /** ostree_sysroot_new + ostree_sysroot_load. */
  static async open(path: string, opts: Signal = {}): Promise<Sysroot> {
    requireName(path, 'path');
    const native = loadNative();
    const self = new Sysroot(new native.Sysroot(path));
    await self.#exclusive(async () => {
      await withCancellable(opts.signal, self.#ctx(`load sysroot ${path}`), async (c) => {
        await self.#sysroot.load(c);
        self.#isBooted = await self.#sysroot.isBooted(c);
      });
      await self.#refresh();
    });
    return self;
  }

  get path(): string {
    return this.#sysroot.path;
  }

  /** The running system booted from this sysroot (ostree_sysroot_is_booted). */
  get isBooted(): boolean {
    return this.#isBooted;
  }

  /** The boot order of the last load: the default deployment first. */
  deployments(): readonly Deployment[] {
    return this.#deployments;
  }

  /** The deployment the running system booted, if it booted from this sysroot. */
  getBootedDeployment(): Deployment | undefined {
    return this.#deployments.find((d) => d.booted);
  }

  requireBootedDeployment(): Deployment {
    const booted = this.getBootedDeployment();
    if (booted === undefined) {
      throw new FailedPrecondition(`sysroot ${this.path}: not booted into an ostree deployment`, { subject: this.path });
    }
    return booted;
  }

  getStagedDeployment(): Deployment | undefined {
    return this.#deployments.find((d) => d.staged);
  }

  /** Reloads the deployment list from disk (ostree_sysroot_load). */
  async load(opts: Signal = {}): Promise<void> {
    await this.#exclusive(async () => {
      await withCancellable(opts.signal, this.#ctx('load sysroot'), (c) => this.#sysroot.load(c));
      await this.#refresh();
    });
  }

  /** Reloads only when the sysroot changed on disk; resolves to whether it did. */
  async loadIfChanged(opts: Signal = {}): Promise<boolean> {
    return this.#exclusive(async () => {
      const changed = await withCancellable(opts.signal, this.#ctx('load sysroot'), (c) => this.#sysroot.loadIfChanged(c));
      if (changed) await this.#refresh();
      return changed;
    });
  }

  /** ostree_sysroot_ensure_initialized: ostree/repo and ostree/deploy exist. */
  async ensureInitialized(opts: Signal = {}): Promise<void> {
    await this.#call(opts.signal, 'initialize sysroot', (c) => this.#sysroot.ensureInitialized(c));
  }

  /** `ostree admin os-init STATEROOT` (ostree_sysroot_init_osname). */
  async initOsname(stateroot: string, opts: Signal = {}): Promise<void> {
    requireName(stateroot, 'stateroot');
    await this.#call(opts.signal, `initialize stateroot ${stateroot}`, (c) => this.#sysroot.initOsname(stateroot, c));
  }

  /**
   * Takes the exclusive sysroot lock (the one `ostree admin` and rpm-ostree take), waiting for it.
   * Conflict after timeoutMs; Cancelled when `signal` aborts.
   */
  async lock(opts: LockOptions = {}): Promise<void> {
    if (opts.timeoutMs !== undefined) requireInteger(opts.timeoutMs, 'timeoutMs', 0, 2 ** 31 - 1);
    const timeout = opts.timeoutMs === undefined ? undefined : AbortSignal.timeout(opts.timeoutMs);
    const signals = [opts.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length === 0 ? undefined : AbortSignal.any(signals);
    try {
      await this.#call(signal, 'lock sysroot', (c) => this.#sysroot.lock(c));
    } catch (e) {
      if (e instanceof Cancelled && timeout?.aborted === true && opts.signal?.aborted !== true) {
        throw new Conflict(`lock sysroot ${this.path}: held by another process (waited ${opts.timeoutMs} ms)`, { subject: this.path, cause: e });
      }
      throw e;
    }
  }

  /** Takes the lock if it is free; false when another process (or Sysroot object) holds it. */
  async tryLock(opts: Signal = {}): Promise<boolean> {
    return this.#call(opts.signal, 'lock sysroot', (c) => this.#sysroot.tryLock(c));
  }

  async unlock(opts: Signal = {}): Promise<void> {
    await this.#call(opts.signal, 'unlock sysroot', (c) => this.#sysroot.unlock(c));
  }

  /** The sysroot's repository (ostree/repo). */
  async getRepo(opts: Signal = {}): Promise<OstreeRepo> {
    return new OstreeRepo(await this.#call(opts.signal, 'open the sysroot repository', (c) => this.#sysroot.getRepo(c)));
  }

  /**
   * ostree_sysroot_query_deployments_for: relative to the booted deployment, the next one of the
   * stateroot (pending) and the previous one (rollback). On a sysroot that is not booted, pending
   * is the stateroot's first deployment and there is no rollback.
   */
  async queryDeploymentsFor(
    stateroot: string,
    opts: Signal = {},
  ): Promise<{ readonly pending: Deployment | undefined; readonly rollback: Deployment | undefined }> {
    requireName(stateroot, 'stateroot');
    const r = await this.#call(opts.signal, `query deployments of ${stateroot}`, (c) => this.#sysroot.queryDeploymentsFor(stateroot, c));
    return Object.freeze({ pending: this.#adopt(r.pending), rollback: this.#adopt(r.rollback) });
  }

  /** The deployment a new one of `stateroot` merges /etc from, if any. */
  async getMergeDeployment(stateroot: string, opts: Signal = {}): Promise<Deployment | undefined> {
    requireName(stateroot, 'stateroot');
    const d = await this.#call(opts.signal, `find the merge deployment of ${stateroot}`, (c) => this.#sysroot.getMergeDeployment(stateroot, c));
    return this.#adopt(d);
  }

  /**
   * Checks out `revision` as a new deployment (ostree_sysroot_deploy_tree_with_options). Nothing
   * boots it until simpleWriteDeployment or writeDeployments puts it in the boot order. The
   * result has index -1.
   */
  async deployTree(opts: DeployTreeOptions): Promise<Deployment> {
    return this.#deployOrStage(opts, false);
  }

  /**
   * Stages a deployment (ostree_sysroot_stage_tree_with_options), finalized at shutdown. Only on
   * a booted system: elsewhere FailedPrecondition.
   */
  async stageTree(opts: DeployTreeOptions): Promise<Deployment> {
    return this.#deployOrStage(opts, true);
  }

  /**
   * Writes `deployment` into the boot order (ostree_sysroot_simple_write_deployment): first (or
   * second with notDefault), dropping the stateroot's others unless retained.
   */
  async simpleWriteDeployment(deployment: Deployment, mergeDeployment: Deployment | undefined, opts: SimpleWriteOptions = {}): Promise<void> {
    const created = this.#handleOf(deployment, 'deployment');
    const merge = mergeDeployment === undefined ? null : this.#handleOf(mergeDeployment, 'mergeDeployment');
    if (opts.stateroot !== undefined) requireName(opts.stateroot, 'stateroot');
    const flags: Native.SimpleWriteFlags = {
      retain: opts.retain === true,
      notDefault: opts.notDefault === true,
      noClean: opts.noClean === true,
      retainPending: opts.retainPending === true,
      retainRollback: opts.retainRollback === true,
    };
    await this.#write(opts.signal, `write deployment ${describeDeployment(deployment)}`, (c) =>
      this.#sysroot.simpleWriteDeployment(opts.stateroot ?? null, created, merge, flags, c),
    );
  }

  /**
   * Writes the complete boot order (ostree_sysroot_write_deployments): the first one boots by
   * default, deployments left out are removed by the cleanup that follows (unless postclean is
   * false). Rollback and reorder are this call with the list rearranged (2022.7 has no
   * `ostree admin set-default`).
   */
  async writeDeployments(deployments: readonly Deployment[], opts: Signal & { readonly postclean?: boolean } = {}): Promise<void> {
    const handles = deployments.map((d, i) => this.#handleOf(d, `deployments[${i}]`));
    await this.#write(opts.signal, 'write deployments', (c) =>
      this.#sysroot.writeDeployments(handles, { doPostclean: opts.postclean !== false }, c),
    );
  }

  /** Pins or unpins a deployment (ostree admin pin): cleanups keep pinned deployments. */
  async deploymentSetPinned(deployment: Deployment, pinned: boolean, opts: Signal = {}): Promise<void> {
    const handle = this.#handleOf(deployment, 'deployment');
    await this.#write(opts.signal, `${pinned ? 'pin' : 'unpin'} ${describeDeployment(deployment)}`, (c) =>
      this.#sysroot.deploymentSetPinned(handle, pinned, c),
    );
  }

  /**
   * Replaces a deployment's kernel arguments (ostree_sysroot_deployment_set_kargs). Pass them
   * without the ostree= argument, which libostree adds itself.
   */
  async deploymentSetKargs(deployment: Deployment, kargs: readonly string[], opts: Signal = {}): Promise<void> {
    const handle = this.#handleOf(deployment, 'deployment');
    const list = requireStrings(kargs, 'kargs');
    if (list.some((k) => k === '' || /\s/.test(k.replace(/"[^"]*"/g, '')))) {
      throw new InvalidArgument('kargs: each kernel argument must be non-empty and contain whitespace only inside double quotes');
    }
    await this.#write(opts.signal, `set kernel arguments of ${describeDeployment(deployment)}`, (c) =>
      this.#sysroot.deploymentSetKargs(handle, list, c),
    );
  }

  /** Replaces a deployment's origin file (e.g. to follow another refspec after a rebase). */
  async writeOriginFile(deployment: Deployment, origin: string, opts: Signal = {}): Promise<void> {
    const handle = this.#handleOf(deployment, 'deployment');
    await this.#write(opts.signal, `write the origin of ${describeDeployment(deployment)}`, (c) =>
      this.#sysroot.writeOriginFile(handle, origin, c),
    );
  }

  /**
   * What `ostree admin cleanup` does (ostree_sysroot_cleanup = prepare_cleanup + a refs-only
   * prune), with the prune's numbers returned instead of printed.
   */
  async cleanup(opts: Signal = {}): Promise<PruneResult> {
    return this.#exclusive(async () => {
      const result = await withCancellable(opts.signal, this.#ctx('clean up sysroot'), async (c) => {
        await this.#sysroot.prepareCleanup(c);
        return this.#sysroot.cleanupPruneRepo({ refsOnly: true }, c);
      });
      await this.#refresh();
      return Object.freeze(result);
    });
  }

  /** Removes undeployed deployment directories and stale boot files; no repository prune. */
  async prepareCleanup(opts: Signal = {}): Promise<void> {
    await this.#write(opts.signal, 'clean up sysroot', (c) => this.#sysroot.prepareCleanup(c));
  }

  /** Prunes the sysroot repository, keeping refs and deployed commits. */
  async cleanupPruneRepo(opts: Signal & { readonly refsOnly?: boolean; readonly noPrune?: boolean } = {}): Promise<PruneResult> {
    const options = { refsOnly: opts.refsOnly !== false, noPrune: opts.noPrune === true };
    return Object.freeze(await this.#call(opts.signal, 'prune the sysroot repository', (c) => this.#sysroot.cleanupPruneRepo(options, c)));
  }

  /** The origin keyfile for a refspec ("[origin]\nrefspec=REFSPEC\n"). */
  originNewFromRefspec(refspec: string): string {
    requireName(refspec, 'refspec');
    return this.#sysroot.originNewFromRefspec(refspec);
  }

  async #deployOrStage(opts: DeployTreeOptions, stage: boolean): Promise<Deployment> {
    requireCsum(opts.revision, 'revision');
    if (opts.stateroot !== undefined) requireName(opts.stateroot, 'stateroot');
    if (opts.origin !== undefined && opts.originRefspec !== undefined) {
      throw new InvalidArgument('deploy: give originRefspec or origin, not both');
    }
    const origin = opts.originRefspec !== undefined ? this.originNewFromRefspec(opts.originRefspec) : opts.origin;
    const options: Native.DeployTreeOptions = {
      osname: opts.stateroot ?? null,
      revision: opts.revision,
      origin: origin ?? null,
      mergeDeployment: opts.mergeDeployment === undefined ? null : this.#handleOf(opts.mergeDeployment, 'mergeDeployment'),
      overrideKernelArgv: opts.overrideKernelArgv === undefined ? null : requireStrings(opts.overrideKernelArgv, 'overrideKernelArgv'),
    };
    const doing = `${stage ? 'stage' : 'deploy'} ${opts.revision}`;
    return this.#exclusive(async () => {
      // libostree refuses to stage on a system that is not booted with a bare G_IO_ERROR_FAILED;
      // that is a precondition of the machine, not an internal error.
      const ctx = { ...this.#ctx(doing), ...(stage && !this.#isBooted && { failedAs: 'FailedPrecondition' as const }) };
      const info = await withCancellable(opts.signal, ctx, (c) => (stage ? this.#sysroot.stageTree(options, c) : this.#sysroot.deployTree(options, c)));
      return this.#register(info);
    });
  }

  #ctx(doing: string): OstreeErrorContext {
    return { doing, subject: this.path };
  }

  /** One binding call in this instance's queue. */
  #call<T>(signal: AbortSignal | undefined, doing: string, run: (c: NativeCancellable) => Promise<T>): Promise<T> {
    return this.#exclusive(() => withCancellable(signal, this.#ctx(doing), run));
  }

  /**
   * A call that changes the sysroot, followed by a reload of the deployment list — also after a
   * failure, which may have happened half-way (the failure is what the caller sees).
   */
  #write(signal: AbortSignal | undefined, doing: string, run: (c: NativeCancellable) => Promise<void>): Promise<void> {
    return this.#exclusive(async () => {
      try {
        await withCancellable(signal, this.#ctx(doing), run);
      } catch (e) {
        await this.#refresh().catch(() => undefined);
        throw e;
      }
      await this.#refresh();
    });
  }

  // Not cancellable on purpose: once a change is on disk, the list must follow it.
  async #refresh(): Promise<void> {
    const infos = await withCancellable(undefined, this.#ctx('load sysroot'), async () => {
      await this.#sysroot.load();
      return this.#sysroot.getDeployments();
    });
    this.#deployments = Object.freeze(infos.map((i) => this.#register(i)));
  }

  #register(info: Native.DeploymentInfo): Deployment {
    const d = toDeployment(info);
    this.#handles.set(d, info.handle);
    return d;
  }

  #adopt(info: Native.DeploymentInfo | null): Deployment | undefined {
    return info === null ? undefined : this.#register(info);
  }

  #handleOf(d: Deployment, what: string): Native.Deployment {
    const handle = typeof d === 'object' && d !== null ? this.#handles.get(d) : undefined;
    if (handle === undefined) {
      throw new InvalidArgument(`${what}: not a deployment returned by this Sysroot (list its deployments first)`, { subject: this.path });
    }
    return handle;
  }

  #exclusive<T>(run: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(run, run);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
