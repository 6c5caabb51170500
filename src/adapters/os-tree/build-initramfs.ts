// Our initramfs (why ours: src/core/image/initramfs-init.ts): the tree's own busybox-static, the
// kernel modules that reach the root disk with their dependencies in load order, and the init
// that mounts the ostree deployment. Everything is taken from the tree, so the modules match its
// kernel and the binary its architecture. Written as a gzip-compressed newc cpio, atomically.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeFileAtomically } from '../../lib/atomic-file.js';
import { FailedPrecondition, fromSystemError } from '../../lib/errors.js';
import { encodeCpioNewc, type CpioEntry } from '../../formats/cpio/cpio-newc.js';
import { renderInitramfsInit } from '../../core/image/initramfs-init.js';
import { moduleName, parseModulesDep, resolveModuleLoadOrder } from '../../core/image/module-load-order.js';

export interface BuildInitramfsOptions {
  /** The tree (a Debian root) holding usr/lib/modules/KVER and usr/bin/busybox. */
  readonly treeDir: string;
  readonly kernelVersion: string;
  /** Module names; dependencies are added. */
  readonly modules: readonly string[];
  readonly out: string;
  /** mtime of the archive's entries (SOURCE_DATE_EPOCH), default 0. */
  readonly mtimeSeconds?: number;
}

export interface BuildInitramfsResult {
  readonly sizeBytes: number;
  /** Module files in load order (relative to /lib/modules/KVER). */
  readonly modules: readonly string[];
}

async function readTreeFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new FailedPrecondition(`${what} is missing from the tree`, { subject: path });
    throw fromSystemError(e, path, `reading ${what}`);
  }
}

export async function buildInitramfs(opts: BuildInitramfsOptions): Promise<BuildInitramfsResult> {
  const modDir = join(opts.treeDir, 'usr', 'lib', 'modules', opts.kernelVersion);
  const dep = parseModulesDep((await readTreeFile(join(modDir, 'modules.dep'), 'modules.dep (run depmod)')).toString('utf8'), join(modDir, 'modules.dep'));
  const builtin = (await readFile(join(modDir, 'modules.builtin'), 'utf8').catch(() => '')) as string;
  const { order } = resolveModuleLoadOrder(dep, builtin, opts.modules);
  const busybox = await readTreeFile(join(opts.treeDir, 'usr', 'bin', 'busybox'), '/usr/bin/busybox (Debian package busybox-static)');

  const entries: CpioEntry[] = [];
  for (const d of ['bin', 'dev', 'proc', 'sys', 'run', 'tmp', 'physical', 'lib', 'lib/modules']) entries.push({ kind: 'directory', path: d, mode: 0o755 });
  // The kernel opens /dev/console for init's stdio before init runs (init/main.c
  // console_on_rootfs): without the node there, early output is lost.
  entries.push({ kind: 'char-device', path: 'dev/console', mode: 0o600, major: 5, minor: 1 });
  entries.push({ kind: 'file', path: 'bin/busybox', mode: 0o755, data: busybox });
  entries.push({ kind: 'symlink', path: 'bin/sh', target: 'busybox' });
  entries.push({ kind: 'file', path: 'init', mode: 0o755, data: Buffer.from(renderInitramfsInit(), 'utf8') });
  const loadList: string[] = [];
  for (const rel of order) {
    const base = rel.slice(rel.lastIndexOf('/') + 1);
    entries.push({ kind: 'file', path: `lib/modules/${base}`, mode: 0o644, data: await readTreeFile(join(modDir, rel), `kernel module ${moduleName(rel)}`) });
    loadList.push(`/lib/modules/${base}`);
  }
  entries.push({ kind: 'file', path: 'modules.order', mode: 0o644, data: Buffer.from(loadList.join('\n') + '\n', 'utf8') });
  const cpio = Buffer.concat(encodeCpioNewc(entries, { mtimeSeconds: opts.mtimeSeconds ?? 0 }));
  const gz = gzipSync(cpio, { level: 9 });
  await writeFileAtomically(opts.out, gz, { mode: 0o644 });
  return { sizeBytes: gz.length, modules: order };
}
