// Typed raw surface of the libostree addon (native/index.cjs). Policy-free and named after the
// libostree C API (https://ostreedev.github.io/ostree/reference/). Only src/adapters/ostree/
// uses it, through `import type` plus a lazy createRequire of index.cjs.
//
// Conventions of every method below:
// - Methods that touch the repository or sysroot return a Promise and run on a thread of their own
//   (not libuv's pool, which long pulls and lock waits would starve); calls on one object (and on
//   a Sysroot and the Repo from its getRepo()) run one at a time.
// - The last argument is an optional Cancellable; cancel() makes a running call reject with an
//   OstreeError of domain 'g-io-error-quark', code ioErrorCodes.CANCELLED (19).
// - Wrong argument types throw a TypeError synchronously; libostree failures reject with an
//   OstreeError carrying the GError's domain, code and message.

/** A GLib GError crossing into JS. */
export class OstreeError extends Error {
  private constructor(message: string, domain: string, code: number);
  /** The GQuark string, e.g. 'g-io-error-quark', 'OstreeGpgError', 'atomic-native-error-quark'. */
  readonly domain: string;
  /** The error code within `domain` (GIOErrorEnum, OstreeGpgError, NativeErrorCode, ...). */
  readonly code: number;
}

/** A GCancellable. */
export class Cancellable {
  constructor();
  cancel(): void;
  readonly cancelled: boolean;
}

/** Opaque: maps a deployment snapshot back to its OstreeDeployment (see src/deployment.h). */
export class Deployment {
  private constructor();
  private readonly __brand: 'OstreeDeployment';
}

export type RepoMode = 'archive' | 'bare' | 'bare-user' | 'bare-user-only';

/** JSON-able commit metadata values (other GVariant types are left out). */
export type MetadataValue = string | boolean | number | string[];
/** Values accepted when writing a{sv} (integers -> 'x', other numbers -> 'd', Uint8Array -> 'ay'). */
export type VariantInput = string | boolean | number | readonly string[] | Uint8Array;

export interface CommitInfo {
  csum: string;
  subject: string;
  body: string;
  /** Seconds since the epoch (ostree_commit_get_timestamp). */
  timestamp: number;
  /** The `version` metadata key, or null. */
  version: string | null;
  parent: string | null;
  /** ostree_commit_get_content_checksum: the tree's checksum, independent of commit metadata. */
  contentChecksum: string | null;
  metadata: Record<string, MetadataValue>;
  /** OSTREE_REPO_COMMIT_STATE_PARTIAL: only the commit object is present (commit-only pull). */
  partial: boolean;
}

export interface CommitOptions {
  /** Directory to commit. */
  tree: string;
  /** Ref to point at the new commit (none when omitted). */
  branch?: string;
  subject: string;
  body?: string;
  /** Parent commit checksum; none when omitted or null. */
  parent?: string | null;
  /** Seconds since the epoch (ostree_repo_write_commit_with_time); current time when omitted. */
  timestamp?: number;
  metadata?: Record<string, VariantInput>;
  /** OSTREE_REPO_COMMIT_MODIFIER_FLAGS_CANONICAL_PERMISSIONS (uid/gid 0, mode & 0755|0644). */
  canonicalPermissions?: boolean;
  /** OSTREE_REPO_COMMIT_MODIFIER_FLAGS_SKIP_XATTRS. */
  skipXattrs?: boolean;
  /** Rewrite ownership of every file (like `ostree commit --owner-uid/--owner-gid`). */
  ownerUid?: number;
  ownerGid?: number;
}

export type RemoteChange = 'add' | 'add-if-not-exists' | 'delete' | 'delete-if-exists' | 'replace';

export interface PullOptions {
  refs: string[];
  /** OSTREE_REPO_PULL_FLAGS_COMMIT_ONLY: commit objects (metadata) only. */
  commitOnly?: boolean;
  mirror?: boolean;
  untrusted?: boolean;
  /** History depth (-1 = all); default 0. */
  depth?: number;
  overrideUrl?: string;
  /** n-network-retries (libostree default 5). */
  networkRetries?: number;
  timestampCheck?: boolean;
  disableStaticDeltas?: boolean;
  overrideCommitIds?: string[];
  /** Progress throttle and the pull's update-frequency, ms (default 100). */
  progressIntervalMs?: number;
}

/** OstreeAsyncProgress keys as set by libostree's pull (ostree-repo-pull.c update_progress). */
export interface PullProgress {
  fetched: number;
  requested: number;
  outstandingFetches: number;
  outstandingWrites: number;
  metadataFetched: number;
  outstandingMetadataFetches: number;
  scannedMetadata: number;
  fetchedDeltaParts: number;
  totalDeltaParts: number;
  bytesTransferred: number;
  /** Monotonic start time of the pull, microseconds. */
  startTimeUs: number;
  status: string;
}

export interface PullResult {
  /** The final progress values. */
  progress: PullProgress;
}

export interface GpgSignature {
  valid: boolean;
  sigExpired: boolean;
  keyExpired: boolean;
  keyRevoked: boolean;
  keyMissing: boolean;
  fingerprint: string;
  fingerprintPrimary: string;
  pubkeyAlgo: string;
  hashAlgo: string;
  userName: string;
  userEmail: string;
  /** Seconds since the epoch. */
  timestamp: number;
  /** Seconds since the epoch, 0 = never. */
  expTimestamp: number;
  /** ostree_gpg_verify_result_describe(). */
  description: string;
}

export interface GpgVerifyResult {
  countAll: number;
  countValid: number;
  signatures: GpgSignature[];
}

export interface PruneOptions {
  refsOnly?: boolean;
  noPrune?: boolean;
  commitOnly?: boolean;
  /** -1 (default) = whole history. */
  depth?: number;
}

export interface PruneResult {
  objectsTotal: number;
  objectsPruned: number;
  prunedBytes: number;
}

export class Repo {
  private constructor();
  /** ostree_repo_open. */
  static open(path: string, cancellable?: Cancellable | null): Promise<Repo>;
  /** ostree_repo_create (opens an existing repository as it is). */
  static create(path: string, mode: RepoMode, cancellable?: Cancellable | null): Promise<Repo>;
  readonly path: string;
  readonly mode: RepoMode | 'bare-split-xattrs' | 'unknown';
  /** ostree_repo_list_refs_ext: name ("ref" or "remote:ref") -> checksum. */
  listRefs(prefix?: string | null, cancellable?: Cancellable | null): Promise<Record<string, string>>;
  resolveRev(refspec: string, allowNoent: boolean, cancellable?: Cancellable | null): Promise<string | null>;
  /** null csum deletes the ref; "remote:ref" sets a remote ref. */
  setRefImmediate(refspec: string, csum: string | null, cancellable?: Cancellable | null): Promise<void>;
  loadCommit(csum: string, cancellable?: Cancellable | null): Promise<CommitInfo>;
  /** ostree_repo_load_variant: the object's serialized GVariant bytes. */
  loadVariant(objectType: 'commit' | 'dirtree' | 'dirmeta', csum: string, cancellable?: Cancellable | null): Promise<Buffer>;
  /** Serialized a{sv}, or null when the commit has none. */
  readCommitDetachedMetadata(csum: string, cancellable?: Cancellable | null): Promise<Buffer | null>;
  writeCommitDetachedMetadata(csum: string, metadata: Uint8Array | null, cancellable?: Cancellable | null): Promise<void>;
  commit(options: CommitOptions, cancellable?: Cancellable | null): Promise<string>;
  signCommit(csum: string, keyId: string, homedir: string | null, cancellable?: Cancellable | null): Promise<void>;
  remoteChange(
    change: RemoteChange,
    name: string,
    url: string | null,
    options: Record<string, VariantInput> | null,
    cancellable?: Cancellable | null,
  ): Promise<void>;
  remoteList(cancellable?: Cancellable | null): Promise<string[]>;
  remoteGetUrl(name: string, cancellable?: Cancellable | null): Promise<string>;
  getRemoteOption(name: string, option: string, defaultValue: string | null, cancellable?: Cancellable | null): Promise<string | null>;
  remoteGetGpgVerify(name: string, cancellable?: Cancellable | null): Promise<boolean>;
  /** ostree_repo_remote_list_refs: the remote's refs from its summary file. */
  remoteListRefs(name: string, cancellable?: Cancellable | null): Promise<Record<string, string>>;
  /** Resolves to the number of keys imported. */
  remoteGpgImport(name: string, keyringPath: string, keyIds: string[] | null, cancellable?: Cancellable | null): Promise<number>;
  /**
   * ostree_repo_pull_with_options. `onProgress` runs on the JS thread, at most every
   * progressIntervalMs, and never after the returned promise settles.
   */
  pull(
    remote: string,
    options: PullOptions,
    onProgress: ((progress: PullProgress) => void) | null,
    cancellable?: Cancellable | null,
  ): Promise<PullResult>;
  verifyCommitForRemote(csum: string, remote: string, requireValid: boolean, cancellable?: Cancellable | null): Promise<GpgVerifyResult>;
  prune(options: PruneOptions | null, cancellable?: Cancellable | null): Promise<PruneResult>;
  regenerateSummary(cancellable?: Cancellable | null): Promise<void>;
}

export interface DeploymentInfo {
  osname: string;
  csum: string;
  deployserial: number;
  bootserial: number;
  bootcsum: string;
  /** Position in the sysroot's current deployment list; -1 for a new, unwritten deployment. */
  index: number;
  isPinned: boolean;
  isStaged: boolean;
  isBooted: boolean;
  unlocked: 'none' | 'development' | 'hotfix' | 'transient';
  /** origin/refspec of the origin keyfile. */
  originRefspec: string | null;
  /** The whole origin keyfile. */
  origin: string | null;
  /** The bootconfig `options`, split as the kernel does. */
  kargs: string[];
  /** Absolute deployment directory. */
  path: string;
  handle: Deployment;
}

export interface DeployTreeOptions {
  /** Stateroot; may be omitted only on a booted system (then the booted one's). */
  osname?: string | null;
  /** Commit checksum. */
  revision: string;
  /** Origin keyfile text (see originNewFromRefspec). */
  origin?: string | null;
  mergeDeployment?: Deployment | null;
  /** Replaces the kernel arguments (otherwise they come from the merge deployment). */
  overrideKernelArgv?: string[] | null;
}

export interface SimpleWriteFlags {
  retain?: boolean;
  notDefault?: boolean;
  noClean?: boolean;
  retainPending?: boolean;
  retainRollback?: boolean;
}

export class Sysroot {
  /** ostree_sysroot_new (no I/O). */
  constructor(path: string);
  readonly path: string;
  load(cancellable?: Cancellable | null): Promise<void>;
  loadIfChanged(cancellable?: Cancellable | null): Promise<boolean>;
  unload(cancellable?: Cancellable | null): Promise<void>;
  ensureInitialized(cancellable?: Cancellable | null): Promise<void>;
  initOsname(osname: string, cancellable?: Cancellable | null): Promise<void>;
  /** Waits for the exclusive sysroot lock (polling try_lock; abortable). */
  lock(cancellable?: Cancellable | null): Promise<void>;
  tryLock(cancellable?: Cancellable | null): Promise<boolean>;
  unlock(cancellable?: Cancellable | null): Promise<void>;
  isBooted(cancellable?: Cancellable | null): Promise<boolean>;
  getRepo(cancellable?: Cancellable | null): Promise<Repo>;
  getDeployments(cancellable?: Cancellable | null): Promise<DeploymentInfo[]>;
  getBootedDeployment(cancellable?: Cancellable | null): Promise<DeploymentInfo | null>;
  getStagedDeployment(cancellable?: Cancellable | null): Promise<DeploymentInfo | null>;
  queryDeploymentsFor(
    osname: string | null,
    cancellable?: Cancellable | null,
  ): Promise<{ pending: DeploymentInfo | null; rollback: DeploymentInfo | null }>;
  getMergeDeployment(osname: string | null, cancellable?: Cancellable | null): Promise<DeploymentInfo | null>;
  deployTree(options: DeployTreeOptions, cancellable?: Cancellable | null): Promise<DeploymentInfo>;
  stageTree(options: DeployTreeOptions, cancellable?: Cancellable | null): Promise<DeploymentInfo>;
  simpleWriteDeployment(
    osname: string | null,
    newDeployment: Deployment,
    mergeDeployment: Deployment | null,
    flags: SimpleWriteFlags | null,
    cancellable?: Cancellable | null,
  ): Promise<void>;
  writeDeployments(deployments: Deployment[], options: { doPostclean?: boolean } | null, cancellable?: Cancellable | null): Promise<void>;
  deploymentSetPinned(deployment: Deployment, pinned: boolean, cancellable?: Cancellable | null): Promise<void>;
  deploymentSetKargs(deployment: Deployment, kargs: string[], cancellable?: Cancellable | null): Promise<void>;
  writeOriginFile(deployment: Deployment, origin: string | null, cancellable?: Cancellable | null): Promise<void>;
  cleanup(cancellable?: Cancellable | null): Promise<void>;
  prepareCleanup(cancellable?: Cancellable | null): Promise<void>;
  cleanupPruneRepo(options: { refsOnly?: boolean; noPrune?: boolean } | null, cancellable?: Cancellable | null): Promise<PruneResult>;
  /** Origin keyfile text for a refspec. */
  originNewFromRefspec(refspec: string): string;
}

export const errorDomains: {
  readonly io: string;
  readonly gpg: string;
  readonly native: string;
  readonly keyFile: string;
  readonly file: string;
};
/** GIOErrorEnum by name without the G_IO_ERROR_ prefix (NOT_FOUND: 1, ...). */
export const ioErrorCodes: Readonly<Record<string, number>>;
export const gpgErrorCodes: Readonly<Record<
  'NO_SIGNATURE' | 'INVALID_SIGNATURE' | 'MISSING_KEY' | 'EXPIRED_SIGNATURE' | 'EXPIRED_KEY' | 'REVOKED_KEY',
  number
>>;
export const nativeErrorCodes: Readonly<Record<
  'NOT_LOADED' | 'STALE_DEPLOYMENT' | 'FOREIGN_DEPLOYMENT' | 'ALREADY_LOCKED' | 'INVALID_ARGUMENT' | 'NO_ERROR_SET',
  number
>>;
/** OSTREE_VERSION_S of the headers the addon was built against. */
export const libostreeVersion: string;
