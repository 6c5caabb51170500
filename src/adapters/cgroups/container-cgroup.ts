// Where a container's cgroup is, on each hierarchy: from the container's init pid
// (/proc/PID/cgroup, what the runtime really did) or from the config's linux.cgroupsPath (what we
// asked for). Also removal of a cgroup subtree the runtimes leave behind (runc and crun delete
// the container's own cgroup, not the parents they created for an absolute cgroupsPath).
import { readFile, readdir, rmdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { FailedPrecondition, InvalidArgument, NotFound, fromSystemError } from '../../lib/errors.js';
import type { CgroupHierarchy, CgroupMount } from './cgroup-hierarchy.js';

export interface ContainerCgroup {
  /** cgroup v2 directory (v2 hosts; on hybrid hosts the mostly empty unified hierarchy). */
  readonly v2Dir: string | undefined;
  /** v1 controller -> directory. */
  readonly v1Dirs: ReadonlyMap<string, string>;
  /** Which to read stats from: v1 controllers on v1/hybrid hosts, v2 on v2 hosts. */
  readonly mode: CgroupHierarchy['mode'];
}

function dirIn(mount: CgroupMount, path: string): string {
  // A mount whose root is a sub-cgroup (inside a container) shows paths relative to that root.
  const rel = mount.root === '/' ? path : posix.relative(mount.root, path);
  if (rel.startsWith('..')) throw new FailedPrecondition(`cgroup ${path} is outside the hierarchy mounted at ${mount.mountPoint}`, { subject: path });
  return join(mount.mountPoint, rel);
}

/** /proc/PID/cgroup lines "ID:controllers:path" (cgroups(7)). */
export function parseProcCgroup(text: string): { v1: Map<string, string>; v2: string | undefined } {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (m === null) continue;
    const [, id, controllers = '', path = ''] = m;
    if (id === '0' && controllers === '') v2 = path;
    else for (const c of controllers.split(',')) if (c !== '') v1.set(c, path);
  }
  return { v1, v2 };
}

/** The cgroup of a running process (the container's init). */
export async function cgroupOfPid(h: CgroupHierarchy, pid: number): Promise<ContainerCgroup> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/cgroup`, 'utf8');
  } catch (e) {
    throw fromSystemError(e, `pid ${pid}`, `reading the cgroup of process ${pid}`);
  }
  const parsed = parseProcCgroup(text);
  const v1Dirs = new Map<string, string>();
  for (const [c, path] of parsed.v1) {
    const mount = h.v1.get(c);
    if (mount !== undefined) v1Dirs.set(c, dirIn(mount, path));
  }
  const v2Dir = parsed.v2 !== undefined && h.v2 !== undefined ? dirIn(h.v2, parsed.v2) : undefined;
  return { v2Dir, v1Dirs, mode: h.mode };
}

/** The cgroup a config's absolute linux.cgroupsPath names, on every hierarchy. */
export function cgroupOfPath(h: CgroupHierarchy, cgroupsPath: string): ContainerCgroup {
  if (!cgroupsPath.startsWith('/') || cgroupsPath.split('/').includes('..')) {
    throw new InvalidArgument(`cgroupsPath "${cgroupsPath}" must be an absolute path without ".."`, { subject: cgroupsPath });
  }
  const v1Dirs = new Map<string, string>();
  for (const [c, mount] of h.v1) v1Dirs.set(c, dirIn(mount, cgroupsPath));
  return { v2Dir: h.v2 === undefined ? undefined : dirIn(h.v2, cgroupsPath), v1Dirs, mode: h.mode };
}

/**
 * Remove `cgroupsPath` and everything below it on every hierarchy, deepest first. A cgroup with
 * processes cannot be removed (EBUSY): that is a FailedPrecondition, the caller stops them first.
 * Missing directories are fine (already removed, or never created on that hierarchy).
 */
export async function removeCgroupTree(h: CgroupHierarchy, cgroupsPath: string): Promise<void> {
  const cg = cgroupOfPath(h, cgroupsPath);
  const dirs = new Set([...cg.v1Dirs.values(), ...(cg.v2Dir === undefined ? [] : [cg.v2Dir])]);
  for (const d of dirs) await removeDirTree(d);
}

async function removeDirTree(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw fromSystemError(e, dir, 'listing a cgroup');
  }
  for (const e of entries) if (e.isDirectory()) await removeDirTree(join(dir, e.name));
  try {
    // cgroupfs: rmdir removes a cgroup with its interface files; only children and tasks block it.
    await rmdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'EBUSY') throw new FailedPrecondition(`cgroup ${dir} still has processes`, { subject: dir, cause: e });
    throw fromSystemError(e, dir, 'removing a cgroup');
  }
}

/** The directory for `controller` (v1) or the v2 directory; NotFound when the host lacks it. */
export function controllerDir(cg: ContainerCgroup, controller: string): string {
  if (cg.mode === 'v2') {
    if (cg.v2Dir === undefined) throw new NotFound('no cgroup v2 directory for this container');
    return cg.v2Dir;
  }
  const d = cg.v1Dirs.get(controller);
  if (d === undefined) throw new NotFound(`the ${controller} cgroup controller is not mounted`, { subject: controller });
  return d;
}

/**
 * Every process in the container's cgroup and below (exec'd processes may sit in sub-cgroups),
 * from cgroup.procs: the pids `docker top` shows. A freezer (v1) or pids cgroup holds them all.
 */
export async function readCgroupProcs(cg: ContainerCgroup): Promise<number[]> {
  const dir = cg.mode === 'v2' ? cg.v2Dir : (['freezer', 'pids', 'memory', 'cpu'].map((c) => cg.v1Dirs.get(c)).find((d) => d !== undefined) ?? [...cg.v1Dirs.values()][0]);
  if (dir === undefined) throw new NotFound('no cgroup directory for this container');
  const pids = new Set<number>();
  const walk = async (d: string): Promise<void> => {
    let text: string;
    try {
      text = await readFile(join(d, 'cgroup.procs'), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw fromSystemError(e, d, 'reading cgroup.procs');
    }
    for (const l of text.split('\n')) if (/^\d+$/.test(l)) pids.add(Number(l));
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) if (e.isDirectory()) await walk(join(d, e.name));
  };
  await walk(dir);
  return [...pids].sort((a, b) => a - b);
}
