// The mounts of a container's config.json: the kernel filesystems every container gets (Docker's
// default set, moby oci/defaults.go), the generated /etc files, and the user's --volume (Binds),
// --mount (Mounts) and --tmpfs (Tmpfs), with Docker's parsing and defaults.
import { InvalidArgument } from '../../lib/errors.js';
import type { HostConfig, MountSpec, Propagation } from './container-spec.js';
import type { OciMount } from './oci-spec.js';

/** Docker's default /dev/shm size (64 MiB, HostConfig.ShmSize = 0). */
export const DEFAULT_SHM_SIZE_BYTES = 64 * 1024 * 1024;

const PROPAGATIONS: readonly Propagation[] = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];

export interface KernelMountOptions {
  readonly privileged: boolean;
  readonly shmSizeBytes: number;
  /**
   * The container shares the host's network namespace: sysfs cannot be mounted there (the kernel
   * ties a sysfs mount to the mounter's network namespace), so /sys is a read-only bind of the host's.
   */
  readonly hostNetwork: boolean;
}

export function kernelMounts(o: KernelMountOptions): OciMount[] {
  // --privileged: /sys and /sys/fs/cgroup writable, like Docker.
  const ro = o.privileged ? [] : ['ro'];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    // strictatime: tmpfs on /dev holds device nodes; mode and size as Docker's.
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    // A private devpts instance (newinstance); gid 5 is "tty" in Debian/Alpine/busybox images.
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    o.hostNetwork
      ? { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ...ro] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', ...ro] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${Math.floor(o.shmSizeBytes / 1024)}k`] },
  ];
}

export interface EtcFiles {
  /** Host paths of the generated files (in the container's directory). */
  readonly hosts?: string;
  readonly hostname?: string;
  readonly resolvConf?: string;
}

/** Docker: the generated files are writable unless the root filesystem is read-only. */
export function etcFileMounts(files: EtcFiles, readonlyRootfs: boolean): OciMount[] {
  const opts = ['rbind', 'rprivate', ...(readonlyRootfs ? ['ro'] : [])];
  const out: OciMount[] = [];
  if (files.resolvConf !== undefined) out.push({ destination: '/etc/resolv.conf', type: 'bind', source: files.resolvConf, options: [...opts] });
  if (files.hostname !== undefined) out.push({ destination: '/etc/hostname', type: 'bind', source: files.hostname, options: [...opts] });
  if (files.hosts !== undefined) out.push({ destination: '/etc/hosts', type: 'bind', source: files.hosts, options: [...opts] });
  return out;
}

const isAbsolute = (p: string): boolean => p.startsWith('/');

function cleanPath(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return `/${parts.join('/')}`;
}

export type VolumeResolver = (name: string) => string;

function volumeSource(source: string, resolveVolume: VolumeResolver | undefined, what: string): string {
  if (isAbsolute(source)) return source;
  if (resolveVolume === undefined) throw new InvalidArgument(`${what}: named volume "${source}": named volumes are not supported yet`, { subject: source });
  return resolveVolume(source);
}

/**
 * One --volume / Binds entry: "SRC:DEST[:OPTS]" with OPTS from ro|rw, z|Z (SELinux relabel: no-op
 * without SELinux), nocopy, and a propagation mode. Binds are recursive (rbind) and rprivate by
 * default, like Docker's.
 */
export function parseBind(bind: string, resolveVolume?: VolumeResolver): OciMount {
  const parts = bind.split(':');
  if (parts.length < 2 || parts.length > 3) throw new InvalidArgument(`invalid volume specification: '${bind}'`, { subject: bind });
  const [src = '', dest = '', modes = ''] = parts;
  if (src === '' || dest === '') throw new InvalidArgument(`invalid volume specification: '${bind}'`, { subject: bind });
  if (!isAbsolute(dest)) throw new InvalidArgument(`invalid mount config: invalid mount path: '${dest}' mount path must be absolute`, { subject: bind });
  let readonly = false;
  let propagation: Propagation = 'rprivate';
  for (const m of modes === '' ? [] : modes.split(',')) {
    if (m === 'ro') readonly = true;
    else if (m === 'rw') readonly = false;
    else if (m === 'z' || m === 'Z' || m === 'nocopy') continue;
    else if ((PROPAGATIONS as readonly string[]).includes(m)) propagation = m as Propagation;
    else throw new InvalidArgument(`invalid mode: ${m}`, { subject: bind });
  }
  const source = volumeSource(src, resolveVolume, 'volume');
  return { destination: cleanPath(dest), type: 'bind', source, options: ['rbind', propagation, ...(readonly ? ['ro'] : [])] };
}

/** Default options of --tmpfs (Docker: noexec,nosuid,nodev unless the user says otherwise). */
const TMPFS_DEFAULTS = ['nosuid', 'nodev', 'noexec'];

/** One --tmpfs entry: DEST -> "opt,opt" (mount(8) tmpfs options: size=, mode=, exec, ...). */
export function tmpfsMount(dest: string, options: string): OciMount {
  if (!isAbsolute(dest)) throw new InvalidArgument(`invalid tmpfs mount path: '${dest}' must be absolute`, { subject: dest });
  const user = options.split(',').map((o) => o.trim()).filter((o) => o !== '');
  // A later option wins in mount(2) ("exec" after "noexec"), so user options go last.
  return { destination: cleanPath(dest), type: 'tmpfs', source: 'tmpfs', options: [...TMPFS_DEFAULTS, ...user] };
}

/** One --mount entry (Engine API Mount). */
export function mountSpecMount(m: MountSpec, resolveVolume?: VolumeResolver): OciMount {
  if (!isAbsolute(m.Target)) throw new InvalidArgument(`invalid mount config: mount path '${m.Target}' must be absolute`, { subject: m.Target });
  const dest = cleanPath(m.Target);
  switch (m.Type) {
    case 'bind': {
      if (m.Source === undefined || !isAbsolute(m.Source)) throw new InvalidArgument(`invalid mount config for type "bind": source must be an absolute path`, { subject: m.Target });
      const prop = m.BindOptions?.Propagation ?? 'rprivate';
      return { destination: dest, type: 'bind', source: m.Source, options: ['rbind', prop, ...(m.ReadOnly === true ? ['ro'] : [])] };
    }
    case 'volume': {
      if (m.Source === undefined || m.Source === '') throw new InvalidArgument('anonymous volumes are not supported yet', { subject: m.Target });
      const source = volumeSource(m.Source, resolveVolume, 'mount');
      return { destination: dest, type: 'bind', source, options: ['rbind', 'rprivate', ...(m.ReadOnly === true ? ['ro'] : [])] };
    }
    case 'tmpfs': {
      const opts: string[] = [];
      if (m.TmpfsOptions?.SizeBytes !== undefined && m.TmpfsOptions.SizeBytes > 0) opts.push(`size=${Math.floor(m.TmpfsOptions.SizeBytes / 1024)}k`);
      if (m.TmpfsOptions?.Mode !== undefined) opts.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
      if (m.ReadOnly === true) opts.push('ro');
      return tmpfsMount(dest, opts.join(','));
    }
    default:
      throw new InvalidArgument(`invalid mount config: mount type unknown: "${String((m as { Type: unknown }).Type)}"`, { subject: m.Target });
  }
}

/** The user's mounts (Binds, Mounts, Tmpfs); two at the same destination are an error, like Docker's "Duplicate mount point". */
export function userMounts(hc: HostConfig, resolveVolume?: VolumeResolver): OciMount[] {
  const out: OciMount[] = [
    ...(hc.Binds ?? []).map((b) => parseBind(b, resolveVolume)),
    ...(hc.Mounts ?? []).map((m) => mountSpecMount(m, resolveVolume)),
    ...Object.entries(hc.Tmpfs ?? {}).map(([d, o]) => tmpfsMount(d, o)),
  ];
  const seen = new Set<string>();
  for (const m of out) {
    if (seen.has(m.destination)) throw new InvalidArgument(`Duplicate mount point: ${m.destination}`, { subject: m.destination });
    seen.add(m.destination);
  }
  return out;
}

/**
 * All mounts in the order the runtime must apply them: a user mount replaces a default mount at
 * the same destination (--tmpfs /dev/shm, -v /host/hosts:/etc/hosts), and a parent comes before
 * what is mounted inside it (Docker sorts by path depth, volumes/mounts.go sortMounts).
 */
export function mergeMounts(defaults: readonly OciMount[], user: readonly OciMount[]): OciMount[] {
  const taken = new Set(user.map((m) => m.destination));
  const base = defaults.filter((m) => !taken.has(m.destination));
  const depth = (p: string): number => (p === '/' ? 0 : p.split('/').length - 1);
  // Defaults keep their own order (/dev before /dev/pts); user mounts follow, sorted by depth
  // (stable), unless one of them must come before a default (a user mount at /dev).
  const sortedUser = [...user].sort((a, b) => depth(a.destination) - depth(b.destination));
  const out: OciMount[] = [];
  for (const d of base) {
    // A user mount that is a parent of this default goes first.
    for (const u of sortedUser) if (!out.includes(u) && d.destination.startsWith(`${u.destination}/`)) out.push(u);
    out.push(d);
  }
  for (const u of sortedUser) if (!out.includes(u)) out.push(u);
  return out;
}
