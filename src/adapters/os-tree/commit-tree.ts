// Step 3 of an image build: the tree committed into an archive-mode ostree repository (created
// when missing), the ref moved to it, GPG-signed when a key is given, and the summary
// regenerated, so the repository can be served over plain HTTP as hosts' update source.
// The commit records `version` (what `ostree admin status`, the BLS titles and
// `atomic host deploy VERSION` show and use) and `atomic.unpacked-size` (what `atomic host`
// checks free space against before pulling it).
import { lstat, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FailedPrecondition, InvalidArgument } from '../../lib/errors.js';
import { OstreeRepo } from '../ostree/ostree-repo.js';

export interface CommitTreeOptions {
  readonly treeDir: string;
  readonly repoPath: string;
  readonly ref: string;
  readonly version: string;
  readonly subject?: string;
  readonly gpg?: { readonly keyId: string; readonly homedir: string };
  /** Commit time, seconds since the epoch (SOURCE_DATE_EPOCH); default now. */
  readonly timestamp?: number;
  readonly signal?: AbortSignal;
}

export interface CommitTreeResult {
  readonly commit: string;
  readonly unpackedSizeBytes: number;
}

const REF = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Bytes of regular files (hard links counted once): what the tree takes unpacked. */
async function treeBytes(dir: string, seen = new Set<string>()): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await treeBytes(p, seen);
    else if (e.isFile()) {
      const st = await lstat(p);
      const id = `${st.dev}:${st.ino}`;
      if (!seen.has(id)) {
        seen.add(id);
        total += st.size;
      }
    }
  }
  return total;
}

export async function commitTree(opts: CommitTreeOptions): Promise<CommitTreeResult> {
  if (!REF.test(opts.ref) || opts.ref.split('/').some((c) => c === '.' || c === '..')) throw new InvalidArgument(`ref: ${JSON.stringify(opts.ref)} is not an ostree ref (e.g. atomic/x86_64/stable)`);
  if (opts.version.trim() === '') throw new InvalidArgument('version: must not be empty');
  const tree = resolve(opts.treeDir);
  for (const must of ['usr/etc', 'usr/lib/modules']) {
    if (!(await lstat(join(tree, must)).catch(() => undefined))?.isDirectory()) {
      throw new FailedPrecondition(`${tree} is not an ostree-ready tree (no /${must}); make it with composeTree`, { subject: tree });
    }
  }
  if ((await lstat(join(tree, 'etc')).catch(() => undefined)) !== undefined) throw new FailedPrecondition(`${tree} has /etc: ostree trees ship it as /usr/etc`, { subject: tree });
  const signal = opts.signal === undefined ? {} : { signal: opts.signal };
  const unpackedSizeBytes = await treeBytes(tree);
  const repo = await OstreeRepo.create(resolve(opts.repoPath), 'archive', signal);
  const commit = await repo.commit({
    ...signal,
    tree,
    branch: opts.ref,
    subject: opts.subject ?? `${opts.ref} ${opts.version}`,
    version: opts.version,
    metadata: { 'atomic.unpacked-size': unpackedSizeBytes },
    ...(opts.timestamp === undefined ? {} : { timestamp: opts.timestamp }),
  });
  // Signed before the summary is regenerated (and before any static delta: DESIGN.md).
  if (opts.gpg !== undefined) await repo.signCommit(commit, { ...signal, keyId: opts.gpg.keyId, homedir: opts.gpg.homedir });
  await repo.regenerateSummary(signal);
  return { commit, unpackedSizeBytes };
}
