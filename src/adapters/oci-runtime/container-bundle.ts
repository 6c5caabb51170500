// Lay out a container's OCI bundle (runtime-spec bundle.md: a directory with config.json and the
// root filesystem) in its state directory:
//
//   <containerDir>/bundle/config.json
//   <containerDir>/bundle/rootfs        overlay mount point (image layers + upper)
//   <containerDir>/upper, work          the overlay's writable layer
//   <containerDir>/hosts, hostname, resolv.conf   bind-mounted over the image's
//
// and take it down again. The image's /etc/passwd and /etc/group are read through the mounted
// root with symlinks resolved inside it, so an image cannot make us read the host's files.
import { lstat, mkdir, readFile, readlink } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import type { ContainerSpec } from '../../core/containers/container-spec.js';
import { renderHostname, renderHosts, renderResolvConf } from '../../core/containers/etc-files.js';
import { ociSpecJson, type OciSpec } from '../../core/containers/oci-spec.js';
import { ociRuntimeSpec, type NetworkNamespace } from '../../core/containers/oci-runtime-spec.js';
import { writeFileAtomically } from '../../lib/atomic-file.js';
import { InvalidArgument } from '../../lib/errors.js';
import type { HostFacts } from './host-facts.js';
import { mountOverlayRootfs, unmountRootfs } from './rootfs-mount.js';

export type RootfsSource =
  /** Image layer directories, top first. */
  | { readonly kind: 'overlay'; readonly lowerDirs: readonly string[] }
  /** A plain directory used as is (writes go straight into it). */
  | { readonly kind: 'directory'; readonly path: string };

export interface PrepareBundleOptions {
  /** Absolute; created if missing. */
  readonly containerDir: string;
  readonly spec: ContainerSpec;
  readonly rootfs: RootfsSource;
  readonly host: HostFacts;
  /** linux.cgroupsPath, absolute (e.g. /atomic/<id>). */
  readonly cgroupsPath: string;
  readonly network?: NetworkNamespace;
  /** The container's own addresses for /etc/hosts. */
  readonly addresses?: readonly string[];
  /** Named volume -> host directory (the engine created the volumes before). */
  readonly resolveVolume?: (name: string) => string;
  readonly signal?: AbortSignal;
}

export interface PreparedBundle {
  readonly bundle: string;
  readonly config: OciSpec;
  /** The root filesystem the container sees (mount point or the plain directory). */
  readonly rootfsPath: string;
}

export function bundleDir(containerDir: string): string {
  return join(containerDir, 'bundle');
}

/** Resolve `path` inside `root` like a chroot would: absolute symlinks and ".." stay inside. */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  let parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  for (let hops = 0; parts.length > 0; ) {
    const part = parts.shift() as string;
    if (part === '..') {
      done.pop();
      continue;
    }
    const here = join(root, ...done, part);
    const st = await lstat(here).catch(() => undefined);
    if (st?.isSymbolicLink() === true) {
      if (++hops > 40) throw new InvalidArgument(`${path}: too many levels of symbolic links in the image`, { subject: path });
      const target = await readlink(here);
      if (target.startsWith('/')) done.length = 0;
      parts = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...parts];
      continue;
    }
    done.push(part);
  }
  return join(root, ...done);
}

async function readImageFile(root: string, path: string): Promise<string | undefined> {
  const p = await resolveInRoot(root, path);
  const st = await lstat(p).catch(() => undefined);
  // A regular file only: a FIFO or device would block or read the host.
  if (st === undefined || !st.isFile() || st.size > 16 * 1024 * 1024) return undefined;
  return readFile(p, 'utf8');
}

export async function prepareBundle(o: PrepareBundleOptions): Promise<PreparedBundle> {
  const containerDir = resolve(o.containerDir);
  const bundle = bundleDir(containerDir);
  await mkdir(bundle, { recursive: true, mode: 0o711 });
  let rootfsPath: string;
  let mounted = false;
  if (o.rootfs.kind === 'overlay') {
    rootfsPath = join(bundle, 'rootfs');
    await mountOverlayRootfs({ lowerDirs: o.rootfs.lowerDirs, upperDir: join(containerDir, 'upper'), workDir: join(containerDir, 'work'), target: rootfsPath }, o.signal);
    mounted = true;
  } else {
    rootfsPath = resolve(o.rootfs.path);
  }
  try {
    const etc = { hosts: join(containerDir, 'hosts'), hostname: join(containerDir, 'hostname'), resolvConf: join(containerDir, 'resolv.conf') };
    const hc = o.spec.hostConfig;
    const network = o.network ?? (hc.NetworkMode === 'host' ? { kind: 'host' as const } : { kind: 'none' as const });
    // Everything in the bundle is derived from the container's record and laid out again at every
    // start, so after a crash nothing here is needed: renamed into place (never seen half written)
    // but not fsynced, which would make each start wait for the disk several times.
    const derived = { durable: false };
    // The image's user database is read while the etc files are written: each is a few thread
    // pool round trips, and a start waits for all of them.
    const [passwd, group] = await Promise.all([
      readImageFile(rootfsPath, '/etc/passwd'),
      readImageFile(rootfsPath, '/etc/group'),
      writeFileAtomically(etc.hosts, renderHosts({ hostname: o.spec.hostname, domainname: o.spec.domainname, addresses: o.addresses ?? [], extraHosts: hc.ExtraHosts ?? [] }), derived),
      writeFileAtomically(etc.hostname, renderHostname(o.spec.hostname), derived),
      writeFileAtomically(
        etc.resolvConf,
        renderResolvConf(o.host.resolvConf, { dns: hc.Dns ?? [], dnsSearch: hc.DnsSearch ?? [], dnsOptions: hc.DnsOptions ?? [], hostNetwork: network.kind === 'host' }),
        derived,
      ),
    ]);
    const config = ociRuntimeSpec(o.spec, {
      rootfs: rootfsPath,
      cgroupsPath: o.cgroupsPath,
      cgroupMode: o.host.cgroupFeatures.mode,
      arch: o.host.arch,
      etcFiles: etc,
      userDatabase: { passwd, group },
      hardLimits: o.host.hardLimits,
      availableCapabilities: o.host.capabilities,
      network,
      ...(o.host.initPath !== undefined ? { initPath: o.host.initPath } : {}),
      ...(o.resolveVolume !== undefined ? { resolveVolume: o.resolveVolume } : {}),
    });
    // The working directory is created by the runtime if missing (runc and crun both do).
    await writeFileAtomically(join(bundle, 'config.json'), ociSpecJson(config), derived);
    return { bundle, config, rootfsPath };
  } catch (e) {
    if (mounted) await unmountRootfs(rootfsPath).catch(() => undefined);
    throw e;
  }
}

/** Unmount the bundle's root filesystem (after the runtime deleted the container). */
export async function releaseBundle(containerDir: string, signal?: AbortSignal): Promise<void> {
  await unmountRootfs(posix.join(bundleDir(resolve(containerDir)), 'rootfs'), signal);
}
