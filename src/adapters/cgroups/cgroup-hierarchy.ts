// Which cgroup hierarchies this host has, and where: cgroup v1 (one mount per controller under a
// tmpfs at /sys/fs/cgroup), "hybrid" (v1 controllers plus a cgroup2 mount at
// /sys/fs/cgroup/unified, systemd's transitional layout) or v2 (cgroup2 at /sys/fs/cgroup).
// Read from /proc/self/mountinfo (proc(5)) and statfs(2), never guessed from paths.
import { access, readFile, statfs } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { CgroupFeatures, CgroupMode } from '../../core/containers/resources.js';
import { fromSystemError } from '../../lib/errors.js';

/** statfs f_type values (include/uapi/linux/magic.h). */
export const CGROUP2_SUPER_MAGIC = 0x63677270;
export const TMPFS_MAGIC = 0x01021994;

export interface CgroupMount {
  readonly mountPoint: string;
  /** The mount's root inside the hierarchy ("/" unless this is a bind of a sub-cgroup). */
  readonly root: string;
  readonly version: 1 | 2;
  /** v1: the controllers of this hierarchy (cpu, cpuacct, memory, name=systemd, ...); v2: []. */
  readonly controllers: readonly string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The cgroup and cgroup2 mounts of a /proc/PID/mountinfo text. */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    // "36 35 0:31 / /sys/fs/cgroup/memory rw,relatime shared:15 - cgroup cgroup rw,memory"
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const fstype = right[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const root = unescape(left[3] ?? '/');
    const mountPoint = unescape(left[4] ?? '');
    if (fstype === 'cgroup2') {
      out.push({ mountPoint, root, version: 2, controllers: [] });
      continue;
    }
    const superOpts = (right[2] ?? '').split(',');
    const known = new Set(['rw', 'ro', 'noprefix', 'clone_children', 'xattr', 'cpuset_v2_mode', 'favordynmods']);
    const controllers = superOpts.filter((o) => !known.has(o) && !o.startsWith('release_agent='));
    out.push({ mountPoint, root, version: 1, controllers });
  }
  return out;
}

export interface CgroupHierarchy {
  readonly mode: CgroupMode;
  readonly mounts: readonly CgroupMount[];
  /** v1 controller -> mount point (first mount of each). */
  readonly v1: ReadonlyMap<string, CgroupMount>;
  /** The cgroup2 mount, in hybrid and v2 modes. */
  readonly v2: CgroupMount | undefined;
}

/** The hierarchy as this process sees it. */
export async function readCgroupHierarchy(mountinfoPath = '/proc/self/mountinfo', cgroupRoot = '/sys/fs/cgroup'): Promise<CgroupHierarchy> {
  let text: string;
  try {
    text = await readFile(mountinfoPath, 'utf8');
  } catch (e) {
    throw fromSystemError(e, mountinfoPath, 'reading the mount table');
  }
  const mounts = parseCgroupMounts(text);
  const v1 = new Map<string, CgroupMount>();
  for (const m of mounts) if (m.version === 1) for (const c of m.controllers) if (!v1.has(c)) v1.set(c, m);
  const v2 = mounts.find((m) => m.version === 2);
  return { mode: await detectCgroupMode(cgroupRoot), mounts, v1, v2 };
}

/**
 * v2 when /sys/fs/cgroup itself is cgroup2; hybrid when it is a tmpfs with a cgroup2 mount at
 * unified/ (systemd's layout); otherwise v1. This is the test runc and crun make too (statfs of
 * /sys/fs/cgroup and /sys/fs/cgroup/unified), so we agree with them on every host.
 */
export async function detectCgroupMode(cgroupRoot = '/sys/fs/cgroup'): Promise<CgroupMode> {
  const type = async (p: string): Promise<number | undefined> => {
    try {
      return (await statfs(p)).type;
    } catch {
      return undefined;
    }
  };
  const rootType = await type(cgroupRoot);
  if (rootType === CGROUP2_SUPER_MAGIC) return 'v2';
  if ((await type(join(cgroupRoot, 'unified'))) === CGROUP2_SUPER_MAGIC) return 'hybrid';
  return 'v1';
}

const exists = async (p: string): Promise<boolean> => {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
};

/** What the resource checks (core/containers/resources adaptResources) may rely on. */
export async function readCgroupFeatures(h: CgroupHierarchy): Promise<CgroupFeatures> {
  const cpuCount = Math.max(1, cpus().length);
  if (h.mode === 'v2' && h.v2 !== undefined) {
    const root = h.v2.mountPoint;
    const controllers = (await readFile(join(root, 'cgroup.controllers'), 'utf8').catch(() => '')).trim().split(/\s+/);
    const has = (c: string): boolean => controllers.includes(c);
    return {
      mode: 'v2',
      memoryLimit: has('memory'),
      // memory.swap.max exists in children of the root when swap accounting is on; the root has
      // none, so look at the kernel's switch: cgroup v2 swap accounting is always on unless
      // "swapaccount=0" (removed in Linux 6.1): assume on with the memory controller.
      swapLimit: has('memory'),
      cpuShares: has('cpu'),
      cpuCfs: has('cpu'),
      cpuset: has('cpuset'),
      pidsLimit: has('pids'),
      // io.weight needs the BFQ scheduler or the io.cost controller; io.bfq.weight BFQ.
      blkioWeight: has('io') && ((await exists(join(root, 'io.bfq.weight'))) || (await exists(join(root, 'io.weight')))),
      cpuCount,
    };
  }
  const dir = (c: string): string | undefined => h.v1.get(c)?.mountPoint;
  const has = async (c: string, file: string): Promise<boolean> => {
    const d = dir(c);
    return d !== undefined && (await exists(join(d, file)));
  };
  return {
    mode: h.mode,
    memoryLimit: await has('memory', 'memory.limit_in_bytes'),
    swapLimit: await has('memory', 'memory.memsw.limit_in_bytes'),
    cpuShares: await has('cpu', 'cpu.shares'),
    cpuCfs: await has('cpu', 'cpu.cfs_quota_us'),
    cpuset: await has('cpuset', 'cpuset.cpus'),
    // The root of the pids hierarchy has no pids.max, only children do: the mount is enough.
    pidsLimit: dir('pids') !== undefined,
    // blkio.weight went with CFQ (Linux 5.0); BFQ has blkio.bfq.weight.
    blkioWeight: (await has('blkio', 'blkio.weight')) || (await has('blkio', 'blkio.bfq.weight')),
    cpuCount,
  };
}
