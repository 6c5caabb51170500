// Persistent network namespaces, the way `ip netns add` makes them (iproute2 ip/ipnetns.c): the
// namespace's nsfs file bind-mounted onto an empty file under a runtime directory, so it outlives
// the process that created it and an OCI runtime can join it by path (linux.namespaces
// [{type: network, path}]). The directory itself is made a shared bind mount first, like
// /run/netns, so the unmount on release reaches copies of the mount in mount namespaces created
// later (a runtime's private namespace would otherwise pin the namespace alive).
import { mkdir, open, readFile, realpath, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Internal, fromSystemError } from '../../lib/errors.js';
import { runTool } from '../process/run-tool.js';

/** Mount points from /proc/self/mountinfo (field 5), with octal escapes decoded. */
async function mountPoints(): Promise<Set<string>> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return new Set(text.split('\n').filter((l) => l !== '').map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))));
}

/** Make `dir` exist and be a shared mount point (iproute2 does the same for /run/netns). */
export async function prepareNetnsDir(dir: string): Promise<void> {
  try {
    await mkdir(resolve(dir), { recursive: true, mode: 0o755 });
  } catch (e) {
    throw fromSystemError(e, dir, 'creating the network namespace directory');
  }
  const abs = await realpath(resolve(dir));
  if (!(await mountPoints()).has(abs)) await runTool('mount', ['--bind', abs, abs], { debianPackage: 'mount' });
  await runTool('mount', ['--make-shared', abs], { debianPackage: 'mount' });
}

/** mountinfo lists canonical paths: resolve symlinks in the directory part (the file itself is the mount point). */
async function canonical(path: string): Promise<string> {
  const abs = resolve(path);
  return join(await realpath(dirname(abs)).catch(() => dirname(abs)), basename(abs));
}

export async function isNetnsMounted(path: string): Promise<boolean> {
  return (await mountPoints()).has(await canonical(path));
}

/** A new network namespace bound at `path` (which must not exist yet), with `lo` up. */
export async function createNetns(path: string): Promise<void> {
  const abs = resolve(path);
  try {
    await (await open(abs, 'wx', 0o444)).close();
  } catch (e) {
    throw fromSystemError(e, abs, 'creating the network namespace file');
  }
  try {
    // unshare(1) --net=FILE: unshare(CLONE_NEWNET) in a child and bind-mount its /proc/PID/ns/net on FILE.
    await runTool('unshare', [`--net=${abs}`, 'ip', 'link', 'set', 'lo', 'up'], { debianPackage: 'util-linux' });
  } catch (e) {
    await deleteNetns(abs).catch(() => undefined);
    throw e;
  }
}

/**
 * Unmount and remove a namespace file. The namespace (and every interface in it: the container
 * ends of veth pairs, which takes their host ends with them) goes once nothing else holds it.
 * Missing files are fine: release must be repeatable.
 */
export async function deleteNetns(path: string): Promise<void> {
  const abs = resolve(path);
  if (await isNetnsMounted(abs)) {
    try {
      await runTool('umount', ['--lazy', abs], { debianPackage: 'mount' });
    } catch (e) {
      throw new Internal(`unmounting network namespace ${abs} failed`, { subject: abs, cause: e });
    }
  }
  await rm(abs, { force: true });
}
