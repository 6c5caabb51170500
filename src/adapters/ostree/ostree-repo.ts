// OstreeRepo: an ostree repository through libostree (OstreeRepo, ostree-repo.h). Policy-free:
// each method is one libostree operation with validated arguments, AbortSignal cancellation and
// errors in the taxonomy; composing them (what to pull, when to prune) is the caller's business.
import { AlreadyExists, Internal, InvalidArgument, isAtomicError, NotFound, Unavailable } from '../../lib/errors.js';
import { type NativeCancellable, withCancellable } from './native-addon.js';
import { requireCsum, requireInteger, requireName, requireStrings } from './ostree-arguments.js';
import { ERROR_DOMAIN, G_IO_ERROR, isGLibError, type OstreeErrorContext } from './ostree-error.js';
import type * as Native from '../../../native/index.js';

export type RepoMode = 'archive' | 'bare' | 'bare-user' | 'bare-user-only';
/** JSON-able commit metadata values (other GVariant types are not returned). */
export type MetadataValue = string | boolean | number | readonly string[];
/** Values accepted in commit metadata (integers -> GVariant int64, Uint8Array -> 'ay'). */
export type MetadataInput = string | boolean | number | readonly string[] | Uint8Array;

export interface Signal {
  readonly signal?: AbortSignal;
}

export interface CommitInfo {
  readonly csum: string;
  readonly subject: string;
  readonly body: string;
  /** Seconds since the epoch. */
  readonly timestamp: number;
  /** The `version` metadata key. */
  readonly version: string | undefined;
  readonly parent: string | undefined;
  /** Checksum of the tree alone (ostree_commit_get_content_checksum). */
  readonly contentChecksum: string | undefined;
  readonly metadata: Readonly<Record<string, MetadataValue>>;
  /** Only the commit object is present (OSTREE_REPO_COMMIT_STATE_PARTIAL, e.g. commit-only pull). */
  readonly partial: boolean;
}

export interface CommitOptions extends Signal {
  /** Directory whose content becomes the commit's tree. */
  readonly tree: string;
  /** Ref moved to the new commit. */
  readonly branch?: string;
  readonly subject: string;
  readonly body?: string;
  /**
   * Parent commit. Undefined: the current head of `branch`, if any (what `ostree commit` does);
   * null: no parent.
   */
  readonly parent?: string | null;
  /** Seconds since the epoch; fixes the commit checksum for reproducible builds. */
  readonly timestamp?: number;
  /** Sets the `version` metadata key (shown by `ostree admin status`, used in BLS titles). */
  readonly version?: string;
  readonly metadata?: Readonly<Record<string, MetadataInput>>;
  /** uid/gid 0 and canonical modes (OSTREE_REPO_COMMIT_MODIFIER_FLAGS_CANONICAL_PERMISSIONS). */
  readonly canonicalPermissions?: boolean;
  readonly skipXattrs?: boolean;
  readonly ownerUid?: number;
  readonly ownerGid?: number;
}

export interface RemoteAddOptions extends Signal {
  /** gpg-verify (libostree's default is true). */
  readonly gpgVerify?: boolean;
  /** Further remote options as written into the repo config (e.g. { 'gpg-verify-summary': false }). */
  readonly options?: Readonly<Record<string, string | boolean | readonly string[]>>;
  /** Do nothing when a remote of that name exists (OSTREE_REPO_REMOTE_CHANGE_ADD_IF_NOT_EXISTS). */
  readonly ifNotExists?: boolean;
}

export type PullProgress = Readonly<Native.PullProgress>;

export interface PullOptions extends Signal {
  /** Only the commit objects (OSTREE_REPO_PULL_FLAGS_COMMIT_ONLY): what an update check needs. */
  readonly commitOnly?: boolean;
  /** History depth: 0 (default) = just the commit, -1 = everything. */
  readonly depth?: number;
  readonly overrideUrl?: string;
  /** Retries of failed requests (libostree default 5). */
  readonly networkRetries?: number;
  /** Refuse a commit older than the one the ref has now. */
  readonly timestampCheck?: boolean;
  readonly disableStaticDeltas?: boolean;
  /** Pull these commits instead of the refs' heads (one per ref). */
  readonly overrideCommitIds?: readonly string[];
  /** Called on the event loop at most every progressIntervalMs, never after the pull settles. */
  readonly onProgress?: (progress: PullProgress) => void;
  readonly progressIntervalMs?: number;
}

export interface PullResult {
  readonly progress: PullProgress;
}

export type GpgSignature = Readonly<Native.GpgSignature>;

export interface GpgVerifyResult {
  readonly countAll: number;
  readonly countValid: number;
  /** At least one valid signature by a key of the remote's keyring. */
  readonly valid: boolean;
  readonly signatures: readonly GpgSignature[];
}

export interface PruneOptions extends Signal {
  readonly refsOnly?: boolean;
  readonly noPrune?: boolean;
  readonly commitOnly?: boolean;
  /** -1 (default): keep the whole history of every ref. */
  readonly depth?: number;
}

export interface PruneResult {
  readonly objectsTotal: number;
  readonly objectsPruned: number;
  readonly prunedBytes: number;
}

const MODES: readonly RepoMode[] = ['archive', 'bare', 'bare-user', 'bare-user-only'];
const CSUM = /^[0-9a-f]{64}$/;

export class OstreeRepo {
  readonly #repo: Native.Repo;

  /** Use OstreeRepo.open/create or Sysroot.getRepo; `repo` comes from the binding. */
  constructor(repo: Native.Repo) {
    this.#repo = repo;
  }

  static async open(path: string, opts: Signal = {}): Promise<OstreeRepo> {
    requireName(path, 'path');
    const ctx = { doing: `open repository ${path}`, subject: path };
    return new OstreeRepo(await withCancellable(opts.signal, ctx, (c, n) => n.Repo.open(path, c)));
  }

  /** Creates the repository (or opens an existing one, keeping its mode). */
  static async create(path: string, mode: RepoMode, opts: Signal = {}): Promise<OstreeRepo> {
    requireName(path, 'path');
    if (!MODES.includes(mode)) throw new InvalidArgument(`repository mode: expected one of ${MODES.join(', ')}, got ${String(mode)}`);
    const ctx = { doing: `create repository ${path}`, subject: path };
    return new OstreeRepo(await withCancellable(opts.signal, ctx, (c, n) => n.Repo.create(path, mode, c)));
  }

  get path(): string {
    return this.#repo.path;
  }

  get mode(): string {
    return this.#repo.mode;
  }

  #run<T>(signal: AbortSignal | undefined, doing: string, run: (c: NativeCancellable) => Promise<T>, extra: { failedAs?: 'Unavailable'; signed?: string } = {}): Promise<T> {
    return withCancellable(signal, { doing, subject: this.path, ...extra }, (c) => run(c));
  }

  /** Refs ("ref" and "remote:ref") -> commit checksum, sorted by name. */
  async listRefs(opts: Signal & { readonly prefix?: string } = {}): Promise<Readonly<Record<string, string>>> {
    return this.#run(opts.signal, 'list refs', (c) => this.#repo.listRefs(opts.prefix ?? null, c));
  }

  /** ostree_repo_resolve_rev: refspec or checksum -> commit checksum. NotFound unless allowNoent. */
  resolveRev(refspec: string, opts: Signal & { readonly allowNoent: true }): Promise<string | undefined>;
  resolveRev(refspec: string, opts?: Signal & { readonly allowNoent?: false }): Promise<string>;
  async resolveRev(refspec: string, opts: Signal & { readonly allowNoent?: boolean } = {}): Promise<string | undefined> {
    requireName(refspec, 'refspec');
    const rev = await this.#run(opts.signal, `resolve ${refspec}`, (c) => this.#repo.resolveRev(refspec, opts.allowNoent === true, c));
    return rev ?? undefined;
  }

  /** Points `refspec` ("ref" or "remote:ref") at `csum` now (no transaction); null deletes it. */
  async setRefImmediate(refspec: string, csum: string | null, opts: Signal = {}): Promise<void> {
    requireName(refspec, 'refspec');
    if (csum !== null) requireCsum(csum, 'csum');
    await this.#run(opts.signal, `set ref ${refspec}`, (c) => this.#repo.setRefImmediate(refspec, csum, c));
  }

  async loadCommit(csum: string, opts: Signal = {}): Promise<CommitInfo> {
    requireCsum(csum, 'csum');
    const raw = await this.#run(opts.signal, `load commit ${csum}`, (c) => this.#repo.loadCommit(csum, c));
    return Object.freeze({
      csum: raw.csum,
      subject: raw.subject,
      body: raw.body,
      timestamp: raw.timestamp,
      version: raw.version ?? undefined,
      parent: raw.parent ?? undefined,
      contentChecksum: raw.contentChecksum ?? undefined,
      metadata: Object.freeze(raw.metadata),
      partial: raw.partial,
    });
  }

  /**
   * The serialized GVariant of a metadata object as stored (ostree_repo_load_variant). For a
   * commit, SHA-256 of these bytes is its checksum; external signature schemes sign them.
   */
  async loadVariant(objectType: 'commit' | 'dirtree' | 'dirmeta', csum: string, opts: Signal = {}): Promise<Uint8Array> {
    requireCsum(csum, 'csum');
    if (!['commit', 'dirtree', 'dirmeta'].includes(objectType)) {
      throw new InvalidArgument(`objectType: expected commit, dirtree or dirmeta, got ${String(objectType)}`);
    }
    return this.#run(opts.signal, `load ${objectType} ${csum}`, (c) => this.#repo.loadVariant(objectType, csum, c));
  }

  /** The commit's detached metadata, a serialized a{sv} (signatures live here); undefined if none. */
  async readCommitDetachedMetadata(csum: string, opts: Signal = {}): Promise<Uint8Array | undefined> {
    requireCsum(csum, 'csum');
    const bytes = await this.#run(opts.signal, `read detached metadata of ${csum}`, (c) => this.#repo.readCommitDetachedMetadata(csum, c));
    return bytes ?? undefined;
  }

  /** Replaces the detached metadata (serialized a{sv} in normal form); null removes it. */
  async writeCommitDetachedMetadata(csum: string, metadata: Uint8Array | null, opts: Signal = {}): Promise<void> {
    requireCsum(csum, 'csum');
    await this.#run(opts.signal, `write detached metadata of ${csum}`, (c) => this.#repo.writeCommitDetachedMetadata(csum, metadata, c));
  }

  /** Commits a directory tree in one transaction; resolves to the new commit checksum. */
  async commit(opts: CommitOptions): Promise<string> {
    requireName(opts.tree, 'tree');
    requireName(opts.subject, 'subject');
    if (opts.branch !== undefined) requireName(opts.branch, 'branch');
    if (opts.timestamp !== undefined) requireInteger(opts.timestamp, 'timestamp', 0, Number.MAX_SAFE_INTEGER);
    if (opts.ownerUid !== undefined) requireInteger(opts.ownerUid, 'ownerUid', 0, 0xffffffff);
    if (opts.ownerGid !== undefined) requireInteger(opts.ownerGid, 'ownerGid', 0, 0xffffffff);
    let parent: string | null = null;
    if (typeof opts.parent === 'string') parent = requireCsum(opts.parent, 'parent');
    else if (opts.parent === undefined && opts.branch !== undefined) {
      parent = (await this.resolveRev(opts.branch, { allowNoent: true, signal: opts.signal })) ?? null;
    }
    const metadata: Record<string, Native.VariantInput> = { ...opts.metadata };
    if (opts.version !== undefined) metadata['version'] = opts.version;
    const options: Native.CommitOptions = {
      tree: opts.tree,
      subject: opts.subject,
      parent,
      metadata,
      ...(opts.branch !== undefined && { branch: opts.branch }),
      ...(opts.body !== undefined && { body: opts.body }),
      ...(opts.timestamp !== undefined && { timestamp: opts.timestamp }),
      ...(opts.canonicalPermissions !== undefined && { canonicalPermissions: opts.canonicalPermissions }),
      ...(opts.skipXattrs !== undefined && { skipXattrs: opts.skipXattrs }),
      ...(opts.ownerUid !== undefined && { ownerUid: opts.ownerUid }),
      ...(opts.ownerGid !== undefined && { ownerGid: opts.ownerGid }),
    };
    return withCancellable(opts.signal, { doing: `commit ${opts.tree}`, subject: opts.tree }, (c) => this.#repo.commit(options, c));
  }

  /** GPG-signs a commit (ostree_repo_sign_commit) with `keyId` from `homedir` (default GnuPG home). */
  async signCommit(csum: string, opts: Signal & { readonly keyId: string; readonly homedir?: string }): Promise<void> {
    requireCsum(csum, 'csum');
    requireName(opts.keyId, 'keyId');
    await this.#run(opts.signal, `sign commit ${csum} with key ${opts.keyId}`, (c) =>
      this.#repo.signCommit(csum, opts.keyId, opts.homedir ?? null, c),
    );
  }

  /** Adds a remote to this repository's config. AlreadyExists unless ifNotExists. */
  async remoteAdd(name: string, url: string, opts: RemoteAddOptions = {}): Promise<void> {
    requireName(name, 'remote name');
    requireName(url, 'url');
    const options: Record<string, Native.VariantInput> = { ...opts.options };
    if (opts.gpgVerify !== undefined) options['gpg-verify'] = opts.gpgVerify;
    // libostree reports an existing remote as G_IO_ERROR_FAILED; check first so the caller gets
    // AlreadyExists (by state, not by matching the message).
    if (opts.ifNotExists !== true && (await this.remoteList({ signal: opts.signal })).includes(name)) {
      throw new AlreadyExists(`add remote ${name}: a remote of that name exists`, { subject: this.path });
    }
    const change = opts.ifNotExists === true ? 'add-if-not-exists' : 'add';
    await this.#run(opts.signal, `add remote ${name}`, (c) => this.#repo.remoteChange(change, name, url, options, c));
  }

  /** Deletes a remote. NotFound unless ifExists. */
  async remoteDelete(name: string, opts: Signal & { readonly ifExists?: boolean } = {}): Promise<void> {
    requireName(name, 'remote name');
    const change = opts.ifExists === true ? 'delete-if-exists' : 'delete';
    await this.#run(opts.signal, `delete remote ${name}`, (c) => this.#repo.remoteChange(change, name, null, null, c));
  }

  async remoteList(opts: Signal = {}): Promise<readonly string[]> {
    return this.#run(opts.signal, 'list remotes', (c) => this.#repo.remoteList(c));
  }

  async remoteGetUrl(name: string, opts: Signal = {}): Promise<string> {
    requireName(name, 'remote name');
    return this.#run(opts.signal, `get URL of remote ${name}`, (c) => this.#repo.remoteGetUrl(name, c));
  }

  /** A remote option's raw value (e.g. 'gpg-verify' -> 'true'), or defaultValue / undefined. */
  async remoteGetOption(name: string, option: string, opts: Signal & { readonly defaultValue?: string } = {}): Promise<string | undefined> {
    requireName(name, 'remote name');
    requireName(option, 'option');
    const value = await this.#run(opts.signal, `get option ${option} of remote ${name}`, (c) =>
      this.#repo.getRemoteOption(name, option, opts.defaultValue ?? null, c),
    );
    return value ?? undefined;
  }

  async remoteGetGpgVerify(name: string, opts: Signal = {}): Promise<boolean> {
    requireName(name, 'remote name');
    return this.#run(opts.signal, `get gpg-verify of remote ${name}`, (c) => this.#repo.remoteGetGpgVerify(name, c));
  }

  /** The remote's refs -> checksums, read from its summary file (fetched over the network). */
  async remoteListRefs(name: string, opts: Signal = {}): Promise<Readonly<Record<string, string>>> {
    requireName(name, 'remote name');
    return withCancellable(opts.signal, { doing: `list refs of remote ${name}`, subject: this.path, failedAs: 'Unavailable' }, (c) =>
      this.#repo.remoteListRefs(name, c),
    );
  }

  /** Imports keys from a keyring file into the remote's keyring; resolves to how many. */
  async remoteGpgImport(name: string, keyringPath: string, opts: Signal & { readonly keyIds?: readonly string[] } = {}): Promise<number> {
    requireName(name, 'remote name');
    requireName(keyringPath, 'keyringPath');
    const keyIds = opts.keyIds === undefined ? null : requireStrings(opts.keyIds, 'keyIds');
    return this.#run(opts.signal, `import GPG keys from ${keyringPath} for remote ${name}`, (c) =>
      this.#repo.remoteGpgImport(name, keyringPath, keyIds, c),
    );
  }

  /**
   * Pulls refs from a remote (ostree_repo_pull_with_options). Network failures are Unavailable,
   * a missing ref NotFound, a commit that fails the remote's GPG policy PermissionDenied.
   */
  async pull(remote: string, refs: readonly string[], opts: PullOptions = {}): Promise<PullResult> {
    requireName(remote, 'remote');
    const refList = requireStrings(refs, 'refs');
    if (refList.length === 0) throw new InvalidArgument('pull: no refs given');
    if (opts.depth !== undefined) requireInteger(opts.depth, 'depth', -1, 2 ** 31 - 1);
    if (opts.networkRetries !== undefined) requireInteger(opts.networkRetries, 'networkRetries', 0, 1000);
    if (opts.progressIntervalMs !== undefined) requireInteger(opts.progressIntervalMs, 'progressIntervalMs', 1, 60_000);
    const options: Native.PullOptions = {
      refs: refList,
      ...(opts.commitOnly !== undefined && { commitOnly: opts.commitOnly }),
      ...(opts.depth !== undefined && { depth: opts.depth }),
      ...(opts.overrideUrl !== undefined && { overrideUrl: opts.overrideUrl }),
      ...(opts.networkRetries !== undefined && { networkRetries: opts.networkRetries }),
      ...(opts.timestampCheck !== undefined && { timestampCheck: opts.timestampCheck }),
      ...(opts.disableStaticDeltas !== undefined && { disableStaticDeltas: opts.disableStaticDeltas }),
      ...(opts.overrideCommitIds !== undefined && { overrideCommitIds: requireStrings(opts.overrideCommitIds, 'overrideCommitIds') }),
      ...(opts.progressIntervalMs !== undefined && { progressIntervalMs: opts.progressIntervalMs }),
    };
    const what = refList.map((r) => `${remote}:${r}`).join(', ');
    const ctx: OstreeErrorContext = { doing: `pull ${what}`, subject: this.path, failedAs: 'Unavailable', signed: `the commit of ${what}` };
    // A throwing progress listener cancels the pull, which then rejects with the listener's error.
    let listenerError: unknown;
    let hasListenerError = false;
    const result = await this.#pullClassified(remote, refList, opts.signal, ctx, async (c) => {
      const listener = opts.onProgress;
      const onProgress =
        listener === undefined
          ? null
          : (p: Native.PullProgress): void => {
              if (hasListenerError) return;
              try {
                listener(Object.freeze(p));
              } catch (e) {
                hasListenerError = true;
                listenerError = e;
                c.cancel();
              }
            };
      try {
        return await this.#repo.pull(remote, options, onProgress, c);
      } catch (e) {
        if (hasListenerError) {
          throw isAtomicError(listenerError)
            ? listenerError
            : new Internal(`pull ${what}: the progress listener threw`, { subject: this.path, cause: listenerError });
        }
        throw e;
      }
    });
    return Object.freeze({ progress: Object.freeze(result.progress) });
  }

  /**
   * libostree 2022.7 reports both network failures ("[7] Couldn't connect to server") and a ref
   * missing from the remote's summary as a bare G_IO_ERROR_FAILED. Which one it was is decided
   * by state, not by the message: if the remote's ref list can be read and lacks a requested ref,
   * the pull failed for that (NotFound); otherwise it stays Unavailable.
   */
  async #pullClassified<T>(
    remote: string,
    refs: readonly string[],
    signal: AbortSignal | undefined,
    ctx: OstreeErrorContext,
    run: (c: NativeCancellable) => Promise<T>,
  ): Promise<T> {
    try {
      return await withCancellable(signal, ctx, run);
    } catch (e) {
      const cause = e instanceof Unavailable ? e.cause : undefined;
      if (!isGLibError(cause) || cause.domain !== ERROR_DOMAIN.io || cause.code !== G_IO_ERROR.FAILED) throw e;
      let available: Readonly<Record<string, string>>;
      try {
        available = await this.remoteListRefs(remote, { signal });
      } catch {
        throw e;
      }
      const missing = refs.filter((r) => !CSUM.test(r) && available[r] === undefined);
      if (missing.length === 0) throw e;
      throw new NotFound(`${ctx.doing}: remote ${remote} has no ref ${missing.join(', ')}`, { subject: this.path, cause });
    }
  }

  /**
   * GPG signatures of a commit against the remote's keyring. PermissionDenied when the commit
   * has no signature at all, and with requireValid also when no signature is valid.
   */
  async verifyCommitForRemote(csum: string, remote: string, opts: Signal & { readonly requireValid?: boolean } = {}): Promise<GpgVerifyResult> {
    requireCsum(csum, 'csum');
    requireName(remote, 'remote');
    const raw = await this.#run(
      opts.signal,
      `verify commit ${csum} for remote ${remote}`,
      (c) => this.#repo.verifyCommitForRemote(csum, remote, opts.requireValid === true, c),
      { signed: `commit ${csum}` },
    );
    return Object.freeze({
      countAll: raw.countAll,
      countValid: raw.countValid,
      valid: raw.countValid > 0,
      signatures: Object.freeze(raw.signatures.map((s) => Object.freeze(s))),
    });
  }

  /** ostree_repo_prune: deletes objects unreachable from refs (to `depth`). */
  async prune(opts: PruneOptions = {}): Promise<PruneResult> {
    if (opts.depth !== undefined) requireInteger(opts.depth, 'depth', -1, 2 ** 31 - 1);
    const options: Native.PruneOptions = {
      ...(opts.refsOnly !== undefined && { refsOnly: opts.refsOnly }),
      ...(opts.noPrune !== undefined && { noPrune: opts.noPrune }),
      ...(opts.commitOnly !== undefined && { commitOnly: opts.commitOnly }),
      ...(opts.depth !== undefined && { depth: opts.depth }),
    };
    return Object.freeze(await this.#run(opts.signal, 'prune', (c) => this.#repo.prune(options, c)));
  }

  /** Writes the summary file (ostree_repo_regenerate_summary), e.g. for a repo served over HTTP. */
  async regenerateSummary(opts: Signal = {}): Promise<void> {
    await this.#run(opts.signal, 'regenerate summary', (c) => this.#repo.regenerateSummary(c));
  }
}
