// Step 1 of an image build: a Debian root file system from a package list, made by mmdebstrap,
// kept as a tarball in a cache keyed by everything that decides its content (suite, mirror,
// architecture, packages, our mmdebstrap options). The same inputs reuse the tarball without
// touching the network; a changed package list downloads only the .debs not yet in the apt
// archive cache (cacheDir/apt-archives, copied into the chroot's /var/cache/apt/archives and back).
//
// Cache layout:   CACHE/apt-archives/*.deb       every .deb any build downloaded
//                 CACHE/rootfs/KEY.tar           the root file system
//                 CACHE/rootfs/KEY.json          its inputs and installed packages (written last:
//                                                 a tarball without it is not a cache hit)
// The same inputs give the cached tarball even after the mirror moved on: a rebuild must be
// fast and repeatable; a new package version comes in with a changed input or a cleared cache.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidArgument, fromSystemError } from '../../lib/errors.js';
import { runLogged } from './run-logged.js';

export type BuildArch = 'x86_64' | 'aarch64';

export interface BootstrapOptions {
  readonly suite: 'bookworm';
  /** e.g. http://deb.debian.org/debian */
  readonly mirror: string;
  readonly arch: BuildArch;
  readonly packages: readonly string[];
  readonly cacheDir: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (line: string) => void;
}

export interface InstalledPackage {
  readonly name: string;
  readonly version: string;
}

export interface BootstrapResult {
  readonly tarball: string;
  readonly cached: boolean;
  readonly packages: readonly InstalledPackage[];
}

/** Bump when the mmdebstrap invocation changes what ends up in the tarball. */
const RECIPE_REVISION = 4;

const DEBIAN_ARCH: Readonly<Record<BuildArch, string>> = { x86_64: 'amd64', aarch64: 'arm64' };

/**
 * Documentation, manual pages, info and translations are left out by dpkg itself (they are the
 * bulk of a minimal system's /usr/share); copyright files stay (license obligations).
 */
export const DPKG_PATH_FILTERS: readonly string[] = [
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/locale/*',
  'path-include=/usr/share/locale/locale.alias',
  'path-exclude=/usr/share/lintian/*',
  'path-exclude=/usr/share/linda/*',
];

/** Packages every tree gets whatever the recipe says (see --hook-dir below). */
const ALWAYS: readonly string[] = ['usr-is-merged'];

const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9]+)?(=[A-Za-z0-9.+~:-]+)?$/;

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function bootstrapKey(opts: Pick<BootstrapOptions, 'suite' | 'mirror' | 'arch' | 'packages'>): { key: string; packages: string[] } {
  const packages = [...new Set([...ALWAYS, ...opts.packages])].sort();
  const inputs = { revision: RECIPE_REVISION, suite: opts.suite, mirror: opts.mirror.replace(/\/+$/, ''), arch: opts.arch, packages, filters: DPKG_PATH_FILTERS };
  return { key: createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 24), packages };
}

export async function bootstrapRootfs(opts: BootstrapOptions): Promise<BootstrapResult> {
  if (opts.suite !== 'bookworm') throw new InvalidArgument(`suite: only bookworm is supported, got ${JSON.stringify(opts.suite)}`);
  if (DEBIAN_ARCH[opts.arch] === undefined) throw new InvalidArgument(`arch: x86_64 or aarch64, got ${JSON.stringify(opts.arch)}`);
  if (!/^(https?|file):\/\/\S+$/.test(opts.mirror)) throw new InvalidArgument(`mirror: expected an http(s):// or file:// URL, got ${JSON.stringify(opts.mirror)}`);
  opts.packages.forEach((p, i) => {
    if (typeof p !== 'string' || !PACKAGE_NAME.test(p)) throw new InvalidArgument(`packages[${i}]: ${JSON.stringify(p)} is not a Debian package name`);
  });
  // mmdebstrap's sync-in/sync-out hooks split their arguments at whitespace.
  if (/\s/.test(resolve(opts.cacheDir))) throw new InvalidArgument(`cacheDir: ${JSON.stringify(opts.cacheDir)} must not contain whitespace`);
  const { key, packages } = bootstrapKey(opts);
  const cacheDir = resolve(opts.cacheDir);
  const rootfsDir = join(cacheDir, 'rootfs');
  const archives = join(cacheDir, 'apt-archives');
  const tarball = join(rootfsDir, `${key}.tar`);
  const manifest = join(rootfsDir, `${key}.json`);

  const hit = await readManifest(manifest);
  if (hit !== undefined && (await exists(tarball))) {
    opts.onProgress?.(`rootfs ${key}: cached (${tarball})`);
    return { tarball, cached: true, packages: hit };
  }

  try {
    await mkdir(join(archives, 'partial'), { recursive: true });
    await mkdir(rootfsDir, { recursive: true });
  } catch (e) {
    throw fromSystemError(e, cacheDir, 'creating the build cache');
  }
  // mmdebstrap's own temp root goes here (TMPDIR), so a cancelled or killed build's leftovers
  // are ours to remove, not strays in /tmp.
  const tmpRoot = join(rootfsDir, `.${key}.${process.pid}.tmp.d`);
  const tmpTar = join(rootfsDir, `.${key}.${process.pid}.tmp.tar`);
  const tmpList = join(rootfsDir, `.${key}.${process.pid}.tmp.packages`);
  const args = [
    // A private mount namespace: the proc/sys/dev mounts mmdebstrap makes in its temp root go
    // away with the namespace even when it is killed (cancelled builds left them mounted).
    '--mount',
    '--propagation',
    'private',
    'mmdebstrap',
    '--mode=root',
    '--variant=apt',
    `--architectures=${DEBIAN_ARCH[opts.arch]}`,
    `--include=${packages.join(',')}`,
    ...DPKG_PATH_FILTERS.map((f) => `--dpkgopt=${f}`),
    '--aptopt=Acquire::Retries "3"',
    // Keep the .debs of the essential set in the cache too (mmdebstrap deletes what it
    // downloaded for them unless told not to).
    '--skip=essential/unlink',
    // Merged /usr set up by mmdebstrap itself, with usr-is-merged: otherwise bookworm's
    // init-system-helpers (Essential) pulls in the usrmerge converter and with it perl (~50 MB).
    '--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr',
    // initramfs-tools comes with the kernel package (linux-image Depends on it) and would build a
    // 16 MB initrd nobody boots, for a minute under emulation: update-initramfs is diverted to a
    // no-op before the kernel is installed. The image carries our own initramfs (compose-tree.ts).
    `--essential-hook=chroot "$1" dpkg-divert --quiet --local --rename --divert /usr/sbin/update-initramfs.distrib --add /usr/sbin/update-initramfs && printf '#!/bin/sh\\n# atomic: images carry their own initramfs\\nexit 0\\n' > "$1/usr/sbin/update-initramfs" && chmod 755 "$1/usr/sbin/update-initramfs"`,
    // The .deb cache is copied in and out (mmdebstrap's sync-in/sync-out), never bind-mounted:
    // when a build fails, mmdebstrap removes its temp root with rm -rf, which would empty a
    // cache mounted inside it (seen here: two concurrent builds, one failed, the cache was gone).
    '--setup-hook=mkdir -p "$1/var/cache/apt/archives"',
    `--setup-hook=sync-in ${archives} /var/cache/apt/archives`,
    `--customize-hook=chroot "$1" dpkg-query -W -f='\${Package}\\t\${Version}\\n' > ${shellQuote(tmpList)}`,
    // Before mmdebstrap's cleanup, which empties the chroot's apt cache.
    `--customize-hook=sync-out /var/cache/apt/archives ${archives}`,
    opts.suite,
    tmpTar,
    opts.mirror,
  ];
  try {
    await mkdir(tmpRoot, { mode: 0o700 });
    await runLogged('unshare', args, { env: { TMPDIR: tmpRoot }, signal: opts.signal, onLine: opts.onProgress, debianPackage: 'mmdebstrap', doing: `mmdebstrap ${opts.suite} (${opts.arch})`, subject: opts.mirror });
    const installed = parsePackageList(await readFile(tmpList, 'utf8'));
    await rename(tmpTar, tarball);
    await writeFile(`${manifest}.tmp`, JSON.stringify({ key, suite: opts.suite, mirror: opts.mirror, arch: opts.arch, requested: packages, packages: installed, createdAt: new Date().toISOString() }, null, 2) + '\n');
    await rename(`${manifest}.tmp`, manifest);
    return { tarball, cached: false, packages: installed };
  } finally {
    // No mounts are left in it: they lived in unshare's private namespace.
    await rm(tmpRoot, { recursive: true, force: true });
    await rm(tmpTar, { force: true });
    await rm(tmpList, { force: true });
    await rm(`${manifest}.tmp`, { force: true });
  }
}

function parsePackageList(text: string): InstalledPackage[] {
  return text
    .split('\n')
    .filter((l) => l.includes('\t'))
    .map((l) => {
      const [name, version] = l.split('\t');
      return { name: name ?? '', version: version ?? '' };
    })
    .filter((p) => p.version !== ''); // dpkg-query -W lists known-but-not-installed ones without a version
}

async function readManifest(path: string): Promise<InstalledPackage[] | undefined> {
  try {
    const m = JSON.parse(await readFile(path, 'utf8')) as { packages?: InstalledPackage[] };
    return Array.isArray(m.packages) ? m.packages : undefined;
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
