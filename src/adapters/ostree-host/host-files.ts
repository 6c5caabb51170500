// Files atomic keeps in a sysroot beside libostree's own, all written atomically:
//   ostree/atomic-lock.pid      who holds the sysroot lock (libostree's flock says nothing of it)
//   ostree/atomic-state.json    the last update error, for `atomic host status`
//   boot/loader/grub.cfg        a GRUB menu generated from the BLS entries (Debian GRUB has no
//                               blscfg), rewritten after every deployment change
import { readdir, readFile, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../../lib/atomic-file.js';
import { fromSystemError } from '../../lib/errors.js';
import { parseBlsEntry, sortBlsEntries } from '../../core/host/bls-entry.js';
import { renderGrubCfg } from '../../core/host/grub-cfg.js';

export interface LastUpdateError {
  readonly at: string;
  readonly operation: string;
  readonly message: string;
}

export interface HostState {
  readonly lastError?: LastUpdateError;
}

const statePath = (sysroot: string): string => join(sysroot, 'ostree', 'atomic-state.json');
const pidPath = (sysroot: string): string => join(sysroot, 'ostree', 'atomic-lock.pid');

export async function readHostState(sysroot: string): Promise<HostState> {
  try {
    return JSON.parse(await readFile(statePath(sysroot), 'utf8')) as HostState;
  } catch {
    // Missing or unreadable: no error recorded. It is advisory; nothing depends on it.
    return {};
  }
}

export async function writeHostState(sysroot: string, state: HostState): Promise<void> {
  await writeFileAtomically(statePath(sysroot), JSON.stringify(state, null, 2) + '\n');
}

export async function writeLockPid(sysroot: string): Promise<void> {
  await writeFileAtomically(pidPath(sysroot), `${process.pid}\n`);
}

export async function clearLockPid(sysroot: string): Promise<void> {
  await rm(pidPath(sysroot), { force: true });
}

/** The pid recorded by the holder of the lock, if it is still running. */
export async function lockHolderPid(sysroot: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(pidPath(sysroot), 'utf8')).trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/**
 * Regenerate boot/loader/grub.cfg from boot/loader/entries. boot/loader is the symlink libostree
 * swaps on every write, so this follows each change into the new loader directory.
 */
export async function writeGrubCfg(sysroot: string): Promise<{ entries: number }> {
  const dir = join(sysroot, 'boot', 'loader', 'entries');
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.conf')).sort();
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return { entries: 0 };
    throw fromSystemError(e, dir, 'reading the boot loader entries');
  }
  const entries = [];
  for (const n of names) entries.push(parseBlsEntry(await readFile(join(dir, n), 'utf8'), join(dir, n)));
  await writeFileAtomically(join(sysroot, 'boot', 'loader', 'grub.cfg'), renderGrubCfg(sortBlsEntries(entries)));
  return { entries: entries.length };
}

/** Free bytes for an unprivileged writer... we write as root, so blocks free to root (bfree). */
export async function freeBytes(path: string): Promise<number> {
  try {
    const s = await statfs(path);
    return s.bfree * s.bsize;
  } catch (e) {
    throw fromSystemError(e, path, 'measuring free space');
  }
}

/** Total size of the files in a directory (one level): a deployment's kernel + initramfs. */
export async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  for (const n of names) {
    const s = await stat(join(dir, n)).catch(() => undefined);
    if (s?.isFile() === true) total += s.size;
  }
  return total;
}
