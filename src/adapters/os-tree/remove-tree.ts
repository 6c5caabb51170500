// Remove a build directory that may hold ostree deployments. libostree sets the immutable bit
// (chattr +i, ostree-sysroot-deploy.c) on every deployment root; rm fails on those until the
// bit is cleared. Only the deployment roots carry it, so only they are visited.
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runLogged } from './run-logged.js';

async function dirs(path: string): Promise<string[]> {
  try {
    const names = await readdir(path);
    const out: string[] = [];
    for (const n of names) if ((await stat(join(path, n)).catch(() => undefined))?.isDirectory() === true) out.push(join(path, n));
    return out;
  } catch {
    return [];
  }
}

/** Deployment roots under `dir` (a sysroot, or a directory holding sysroots one level down). */
async function deploymentRoots(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const sysroot of [dir, ...(await dirs(dir))]) {
    for (const stateroot of await dirs(join(sysroot, 'ostree', 'deploy'))) out.push(...(await dirs(join(stateroot, 'deploy'))));
  }
  return out;
}

export async function removeTree(dir: string): Promise<void> {
  const roots = await deploymentRoots(dir);
  if (roots.length > 0) await runLogged('chattr', ['-i', ...roots], { doing: 'clearing the immutable bit of deployments', debianPackage: 'e2fsprogs' }).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}
