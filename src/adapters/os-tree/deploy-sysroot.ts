// Step 4 of an image build: a fresh sysroot (the root file system of the disk) with the commit
// deployed, as `ostree admin init-fs` + `os-init` + `pull` + `deploy` would make it, plus the
// update remote in the sysroot's repository and /boot/loader/grub.cfg generated from the BLS
// entries by the same code `atomic host` runs after every deployment change (Debian's GRUB has no
// blscfg). Built in a temp directory beside sysrootDir and renamed into place.
import { lstat, mkdir, mkdtemp, readdir, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { AlreadyExists, InvalidArgument, fromSystemError } from '../../lib/errors.js';
import { checkKargs } from '../../core/image/boot-kargs.js';
import { parseBlsEntry } from '../../core/host/bls-entry.js';
import { Sysroot } from '../ostree/sysroot.js';
import { writeGrubCfg } from '../ostree-host/host-files.js';
import { removeTree } from './remove-tree.js';

export interface DeploySysrootOptions {
  /** The (archive) repository holding `ref`, e.g. commitTree's. */
  readonly repoPath: string;
  readonly ref: string;
  readonly sysrootDir: string;
  /** The stateroot (libostree's osname). */
  readonly osName: string;
  /** Kernel arguments without ostree= (libostree adds it), e.g. defaultKargs('x86_64'). */
  readonly kargs: readonly string[];
  /**
   * Where hosts get updates: the deployment's origin becomes `NAME:REF`. Without it, the origin
   * is the bare ref and `atomic host upgrade` has nothing to pull from until a remote is added.
   */
  readonly remote?: { readonly name: string; readonly url: string; readonly gpgVerify: boolean; readonly gpgKeyring?: string };
  readonly signal?: AbortSignal;
}

export interface DeploySysrootResult {
  readonly commit: string;
  readonly deploymentDir: string;
  /** The BLS entry's kernel arguments (what a direct-kernel boot passes). */
  readonly kargs: readonly string[];
  /** Kernel and initramfs paths relative to the sysroot (/boot/ostree/OS-BOOTCSUM/...), from the BLS entry. */
  readonly kernel: string;
  readonly initramfs: string;
}

/** A temporary remote name for the build-time pull when no update remote is given. */
const BUILD_REMOTE = 'atomic-image-build';

export async function deploySysroot(opts: DeploySysrootOptions): Promise<DeploySysrootResult> {
  const kargs = checkKargs(opts.kargs);
  if (!/^[A-Za-z0-9._-]+$/.test(opts.osName)) throw new InvalidArgument(`osName: ${JSON.stringify(opts.osName)} is not a stateroot name`);
  if (opts.remote !== undefined && !/^[A-Za-z0-9._-]+$/.test(opts.remote.name)) throw new InvalidArgument(`remote.name: ${JSON.stringify(opts.remote.name)} is not a remote name`);
  if (opts.remote?.gpgVerify === true && opts.remote.gpgKeyring === undefined) {
    throw new InvalidArgument('remote.gpgKeyring: a remote that verifies GPG signatures needs the keyring to trust');
  }
  const target = resolve(opts.sysrootDir);
  if ((await lstat(target).catch(() => undefined)) !== undefined) throw new AlreadyExists(`${target} exists; a sysroot is built fresh`, { subject: target });
  const signal = opts.signal === undefined ? {} : { signal: opts.signal };
  await mkdir(dirname(target), { recursive: true }).catch((e: unknown) => {
    throw fromSystemError(e, dirname(target), 'creating the parent of the sysroot directory');
  });
  const work = await mkdtemp(join(dirname(target), `.${basename(target)}.tmp-`));
  try {
    await Sysroot.initFs(work, signal);
    const sysroot = await Sysroot.open(work, signal);
    await sysroot.initOsname(opts.osName, signal);
    const repo = await sysroot.getRepo(signal);
    const sourceUrl = `file://${resolve(opts.repoPath)}`;
    let originRefspec: string;
    if (opts.remote !== undefined) {
      await repo.remoteAdd(opts.remote.name, opts.remote.url, { ...signal, gpgVerify: opts.remote.gpgVerify });
      if (opts.remote.gpgKeyring !== undefined) await repo.remoteGpgImport(opts.remote.name, resolve(opts.remote.gpgKeyring), signal);
      // From the build's repository under the remote's name: the same GPG policy applies, so an
      // image whose commit its own remote would refuse is not built.
      await repo.pull(opts.remote.name, [opts.ref], { ...signal, overrideUrl: sourceUrl });
      originRefspec = `${opts.remote.name}:${opts.ref}`;
    } else {
      await repo.remoteAdd(BUILD_REMOTE, sourceUrl, { ...signal, gpgVerify: false });
      await repo.pull(BUILD_REMOTE, [opts.ref], signal);
      const csum = await repo.resolveRev(`${BUILD_REMOTE}:${opts.ref}`, signal);
      await repo.setRefImmediate(opts.ref, csum, signal);
      await repo.setRefImmediate(`${BUILD_REMOTE}:${opts.ref}`, null, signal);
      await repo.remoteDelete(BUILD_REMOTE, signal);
      originRefspec = opts.ref;
    }
    const commit = await repo.resolveRev(originRefspec, signal);
    const created = await sysroot.deployTree({ ...signal, stateroot: opts.osName, revision: commit, originRefspec, overrideKernelArgv: kargs });
    await sysroot.simpleWriteDeployment(created, undefined, { ...signal, stateroot: opts.osName });
    await writeGrubCfg(work);
    const deployed = sysroot.deployments()[0];
    if (deployed === undefined) throw new Error('libostree wrote no deployment');
    const entriesDir = join(work, 'boot', 'loader', 'entries');
    const names = (await readdir(entriesDir)).filter((n) => n.endsWith('.conf'));
    if (names.length !== 1) throw new Error(`libostree wrote ${names.length} boot loader entries, expected 1`);
    const entry = parseBlsEntry(await readFile(join(entriesDir, names[0]!), 'utf8'), names[0]!);
    await rename(work, target);
    return {
      commit,
      deploymentDir: join(target, deployed.path.slice(work.length)),
      kargs: entry.options.split(/\s+/).filter((k) => k !== ''),
      kernel: `/boot${entry.linux}`,
      initramfs: `/boot${entry.initrd[0] ?? ''}`,
    };
  } catch (e) {
    await removeTree(work).catch(() => undefined);
    throw e;
  }
}
