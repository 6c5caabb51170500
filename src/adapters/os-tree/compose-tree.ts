// Step 2 of an image build: the bootstrap tarball unpacked and made into an ostree-ready atomic
// host tree: our os-release, first-boot state (empty machine-id, no hostname, no SSH host keys),
// the agent installed with its units, users and files from the recipe, our initramfs beside the
// kernel, and the ostree layout (src/core/image/ostree-layout.ts). Built in a temp directory
// beside treeDir and renamed into place: a failure leaves nothing at treeDir.
import { chmod, cp, lstat, mkdir, mkdtemp, open, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Cancelled, FailedPrecondition, InvalidArgument, fromSystemError } from '../../lib/errors.js';
import { ROOT_FS_LABEL, type ImageArch } from '../../core/image/boot-kargs.js';
import { elfIdentity } from '../../core/image/elf-machine.js';
import { renderOsRelease } from '../../core/image/os-release.js';
import { AGENT_DIR, ENABLED_UNITS, MASKED_UNITS, osUnits } from '../../core/image/os-units.js';
import { checkTreeFilePath, DPKG_DATABASE, EMPTY_TOPLEVEL_DIRS, renderTmpfilesConf, TMPFILES_CONF_PATH, TOPLEVEL_SYMLINKS } from '../../core/image/ostree-layout.js';
import { productionPackages } from '../../core/image/production-packages.js';
import { buildInitramfs } from './build-initramfs.js';
import { removeTree } from './remove-tree.js';
import { runLogged } from './run-logged.js';

export interface TreeUser {
  readonly name: string;
  readonly groups?: readonly string[];
  readonly sshAuthorizedKeys?: readonly string[];
  /** crypt(3) hash for /etc/shadow; without it the account has no password (key login only). */
  readonly passwordHash?: string;
  readonly shell?: string;
}

export interface TreeFileInput {
  readonly path: string;
  readonly content: string;
  readonly mode?: number;
}

export interface ComposeTreeOptions {
  readonly rootfsTarball: string;
  readonly treeDir: string;
  /** The stateroot the image deploys as (also the default os-release ID's owner). */
  readonly osName: string;
  readonly version: string;
  readonly osRelease: { readonly id: string; readonly name: string; readonly versionId: string; readonly prettyName?: string };
  readonly agent: {
    /** The atomic checkout: dist/{src,vendor,bin,bundle}, native/, node_modules, package.json, package-lock.json. */
    readonly projectRoot: string;
    /** A Node.js >= 20 binary for the tree's architecture (bookworm's nodejs is 18). */
    readonly nodeBinary: string;
  };
  readonly users?: readonly TreeUser[];
  readonly files?: readonly TreeFileInput[];
  /** Kernel modules of the initramfs (default DEFAULT_INITRAMFS_MODULES). */
  readonly initramfsModules?: readonly string[];
  readonly arch: ImageArch;
  readonly signal?: AbortSignal;
  readonly onProgress?: (step: string) => void;
}

export interface ComposeTreeResult {
  readonly treeDir: string;
  readonly kernelVersion: string;
  readonly initramfsSizeBytes: number;
  /** Modules in the initramfs, in load order. */
  readonly initramfsModules: readonly string[];
}

/**
 * What reaches a root disk on the clouds and hypervisors we target: virtio (QEMU/KVM, GCE),
 * NVMe (EC2 Nitro, Azure v6), SCSI disks (GCE, Hyper-V through virtio-scsi), ext4; sr_mod so a
 * NoCloud seed CD on virtio-scsi is there before systemd starts (see os-units.ts). Dependencies
 * (virtio_ring, scsi_mod, jbd2, crc32c ...) are added from modules.dep; built-in ones are fine.
 */
export const DEFAULT_INITRAMFS_MODULES: Readonly<Record<ImageArch, readonly string[]>> = {
  x86_64: ['virtio_pci', 'virtio_blk', 'virtio_scsi', 'sd_mod', 'sr_mod', 'nvme', 'crc32c_generic', 'ext4'],
  aarch64: ['virtio_pci', 'virtio_mmio', 'virtio_blk', 'virtio_scsi', 'sd_mod', 'sr_mod', 'nvme', 'crc32c_generic', 'ext4'],
};

const USER_NAME = /^[a-z_][a-z0-9_-]*\$?$/;
const NODE_ARCH: Readonly<Record<ImageArch, string>> = { x86_64: 'x64', aarch64: 'arm64' };

export async function composeTree(opts: ComposeTreeOptions): Promise<ComposeTreeResult> {
  const target = resolve(opts.treeDir);
  const osRelease = renderOsRelease({ ...opts.osRelease, version: opts.version });
  if (!/^[A-Za-z0-9._-]+$/.test(opts.osName)) throw new InvalidArgument(`osName: ${JSON.stringify(opts.osName)} is not a stateroot name (letters, digits, ".", "_", "-")`);
  if (opts.version.trim() === '' || /\s/.test(opts.version)) throw new InvalidArgument(`version: ${JSON.stringify(opts.version)} must be non-empty without spaces`);
  const users = opts.users ?? [];
  users.forEach((u, i) => {
    if (!USER_NAME.test(u.name) || u.name.length > 32) throw new InvalidArgument(`users[${i}].name: ${JSON.stringify(u.name)} is not a valid user name`);
    if (u.shell !== undefined && !u.shell.startsWith('/')) throw new InvalidArgument(`users[${i}].shell: expected an absolute path`);
    u.sshAuthorizedKeys?.forEach((k, j) => {
      if (/[\n\r]/.test(k) || k.trim() === '') throw new InvalidArgument(`users[${i}].sshAuthorizedKeys[${j}]: one key per entry, on one line`);
    });
    if (u.passwordHash !== undefined && /[:\n]/.test(u.passwordHash)) throw new InvalidArgument(`users[${i}].passwordHash: must not contain ":" or a newline`);
  });
  const files = (opts.files ?? []).map((f, i) => ({ ...f, path: checkTreeFilePath(f.path, `files[${i}].path`) }));
  const progress = (s: string): void => opts.onProgress?.(s);
  const signalCheck = (): void => {
    if (opts.signal?.aborted === true) throw new Cancelled('compose the tree: cancelled', { subject: target, cause: opts.signal.reason });
  };

  // The agent's binaries come from the build host: an x86_64 node in an aarch64 image would only
  // fail at boot. Checked before anything is unpacked.
  const projectRoot = resolve(opts.agent.projectRoot);
  for (const [field, path] of [
    ['agent.nodeBinary', resolve(opts.agent.nodeBinary)],
    ['agent.projectRoot (native/build/Release/atomic_ostree.node)', join(projectRoot, 'native', 'build', 'Release', 'atomic_ostree.node')],
    ['agent.projectRoot (native/monitor/atomic-monitor)', join(projectRoot, 'native', 'monitor', 'atomic-monitor')],
  ] as const) {
    const machine = await elfMachineOf(path, field);
    if (machine !== undefined && machine !== opts.arch) throw new InvalidArgument(`${field}: ${path} is ${machine}, the image is ${opts.arch}`, { subject: path });
  }
  await mkdir(dirname(target), { recursive: true }).catch((e: unknown) => {
    throw fromSystemError(e, dirname(target), 'creating the parent of the tree directory');
  });
  const work = await mkdtemp(join(dirname(target), `.${basename(target)}.tmp-`));
  try {
    progress('unpack the root file system');
    await runLogged('tar', ['--numeric-owner', '--xattrs', '--xattrs-include=*', '-xpf', resolve(opts.rootfsTarball), '-C', work, '--exclude=./dev/*'], {
      signal: opts.signal,
      doing: 'unpacking the root file system',
      subject: opts.rootfsTarball,
    });
    progress('check the architecture');
    await checkArch(work, opts.arch);
    signalCheck();

    progress('kernel');
    const kernelVersion = await moveKernel(work);

    progress('system configuration');
    await writeTreeFile(work, 'usr/lib/os-release', osRelease, 0o644);
    await replaceWithSymlink(work, 'etc/os-release', '../usr/lib/os-release');
    // First boot: systemd makes the machine ID (an empty file, not a missing one, keeps /etc
    // writable-or-not questions out: systemd mounts the new ID over it and commits it), the
    // hostname comes from provisioning or DHCP, SSH host keys from atomic-ssh-keygen.service.
    // The console login banner names the image (agetty expands \\S{PRETTY_NAME} from os-release), not Debian.
    await writeTreeFile(work, 'etc/issue', '\\S{PRETTY_NAME} \\n \\l\n\n', 0o644);
    await writeTreeFile(work, 'etc/machine-id', '', 0o444);
    await rm(join(work, 'etc', 'hostname'), { force: true });
    await replaceWithSymlink(work, 'etc/resolv.conf', '../run/systemd/resolve/stub-resolv.conf');
    for (const n of await readdir(join(work, 'etc', 'ssh')).catch(() => [] as string[])) {
      if (n.startsWith('ssh_host_')) await rm(join(work, 'etc', 'ssh', n), { force: true });
    }
    for (const f of osUnits({ agentDir: AGENT_DIR, rootLabel: ROOT_FS_LABEL })) await writeTreeFile(work, f.path, f.content, f.mode);
    await writeTreeFile(work, TMPFILES_CONF_PATH, renderTmpfilesConf(users.map((u) => u.name)), 0o644);

    progress('install the agent');
    await installAgent(work, opts.agent);
    signalCheck();

    if (users.length > 0) progress('users');
    for (const [i, u] of users.entries()) await addUser(work, u, i, opts.signal);
    for (const f of files) await writeTreeFile(work, f.path.slice(1), f.content, f.mode ?? 0o644);

    progress('enable units');
    await runLogged('systemctl', [`--root=${work}`, 'enable', ...ENABLED_UNITS], { signal: opts.signal, doing: 'systemctl enable', debianPackage: 'systemd' });
    await runLogged('systemctl', [`--root=${work}`, 'mask', ...MASKED_UNITS], { signal: opts.signal, doing: 'systemctl mask', debianPackage: 'systemd' });
    await runLogged('systemctl', [`--root=${work}`, 'set-default', 'multi-user.target'], { signal: opts.signal, doing: 'systemctl set-default', debianPackage: 'systemd' });

    if (NODE_ARCH[opts.arch] === process.arch) {
      progress('check the agent runs in the tree');
      await runLogged('chroot', [work, '/usr/bin/atomic', '--version'], { signal: opts.signal, doing: 'atomic --version inside the tree (chroot)' });
      await runLogged('chroot', [work, '/usr/bin/atomicd', '--help'], { signal: opts.signal, doing: 'atomicd --help inside the tree (chroot)' });
    } else progress(`skip running the agent: the tree is ${opts.arch}, this machine ${process.arch}`);

    progress('initramfs');
    const initramfs = await buildInitramfs({
      treeDir: work,
      kernelVersion,
      modules: opts.initramfsModules ?? DEFAULT_INITRAMFS_MODULES[opts.arch],
      out: join(work, 'usr', 'lib', 'modules', kernelVersion, 'initramfs.img'),
    });
    signalCheck();

    progress('ostree layout');
    await applyOstreeLayout(work);

    progress('move into place');
    if (await exists(target)) {
      const old = `${work}.old`;
      await rename(target, old);
      await rename(work, target);
      await removeTree(old);
    } else await rename(work, target);
    return { treeDir: target, kernelVersion, initramfsSizeBytes: initramfs.sizeBytes, initramfsModules: initramfs.modules };
  } catch (e) {
    await removeTree(work).catch(() => undefined);
    throw e;
  }
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

async function readHeader(path: string, doing: string): Promise<Buffer> {
  const header = Buffer.alloc(64);
  try {
    const h = await open(path, 'r');
    try {
      await h.read(header, 0, 64, 0);
    } finally {
      await h.close();
    }
  } catch (e) {
    throw fromSystemError(e, path, doing);
  }
  return header;
}

/** The ELF machine of a file; undefined when it is missing (installAgent names what is missing). */
async function elfMachineOf(path: string, field: string): Promise<string | undefined> {
  if (!(await exists(path))) return undefined;
  return elfIdentity(await readHeader(path, `reading ${field}`), path).machine;
}

/** The ELF machine of /usr/bin/env must be the requested architecture (see elf-machine.ts). */
async function checkArch(work: string, arch: ImageArch): Promise<void> {
  const path = join(work, 'usr', 'bin', 'env');
  const header = await readHeader(path, 'reading /usr/bin/env of the tree to check its architecture');
  const { machine } = elfIdentity(header, '/usr/bin/env');
  if (machine !== arch) {
    throw new InvalidArgument(`the root file system is ${machine} but the image was asked to be ${arch}: refusing to build an image of the wrong architecture`, { subject: '/usr/bin/env' });
  }
}

/** /boot/vmlinuz-KVER -> /usr/lib/modules/KVER/vmlinuz; the rest of /boot goes. */
async function moveKernel(work: string): Promise<string> {
  const modules = join(work, 'usr', 'lib', 'modules');
  const versions = (await readdir(modules).catch(() => [] as string[])).filter((v) => !v.startsWith('.'));
  if (versions.length !== 1) {
    throw new FailedPrecondition(`expected exactly one kernel in /usr/lib/modules, found ${versions.length === 0 ? 'none (add a linux-image package)' : versions.join(', ')}`, { subject: modules });
  }
  const kver = versions[0]!;
  const dest = join(modules, kver, 'vmlinuz');
  if (!(await exists(dest))) {
    const src = join(work, 'boot', `vmlinuz-${kver}`);
    if (!(await exists(src))) throw new FailedPrecondition(`no kernel image for ${kver} (/boot/vmlinuz-${kver})`, { subject: src });
    await rename(src, dest);
  }
  await rm(join(work, 'boot'), { recursive: true, force: true });
  await mkdir(join(work, 'boot'), { mode: 0o755 });
  // The kernel package's convenience links at / point into the /boot just emptied.
  for (const link of ['vmlinuz', 'vmlinuz.old', 'initrd.img', 'initrd.img.old']) {
    if ((await lstat(join(work, link)).catch(() => undefined))?.isSymbolicLink() === true) await rm(join(work, link));
  }
  return kver;
}

async function writeTreeFile(work: string, rel: string, content: string, mode: number): Promise<void> {
  const path = join(work, rel);
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    // A symlink at the path (e.g. a package's /etc/foo -> elsewhere) is replaced, not followed out of the tree.
    if ((await lstat(path).catch(() => undefined))?.isSymbolicLink() === true) await rm(path);
    await writeFile(path, content, { mode });
    await chmod(path, mode);
  } catch (e) {
    throw fromSystemError(e, `/${rel}`, 'writing a file into the tree');
  }
}

async function replaceWithSymlink(work: string, rel: string, targetPath: string): Promise<void> {
  const path = join(work, rel);
  if ((await readlink(path).catch(() => undefined)) === targetPath) return;
  await rm(path, { force: true });
  await symlink(targetPath, path);
}

async function installAgent(work: string, agent: ComposeTreeOptions['agent']): Promise<void> {
  const root = resolve(agent.projectRoot);
  const dest = join(work, AGENT_DIR.slice(1));
  const need = async (rel: string, hint: string): Promise<string> => {
    const p = join(root, rel);
    if (!(await exists(p))) throw new FailedPrecondition(`the agent cannot be installed: ${rel} is missing in ${root} (${hint})`, { subject: p });
    return p;
  };
  const sources = {
    dist: await need('dist/src', 'npm run build'),
    // package.json "imports" (#yaml, ...) point here: the start-up bundles of third-party code.
    vendor: await need('dist/vendor', 'npm run build'),
    // /usr/bin/atomic and atomicd run these: the bundles with their code caches.
    bin: await need('dist/bin', 'npm run build'),
    bundle: await need('dist/bundle', 'npm run build'),
    pkg: await need('package.json', 'not an atomic checkout?'),
    lock: await need('package-lock.json', 'not an atomic checkout?'),
    nativeIndex: await need('native/index.cjs', 'not an atomic checkout?'),
    addon: await need('native/build/Release/atomic_ostree.node', 'npm run build:native'),
    monitor: await need('native/monitor/atomic-monitor', 'npm run build:monitor'),
  };
  const node = resolve(agent.nodeBinary);
  try {
    await mkdir(join(dest, 'native', 'build', 'Release'), { recursive: true });
    await mkdir(join(dest, 'native', 'monitor'), { recursive: true });
    await cp(node, join(dest, 'node'), { dereference: true });
    await chmod(join(dest, 'node'), 0o755);
    await cp(sources.dist, join(dest, 'dist', 'src'), { recursive: true, dereference: true });
    await cp(sources.vendor, join(dest, 'dist', 'vendor'), { recursive: true, dereference: true });
    await cp(sources.bin, join(dest, 'dist', 'bin'), { recursive: true, dereference: true });
    await cp(sources.bundle, join(dest, 'dist', 'bundle'), { recursive: true, dereference: true });
    await cp(sources.pkg, join(dest, 'package.json'));
    await cp(sources.nativeIndex, join(dest, 'native', 'index.cjs'));
    await cp(sources.addon, join(dest, 'native', 'build', 'Release', 'atomic_ostree.node'));
    await cp(sources.monitor, join(dest, 'native', 'monitor', 'atomic-monitor'));
    await chmod(join(dest, 'native', 'monitor', 'atomic-monitor'), 0o755);
    // Top-level packages carry their nested node_modules with them.
    for (const p of productionPackages(await readFile(sources.lock, 'utf8'), sources.lock)) {
      if (p.path.split('node_modules/').length !== 2) continue;
      const src = join(root, p.path);
      if (!(await stat(src).catch(() => undefined))?.isDirectory()) throw new FailedPrecondition(`${p.path} is in package-lock.json but not installed (npm ci)`, { subject: src });
      await cp(src, join(dest, p.path), { recursive: true, dereference: true });
    }
  } catch (e) {
    throw fromSystemError(e, dest, 'installing the agent into the tree');
  }
}

async function addUser(work: string, u: TreeUser, i: number, signal: AbortSignal | undefined): Promise<void> {
  const args = ['--root', work, '--no-create-home', '--home-dir', `/home/${u.name}`, '--user-group', '--shell', u.shell ?? '/bin/bash'];
  if (u.groups !== undefined && u.groups.length > 0) {
    const group = await readFile(join(work, 'etc', 'group'), 'utf8');
    const known = new Set(group.split('\n').map((l) => l.split(':')[0]));
    const missing = u.groups.filter((g) => !known.has(g));
    if (missing.length > 0) throw new InvalidArgument(`users[${i}].groups: no such group in the image: ${missing.join(', ')}`);
    args.push('--groups', u.groups.join(','));
  }
  await runLogged('useradd', [...args, u.name], { signal, doing: `useradd ${u.name}`, debianPackage: 'passwd', subject: `users[${i}]` });
  if (u.passwordHash !== undefined) await runLogged('usermod', ['--root', work, '--password', u.passwordHash, u.name], { signal, doing: `usermod --password ${u.name}`, debianPackage: 'passwd', subject: `users[${i}]` });
  if (u.sshAuthorizedKeys !== undefined && u.sshAuthorizedKeys.length > 0) {
    // In /etc (sshd_config.d/50-atomic.conf names it): /home is in /var, which an image does not ship.
    await writeTreeFile(work, `etc/ssh/authorized_keys.d/${u.name}`, u.sshAuthorizedKeys.join('\n') + '\n', 0o644);
  }
}

/** Non-directory entries under `dir` (recursively), except top-level names in `allowed`. */
async function filesUnder(dir: string, allowed: readonly string[], prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (prefix === '' && allowed.includes(e.name)) continue;
    if (e.isDirectory()) out.push(...(await filesUnder(join(dir, e.name), allowed, `${prefix}${e.name}/`)));
    else out.push(`${prefix}${e.name}`);
  }
  return out;
}

/** src/core/image/ostree-layout.ts, applied. */
async function applyOstreeLayout(work: string): Promise<void> {
  // dpkg's database to /usr (why: ostree-layout.ts DPKG_DATABASE).
  const dpkgFrom = join(work, DPKG_DATABASE.from);
  const dpkgTo = join(work, DPKG_DATABASE.to);
  if (await exists(dpkgFrom)) {
    await mkdir(dirname(dpkgTo), { recursive: true, mode: 0o755 });
    await rename(dpkgFrom, dpkgTo);
  }
  for (const [name, mode] of EMPTY_TOPLEVEL_DIRS) {
    const p = join(work, name);
    const st = await lstat(p).catch(() => undefined);
    if (st !== undefined && !st.isDirectory()) await rm(p, { force: true });
    if (st?.isDirectory() === true && name !== 'boot') for (const n of await readdir(p)) await rm(join(p, n), { recursive: true, force: true });
    await mkdir(p, { recursive: true, mode });
    await chmod(p, mode);
  }
  for (const [name, linkTarget] of TOPLEVEL_SYMLINKS) {
    const p = join(work, name);
    const st = await lstat(p).catch(() => undefined);
    if (st?.isDirectory() === true) {
      // /root holds the skeleton dotfiles base-files puts there (and openssh an empty .ssh);
      // any other file was put there by a package and would silently vanish behind the symlink.
      const lost = await filesUnder(p, name === 'root' ? ['.bashrc', '.profile'] : []);
      if (lost.length > 0) throw new FailedPrecondition(`/${name} is not empty (${lost.slice(0, 5).join(', ')}): it becomes a symlink to /${linkTarget}, which an image does not ship; install into /usr instead`, { subject: `/${name}` });
      await rm(p, { recursive: true, force: true });
    } else if (st !== undefined) await rm(p, { force: true });
    await symlink(linkTarget, p);
  }
  const etc = join(work, 'etc');
  const usrEtc = join(work, 'usr', 'etc');
  if (await exists(usrEtc)) throw new FailedPrecondition('the tree has both /etc and /usr/etc', { subject: '/usr/etc' });
  await rename(etc, usrEtc);
}
