// libostree makes every deployment root immutable (chattr +i) so nothing but ostree renames or
// deletes it. mkfs.ext4 -d copies contents, modes, owners and xattrs but not inode flags, so the
// flag is put back on the image's inodes with debugfs.
import { join, relative } from 'node:path';
import { Internal } from '../../lib/errors.js';
import { runDiskTool } from './disk-tool.js';

/** EXT4_IMMUTABLE_FL (linux/fs/ext4/ext4.h), the `i` of chattr. */
const EXT4_IMMUTABLE_FL = 0x10;
/** debugfs pipes `stat` through a pager unless told not to. */
const NO_PAGER = { DEBUGFS_PAGER: '__none__', PAGER: '__none__' };

/** `dirs` are relative to `sysrootDir`; those that carry the flag there get it in `image` (an ext4 image, or `disk?offset=N`). */
export async function preserveImmutable(sysrootDir: string, dirs: readonly string[], image: string, signal?: AbortSignal): Promise<string[]> {
  if (dirs.length === 0) return [];
  const immutable: string[] = [];
  for (const d of dirs) {
    // lsattr fails on filesystems without inode flags (tmpfs, overlayfs): nothing to preserve then.
    const out = await runDiskTool('lsattr', ['-d', join(sysrootDir, d)], { signal }).catch(() => '');
    const flags = out.trim().split(/\s+/)[0] ?? '';
    if (flags.includes('i')) immutable.push(`/${relative(sysrootDir, join(sysrootDir, d))}`);
  }
  if (immutable.length === 0) return [];
  // debugfs has no chattr: read each inode's flags, then write them back with the bit set.
  const stats = await runDiskTool('debugfs', ['-f', '-', image], { input: immutable.map((p) => `stat "${p}"\n`).join(''), env: NO_PAGER, signal });
  const flags = [...stats.matchAll(/Flags: 0x([0-9a-f]+)/g)].map((m) => parseInt(m[1]!, 16));
  if (flags.length !== immutable.length) throw new Internal(`debugfs stat gave ${flags.length} inode flags for ${immutable.length} paths`);
  const script = immutable.map((p, i) => `set_inode_field "${p}" flags 0x${(flags[i]! | EXT4_IMMUTABLE_FL).toString(16)}\n`).join('');
  await runDiskTool('debugfs', ['-w', '-f', '-', image], { input: script, env: NO_PAGER, signal });
  return immutable;
}
