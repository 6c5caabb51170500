// atomic image build RECIPE [--format F]... [-o DIR]: recipe -> Debian tree (mmdebstrap, cached)
// -> the OS tree (agent, units, initramfs, ostree layout) -> an ostree commit in DIR/repo ->
// a new sysroot with it deployed (+ preloaded container images) -> a GPT disk, converted to the
// formats asked for. Each step is shown with its time; a JSON manifest of the build is written
// next to the disks. The recipe (and its package names, against the Debian archive) is checked
// before any long work; outputs are written under temp names and renamed, so a failed or
// interrupted build leaves the output directory as it was, and the work tree is removed.
//
// The same repo grows with every build of the recipe: it is the update source of the hosts built
// from it (`atomic image serve DIR/repo`). `--commit-only` makes just the next update.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assembleDisk, type DiskReport } from '../../adapters/disk/assemble-disk.js';
import { convertDisk } from '../../adapters/disk/convert-disk.js';
import { ImageStore } from '../../adapters/image-store/image-store.js';
import { bootstrapRootfs } from '../../adapters/os-tree/bootstrap-rootfs.js';
import { commitTree } from '../../adapters/os-tree/commit-tree.js';
import { composeTree } from '../../adapters/os-tree/compose-tree.js';
import { deploySysroot } from '../../adapters/os-tree/deploy-sysroot.js';
import { removeTree } from '../../adapters/os-tree/remove-tree.js';
import { checkKargs, ROOT_FS_LABEL } from '../../core/image/boot-kargs.js';
import type { DiskFormat } from '../../core/image/disk-geometry.js';
import type { ImageRecipe } from '../../core/image/recipe.js';
import { FailedPrecondition, InvalidArgument } from '../../lib/errors.js';
import { bytesSize, humanSize } from '../../lib/human-units.js';
import { sourceDateEpoch } from '../source-date-epoch.js';
import { withInterrupt } from './host-common.js';
import { defaultCacheDir, loadRecipe } from './image-common.js';

const FORMATS: readonly DiskFormat[] = ['raw', 'qcow2', 'vhd', 'vmdk', 'vagrant-libvirt'];
const EXTENSION: Record<DiskFormat, string> = { raw: 'raw', qcow2: 'qcow2', vhd: 'vhd', vmdk: 'vmdk', 'vagrant-libvirt': 'box' };
/** The checkout this CLI runs from: its dist/, native/ and node_modules go into the image. */
const PROJECT_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export interface ImageBuildOptions {
  readonly format?: readonly string[];
  readonly output?: string;
  readonly cacheDir?: string;
  readonly repo?: string;
  readonly preload?: readonly string[];
  readonly insecureRegistry?: readonly string[];
  readonly gpgSign?: string;
  readonly gpgHomedir?: string;
  /** Overrides the recipe's version (os-release VERSION_ID and the commit's version). */
  readonly osVersion?: string;
  /** Where hosts built from this image get their updates (the recipe's ostree.remote.url otherwise). */
  readonly remoteUrl?: string;
  readonly remoteName?: string;
  /** commander's --no-gpg-verify: false makes hosts accept unsigned updates from the remote. */
  readonly gpgVerify?: boolean;
  readonly commitOnly?: boolean;
  readonly offline?: boolean;
  readonly json?: boolean;
}

export function parseFormats(values: readonly string[] | undefined): DiskFormat[] {
  const list = (values ?? ['qcow2']).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  for (const f of list) if (!FORMATS.includes(f as DiskFormat)) throw new InvalidArgument(`${f} is not one of ${FORMATS.join(', ')}`, { subject: '--format' });
  if (list.length === 0) throw new InvalidArgument(`give one of ${FORMATS.join(', ')}`, { subject: '--format' });
  return [...new Set(list as DiskFormat[])];
}

/** The update remote hosts get, from the flags and the recipe; refused when it could never verify. */
export function updateRemote(recipe: ImageRecipe, opts: ImageBuildOptions): { name: string; url: string; gpgVerify: boolean } | undefined {
  const url = opts.remoteUrl ?? recipe.ostree.remote?.url;
  if (url === undefined) return undefined;
  if (!/^(?:https?|file):\/\/\S+$/.test(url)) throw new InvalidArgument(`${url} is not an http(s) or file URL`, { subject: '--remote-url' });
  const gpgVerify = opts.gpgVerify ?? recipe.ostree.remote?.gpgVerify ?? true;
  if (gpgVerify && opts.gpgSign === undefined) {
    throw new InvalidArgument('hosts built from this image verify the GPG signatures of updates, but this build signs nothing: give --gpg-sign KEYID (its public key goes into the image), or --no-gpg-verify', { subject: '--remote-url' });
  }
  return { name: opts.remoteName ?? recipe.ostree.remote?.name ?? 'atomic', url, gpgVerify };
}

function seconds(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

class Steps {
  private readonly t0 = Date.now();
  readonly timings: { step: string; ms: number }[] = [];
  constructor(private readonly quiet: boolean) {}

  async run<T>(name: string, fn: () => Promise<T>, detail?: (r: T) => string): Promise<T> {
    this.say(`==> ${name}`);
    const s = Date.now();
    const r = await fn();
    const ms = Date.now() - s;
    this.timings.push({ step: name, ms });
    this.say(`    ${seconds(ms)}${detail === undefined ? '' : `: ${detail(r)}`}`);
    return r;
  }

  say(line: string): void {
    if (!this.quiet) process.stderr.write(`${line}\n`);
  }

  totalMs(): number {
    return Date.now() - this.t0;
  }
}

/** The armored public key of `keyId`, for the hosts' remote. */
function exportPublicKey(keyId: string, homedir: string, out: string): Promise<void> {
  const r = spawnSync('gpg', ['--homedir', homedir, '--batch', '--armor', '--export', keyId], { encoding: 'utf8' });
  if (r.error !== undefined) throw new FailedPrecondition(`cannot run gpg: ${r.error.message} (Debian package gpg)`, { subject: 'gpg' });
  if (r.status !== 0 || !r.stdout.includes('BEGIN PGP PUBLIC KEY BLOCK')) throw new InvalidArgument(`no public key ${keyId} in ${homedir}${r.stderr === '' ? '' : `: ${r.stderr.trim()}`}`, { subject: '--gpg-sign' });
  return writeFile(out, r.stdout);
}

export async function run(recipePath: string, opts: ImageBuildOptions): Promise<void> {
  const formats = parseFormats(opts.format);
  const cacheDir = resolve(opts.cacheDir ?? defaultCacheDir());
  const epoch = sourceDateEpoch(process.env);
  await withInterrupt(async (signal) => {
    const steps = new Steps(opts.json === true);
    const progress = (line: string): void => steps.say(`    ${line}`);
    const { recipe: loaded } = await steps.run('validating the recipe', () => loadRecipe(recipePath, { offline: opts.offline === true, cacheDir, signal }));
    const recipe: ImageRecipe = opts.osVersion === undefined ? loaded : { ...loaded, version: opts.osVersion, osRelease: { ...loaded.osRelease, prettyName: `${loaded.osRelease.name} ${opts.osVersion}` } };
    if (opts.osVersion !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._+~-]*$/.test(opts.osVersion)) throw new InvalidArgument(`${JSON.stringify(opts.osVersion)}: letters, digits and . _ + ~ - only`, { subject: '--os-version' });
    const remote = updateRemote(recipe, opts);
    const kargs = checkKargs([`root=LABEL=${ROOT_FS_LABEL}`, 'rw', ...recipe.kernel.args], 'kernel.args');
    const outDir = resolve(opts.output ?? join('build', recipe.name));
    const repoPath = resolve(opts.repo ?? join(outDir, 'repo'));
    await mkdir(outDir, { recursive: true });
    await mkdir(join(cacheDir, 'work'), { recursive: true });
    const work = await mkdtemp(join(cacheDir, 'work', `${recipe.name}-`));
    try {
      let keyring: string | undefined;
      if (opts.gpgSign !== undefined) {
        keyring = join(work, 'signing-key.asc');
        await exportPublicKey(opts.gpgSign, opts.gpgHomedir ?? join(process.env['HOME'] ?? '/root', '.gnupg'), keyring);
      }
      const base = await steps.run(
        `bootstrapping Debian ${recipe.base.suite} (${recipe.base.packages.length + 1} packages, ${recipe.base.mirror})`,
        () => bootstrapRootfs({ suite: recipe.base.suite, mirror: recipe.base.mirror, arch: recipe.arch, packages: [...recipe.base.packages, recipe.kernel.package], cacheDir, signal, onProgress: progress }),
        (r) => (r.cached ? `cached (${r.packages.length} packages)` : `${r.packages.length} packages installed`),
      );
      const tree = await steps.run(
        'composing the OS tree (agent, units, initramfs, ostree layout)',
        () =>
          composeTree({
            rootfsTarball: base.tarball,
            treeDir: join(work, 'tree'),
            osName: recipe.name,
            version: recipe.version,
            osRelease: { id: recipe.name, name: recipe.osRelease.name, versionId: recipe.version, prettyName: recipe.osRelease.prettyName },
            agent: { projectRoot: PROJECT_ROOT, nodeBinary: process.execPath },
            users: recipe.users.map((u) => ({ name: u.name, groups: [...u.groups], sshAuthorizedKeys: [...u.sshAuthorizedKeys], ...(u.passwordHash !== undefined ? { passwordHash: u.passwordHash } : {}), ...(u.shell !== undefined ? { shell: u.shell } : {}) })),
            files: recipe.files.map((f) => ({ path: f.path, content: f.content, mode: f.mode })),
            ...(recipe.initramfs.modules !== undefined ? { initramfsModules: [...recipe.initramfs.modules] } : {}),
            arch: recipe.arch,
            signal,
            onProgress: progress,
          }),
        (r) => `kernel ${r.kernelVersion}, initramfs ${humanSize(r.initramfsSizeBytes)}`,
      );
      const committed = await steps.run(
        `committing ${recipe.ostree.ref} ${recipe.version} to ${repoPath}${opts.gpgSign !== undefined ? ' (GPG-signed)' : ''}`,
        () =>
          commitTree({
            treeDir: tree.treeDir,
            repoPath,
            ref: recipe.ostree.ref,
            version: recipe.version,
            subject: recipe.osRelease.prettyName,
            ...(opts.gpgSign !== undefined ? { gpg: { keyId: opts.gpgSign, homedir: opts.gpgHomedir ?? join(process.env['HOME'] ?? '/root', '.gnupg') } } : {}),
            ...(epoch !== undefined ? { timestamp: epoch } : {}),
            signal,
          }),
        (r) => `${r.commit} (${humanSize(r.unpackedSizeBytes)} unpacked)`,
      );
      // The tree is in the repo now; its checkout is not needed for the rest.
      await removeTree(tree.treeDir);
      const manifest: Record<string, unknown> = {
        name: recipe.name,
        version: recipe.version,
        arch: recipe.arch,
        ostree: { repo: repoPath, ref: recipe.ostree.ref, commit: committed.commit, ...(remote !== undefined ? { remote } : {}) },
        kernel: tree.kernelVersion,
      };
      if (opts.commitOnly === true) {
        if (opts.json === true) process.stdout.write(`${JSON.stringify({ ...manifest, timings: steps.timings, totalMs: steps.totalMs() }, null, 2)}\n`);
        else {
          steps.say(`committed ${recipe.name} ${recipe.version} in ${seconds(steps.totalMs())}`);
          process.stdout.write(`${committed.commit}\n`);
        }
        return;
      }

      const sysrootDir = join(work, 'sysroot');
      await steps.run('deploying it into a new sysroot', () =>
        deploySysroot({
          repoPath,
          ref: recipe.ostree.ref,
          sysrootDir,
          osName: recipe.name,
          kargs,
          ...(remote !== undefined ? { remote: { ...remote, ...(keyring !== undefined ? { gpgKeyring: keyring } : {}) } } : {}),
          signal,
        }),
      );
      const preload = [...new Set([...recipe.preload, ...(opts.preload ?? [])])];
      if (preload.length > 0) {
        await steps.run(`preloading ${preload.length} container image${preload.length === 1 ? '' : 's'}`, async () => {
          // The agent's image store is /var/lib/atomicd/images; a deployed host's /var is its
          // stateroot's var, which the disk carries.
          const store = new ImageStore({ root: join(sysrootDir, 'ostree', 'deploy', recipe.name, 'var', 'lib', 'atomicd', 'images'), registry: { insecureRegistries: opts.insecureRegistry ?? [] } });
          for (const ref of preload) await store.pull(ref, { signal });
        });
      }

      const stem = `${recipe.name}-${recipe.version}`;
      const rawPath = join(outDir, `${stem}.raw`);
      // Made under a temp name unless raw is wanted; converted outputs are renamed by convertDisk.
      const rawWork = formats.includes('raw') ? rawPath : join(work, `${stem}.raw`);
      const disks: DiskReport[] = [];
      const raw = await steps.run(
        `assembling a ${bytesSize(recipe.disk.sizeBytes)} GPT disk (ESP ${bytesSize(recipe.disk.espSizeBytes)}, ext4 root)`,
        () => assembleDisk({ sysrootDir, outPath: rawWork, layout: { sizeBytes: recipe.disk.sizeBytes, espSizeBytes: recipe.disk.espSizeBytes, rootLabel: ROOT_FS_LABEL, arch: recipe.arch }, ...(epoch !== undefined ? { sourceDateEpoch: epoch } : {}), signal, onProgress: progress }),
        (r) => `${humanSize(r.allocatedBytes)} allocated`,
      );
      await removeTree(sysrootDir);
      if (formats.includes('raw')) disks.push(raw);
      for (const f of formats) {
        if (f === 'raw') continue;
        disks.push(await steps.run(`converting to ${f}`, () => convertDisk({ rawPath: rawWork, format: f, outPath: join(outDir, `${stem}.${EXTENSION[f]}`), ...(epoch !== undefined ? { sourceDateEpoch: epoch } : {}), signal }), (r) => humanSize(r.fileSizeBytes)));
      }
      const full = { ...manifest, disks, timings: steps.timings, totalMs: steps.totalMs() };
      const manifestPath = join(outDir, `${stem}.json`);
      await writeFile(`${manifestPath}.tmp`, `${JSON.stringify(full, null, 2)}\n`);
      await rename(`${manifestPath}.tmp`, manifestPath);
      if (opts.json === true) process.stdout.write(`${JSON.stringify(full, null, 2)}\n`);
      else {
        steps.say(`built ${recipe.name} ${recipe.version} (${recipe.arch}) in ${seconds(steps.totalMs())}`);
        for (const d of disks) process.stdout.write(`${d.path}\n`);
      }
    } finally {
      await removeTree(work).catch(() => rm(work, { recursive: true, force: true }));
    }
  });
}
