// What an ostree sysroot directory holds, measured before the disk is built: the space and inodes
// its ext4 needs (hardlinked inodes once: ostree deployments are hardlink farms into the repo), the
// deployments in it, and the files a bootable disk cannot do without.
import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgument, fromSystemError } from '../../lib/errors.js';
import { EXT4_BLOCK_BYTES, type TreeUsage } from '../../core/image/root-fs-size.js';

export interface SysrootSummary {
  readonly usage: TreeUsage;
  /** `<stateroot>/<csum>.<serial>` of every deployment under ostree/deploy, sorted. */
  readonly deployments: readonly string[];
  /** Deployment directories, relative to the sysroot (ostree makes them immutable). */
  readonly deploymentDirs: readonly string[];
}

/** ext4 stores a symlink target of up to 59 bytes inside the inode (fast symlink). */
const FAST_SYMLINK_MAX = 59;

export function measureSysroot(sysrootDir: string, signal?: AbortSignal): SysrootSummary {
  checkShape(sysrootDir);
  const seen = new Set<string>();
  let apparentBytes = 0;
  let dataBlocks = 0;
  let entries = 0;
  const blocks = (n: number): number => Math.ceil(n / EXT4_BLOCK_BYTES);
  const walk = (path: string): void => {
    if (++entries % 4096 === 0) signal?.throwIfAborted();
    let st: Stats;
    try {
      st = lstatSync(path);
    } catch (e) {
      throw fromSystemError(e, path, 'measuring the sysroot');
    }
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (st.isDirectory()) {
      let names: string[];
      try {
        names = readdirSync(path);
      } catch (e) {
        throw fromSystemError(e, path, 'measuring the sysroot');
      }
      // ext4 directory entries: 8 bytes + the name, 4-byte aligned, plus . and ..
      const dirBytes = 24 + names.reduce((n, name) => n + 8 + Math.ceil(Buffer.byteLength(name) / 4) * 4, 0);
      apparentBytes += dirBytes;
      dataBlocks += Math.max(1, blocks(dirBytes));
      for (const name of names) walk(join(path, name));
    } else if (st.isSymbolicLink()) {
      apparentBytes += st.size;
      if (st.size > FAST_SYMLINK_MAX) dataBlocks += 1;
    } else if (st.isFile()) {
      apparentBytes += st.size;
      dataBlocks += blocks(st.size);
    }
  };
  walk(sysrootDir);
  signal?.throwIfAborted();
  const deploymentDirs = listDeployments(sysrootDir);
  return {
    usage: { apparentBytes, dataBlocks, inodes: seen.size },
    deployments: deploymentDirs.map((d) => d.split('/').filter((_, i) => i === 2 || i === 4).join('/')),
    deploymentDirs,
  };
}

/** The sysroot a disk needs: /boot/loader (libostree's symlink to loader.N) with our grub.cfg, and /ostree. */
function checkShape(sysrootDir: string): void {
  const need = (rel: string, what: string, kind: 'dir' | 'file'): void => {
    const p = join(sysrootDir, rel);
    let st: Stats;
    try {
      st = statSync(p);
    } catch {
      throw new InvalidArgument(`not a bootable ostree sysroot: ${rel} is missing (${what})`, { subject: p });
    }
    if (kind === 'dir' ? !st.isDirectory() : !st.isFile()) throw new InvalidArgument(`not a bootable ostree sysroot: ${rel} is not a ${kind === 'dir' ? 'directory' : 'file'}`, { subject: p });
  };
  need('', 'the sysroot directory', 'dir');
  need('ostree/deploy', 'deployments: ostree admin init-fs and a deploy make it', 'dir');
  need('boot/loader', 'the boot loader entries libostree writes', 'dir');
  need('boot/loader/grub.cfg', 'the GRUB menu generated from the boot loader entries; the ESP chains to it', 'file');
}

function listDeployments(sysrootDir: string): string[] {
  const out: string[] = [];
  const base = join(sysrootDir, 'ostree', 'deploy');
  for (const stateroot of readdirSync(base).sort()) {
    const dir = join(base, stateroot, 'deploy');
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names.sort()) {
      // libostree: deploy/<csum>.<serial> directories, with a <csum>.<serial>.origin file beside.
      if (/^[0-9a-f]{64}\.\d+$/.test(n) && lstatSync(join(dir, n)).isDirectory()) out.push(`ostree/deploy/${stateroot}/deploy/${n}`);
    }
  }
  return out;
}

