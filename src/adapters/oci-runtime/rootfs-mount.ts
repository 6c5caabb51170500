// A container's root filesystem: an overlayfs of the image's layer directories (read-only lower
// dirs, top layer first) under a per-container upper dir (the container's writes) and work dir
// (Documentation/filesystems/overlayfs.rst). A container may also run straight from a plain
// directory (root.path = that directory), which needs no mount at all.
import { mkdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { FailedPrecondition, InvalidArgument, OutOfRange } from '../../lib/errors.js';
import { runTool } from '../process/run-tool.js';

export interface OverlayRootfs {
  /** Layer directories, top (newest) first, as overlayfs's lowerdir= wants them. */
  readonly lowerDirs: readonly string[];
  readonly upperDir: string;
  /** Must be on the same filesystem as upperDir, and empty. */
  readonly workDir: string;
  /** The mount point (the bundle's rootfs directory). */
  readonly target: string;
}

/** mount(2) data is limited to one page; longer option strings are refused by the kernel. */
export const MAX_MOUNT_DATA_BYTES = 4095;

/** overlayfs splits lowerdir on ':' and options on ','; a backslash escapes either (fs/overlayfs/params.c). */
function escapeOverlayPath(p: string): string {
  return p.replace(/([\\:,])/g, '\\$1');
}

export function overlayMountOptions(o: Omit<OverlayRootfs, 'target'>): string {
  if (o.lowerDirs.length === 0) throw new InvalidArgument('an overlay root filesystem needs at least one lower directory');
  const lower = o.lowerDirs.map((d) => escapeOverlayPath(resolve(d))).join(':');
  // index=off, as containerd's overlay snapshotter passes: with the inodes index on (kernels built
  // with OVERLAY_FS_INDEX), overlayfs records which lower layers an upper belongs to and refuses
  // later mounts that combine the same directories differently.
  const opts = `lowerdir=${lower},upperdir=${escapeOverlayPath(resolve(o.upperDir))},workdir=${escapeOverlayPath(resolve(o.workDir))},index=off`;
  if (Buffer.byteLength(opts) > MAX_MOUNT_DATA_BYTES) {
    throw new OutOfRange(`overlay mount options are ${Buffer.byteLength(opts)} bytes; the kernel takes at most ${MAX_MOUNT_DATA_BYTES} (too many or too long layer paths)`);
  }
  return opts;
}

/** Mount the overlay at `o.target` (creating upper, work and target dirs). */
export async function mountOverlayRootfs(o: OverlayRootfs, signal?: AbortSignal): Promise<void> {
  const opts = overlayMountOptions(o);
  const [mounted] = await Promise.all([isMountPoint(o.target), ...[o.upperDir, o.workDir, o.target].map((d) => mkdir(d, { recursive: true, mode: 0o755 }))]);
  if (mounted) throw new FailedPrecondition(`${o.target} is already a mount point`, { subject: o.target });
  await runTool('mount', ['-t', 'overlay', 'overlay', '-o', opts, o.target], { signal, debianPackage: 'mount' });
}

/** Unmount a root filesystem mounted by mountOverlayRootfs; nothing to do when it is not mounted. */
export async function unmountRootfs(target: string, signal?: AbortSignal): Promise<void> {
  if (!(await isMountPoint(target))) return;
  await runTool('umount', [target], { signal, debianPackage: 'mount' });
}

/** mountinfo escapes space, tab, newline and backslash as \ooo (proc(5)). */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

export async function isMountPoint(path: string): Promise<boolean> {
  const want = resolve(path);
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text.split('\n').some((line) => unescape(line.split(' ')[4] ?? '') === want);
}
