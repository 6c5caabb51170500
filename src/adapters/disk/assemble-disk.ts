// `atomic image build`'s disk step: an ostree sysroot directory becomes a bootable GPT disk
// without root mounts or loop devices. sfdisk writes the table from a script, mkfs.ext4 -d builds
// the root filesystem from the directory, mkfs.vfat + mtools the ESP with a standalone GRUB. Both
// filesystems are written in place at their partition offsets (mke2fs -E offset, mkfs.fat
// --offset, mtools' file@@offset, debugfs' file?offset=): the disk file stays sparse and nothing
// is copied, where building them as separate images and splicing them in would read every hole
// of a many-GiB root once more.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Cancelled, InvalidArgument, Unavailable, fromSystemError } from '../../lib/errors.js';
import { diskBytesForRoot, mib, planDiskGeometry, SECTOR_BYTES, type DiskFormat, type DiskLayout } from '../../core/image/disk-geometry.js';
import { deriveDiskIds } from '../../core/image/disk-ids.js';
import { GRUB_EFI_TARGETS, GRUB_INSTALL_MODULES, GRUB_PRELOAD_MODULES, renderGrubEmbeddedCfg, type GrubEfiTarget } from '../../core/image/grub-embedded-cfg.js';
import { ext4InodeCount, minimumExt4Bytes, treeFitsExt4 } from '../../core/image/root-fs-size.js';
import { renderSfdiskScript } from '../../core/image/sfdisk-script.js';
import { describeRawDisk, type DiskPartition } from './describe-raw-disk.js';
import { requireTools, runDiskTool } from './disk-tool.js';
import { measureSysroot } from './measure-sysroot.js';
import { preserveImmutable } from './preserve-immutable.js';

export type { DiskFormat, DiskLayout } from '../../core/image/disk-geometry.js';
export { DEFAULT_ROOT_LABEL } from '../../core/image/disk-geometry.js';

export interface DiskReport {
  readonly path: string;
  readonly format: DiskFormat;
  readonly arch: string;
  readonly virtualSizeBytes: number;
  /** Apparent size of the output file. */
  readonly fileSizeBytes: number;
  /** What the output takes on its filesystem (raw disks are sparse). */
  readonly allocatedBytes: number;
  readonly diskGuid: string;
  readonly partitions: readonly DiskPartition[];
}

export interface AssembleDiskOptions {
  readonly sysrootDir: string;
  readonly outPath: string;
  readonly layout: DiskLayout;
  readonly signal?: AbortSignal;
  readonly onProgress?: (step: string) => void;
  /** SOURCE_DATE_EPOCH: timestamps of the ESP files and the ext4 superblock, and part of the id seed. */
  readonly sourceDateEpoch?: number;
  /**
   * Seed of the GPT and filesystem identifiers. Default: the deployments in the sysroot, the
   * layout and sourceDateEpoch, so the same input gives the same partition table.
   */
  readonly seed?: string;
  /** Where GRUB's platform directories are (default /usr/lib/grub, Debian's). */
  readonly grubLibDir?: string;
}

const ESP_LABEL = 'ESP';
const TOOLS = ['sfdisk', 'mkfs.ext4', 'debugfs', 'lsattr', 'mkfs.vfat', 'mmd', 'mcopy', 'grub-mkstandalone'];

export async function assembleDisk(opts: AssembleDiskOptions): Promise<DiskReport> {
  const { layout, signal, outPath } = opts;
  const progress = opts.onProgress ?? ((): void => undefined);
  const geometry = planDiskGeometry(layout);
  const grub = GRUB_EFI_TARGETS[layout.arch];
  throwIfCancelled(signal);

  // Fail fast, before anything is written: a tree that cannot fit, missing tools, no GRUB modules.
  progress('measuring sysroot');
  const sysroot = withCancel(signal, () => measureSysroot(opts.sysrootDir, signal));
  const rootBytes = geometry.root.sectors * SECTOR_BYTES;
  if (!treeFitsExt4(rootBytes, sysroot.usage)) {
    const needed = diskBytesForRoot(minimumExt4Bytes(sysroot.usage), layout.espSizeBytes);
    throw new InvalidArgument(
      `disk.sizeBytes ${layout.sizeBytes} (${mib(layout.sizeBytes)}) is too small for the sysroot: it needs at least ${needed} (${mib(needed)}) ` +
        `for ${sysroot.usage.apparentBytes} bytes in ${sysroot.usage.inodes} inodes with a ${mib(layout.espSizeBytes)} ESP`,
      { subject: 'disk.sizeBytes' },
    );
  }
  requireTools(TOOLS);
  const grubDir = join(opts.grubLibDir ?? '/usr/lib/grub', grub.platform);
  await checkGrubModules(grubDir, grub);
  const outDir = dirname(outPath);
  try {
    if (!(await stat(outDir)).isDirectory()) throw new InvalidArgument(`output directory ${outDir} is not a directory`, { subject: outPath });
  } catch (e) {
    throw fromSystemError(e, outPath, `output directory ${outDir}`);
  }

  // Fields listed one by one: the caller's key order must not change the identifiers.
  const { sizeBytes, espSizeBytes, rootLabel, arch } = layout;
  const ids = deriveDiskIds(opts.seed ?? JSON.stringify([sysroot.deployments, sizeBytes, espSizeBytes, rootLabel, arch, opts.sourceDateEpoch ?? null]));
  const tag = randomBytes(6).toString('hex');
  const tmpDisk = join(outDir, `.${basename(outPath)}.${tag}.tmp`);
  const work = join(outDir, `.${basename(outPath)}.${tag}.work`);
  // TMPDIR: grub-mkstandalone's scratch directories land in our work directory, so a tool killed
  // by an abort leaves nothing behind in /tmp either.
  const toolEnv: NodeJS.ProcessEnv = {
    TMPDIR: work,
    ...(opts.sourceDateEpoch === undefined ? {} : { SOURCE_DATE_EPOCH: String(opts.sourceDateEpoch), E2FSPROGS_FAKE_TIME: String(opts.sourceDateEpoch) }),
  };
  try {
    await mkdir(work);

    progress('partitioning');
    await writeFile(tmpDisk, '', { flag: 'wx' });
    await truncate(tmpDisk, layout.sizeBytes);
    // --wipe always: a stale signature must not survive; no kernel re-read for a regular file.
    await runDiskTool('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', '--wipe', 'always', tmpDisk], { input: renderSfdiskScript(geometry, ids, layout.arch), env: toolEnv, signal });

    progress('esp');
    const espOffset = geometry.esp.startSector * SECTOR_BYTES;
    await buildEsp({ disk: tmpDisk, espStartSector: geometry.esp.startSector, espOffset, work, grubDir, grub, espBytes: geometry.esp.sectors * SECTOR_BYTES, fatBits: geometry.espFatBits, sectorsPerCluster: geometry.espSectorsPerCluster, volumeId: ids.espVolumeId, rootLabel: layout.rootLabel, toolEnv, mtimeMs: (opts.sourceDateEpoch ?? Date.now() / 1000) * 1000, signal });

    progress('root filesystem');
    const rootOffset = geometry.root.startSector * SECTOR_BYTES;
    // -T default: mke2fs would pick the "small" type (1 KiB blocks) under 512 MiB, and GRUB,
    // growfs and the block math here all want 4 KiB. -d keeps hardlinks, symlinks, modes, owners
    // and xattrs. assume_storage_prezeroed: the file is fresh and sparse, so inode tables need no
    // zeroing, neither now nor by the kernel's lazyinit thread on first boot; nodiscard: nothing to
    // punch in a fresh file.
    await runDiskTool('mkfs.ext4', [
      '-q', '-F', '-t', 'ext4', '-T', 'default', '-b', '4096', '-I', '256',
      '-N', String(ext4InodeCount(rootBytes, sysroot.usage)),
      '-L', layout.rootLabel, '-U', ids.rootFsUuid,
      '-E', `offset=${rootOffset},root_owner=0:0,hash_seed=${ids.rootHashSeed},assume_storage_prezeroed=1,nodiscard`,
      '-d', opts.sysrootDir, tmpDisk, `${rootBytes / 1024}k`,
    ], { env: toolEnv, signal });
    await preserveImmutable(opts.sysrootDir, sysroot.deploymentDirs, `${tmpDisk}?offset=${rootOffset}`, signal);

    const described = await describeRawDisk(tmpDisk, signal);
    const st = await stat(tmpDisk);
    throwIfCancelled(signal);
    await rename(tmpDisk, outPath);
    return {
      path: outPath,
      format: 'raw',
      arch: described.arch,
      virtualSizeBytes: layout.sizeBytes,
      fileSizeBytes: st.size,
      allocatedBytes: st.blocks * 512,
      diskGuid: described.diskGuid,
      partitions: described.partitions,
    };
  } catch (e) {
    await rm(tmpDisk, { force: true });
    throw asCancelled(e, signal) ?? fromSystemError(e, outPath, 'writing the disk image');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

interface EspOptions {
  readonly disk: string;
  readonly espStartSector: number;
  readonly espOffset: number;
  readonly work: string;
  readonly grubDir: string;
  readonly grub: GrubEfiTarget;
  readonly espBytes: number;
  readonly fatBits: 16 | 32;
  readonly sectorsPerCluster: number;
  readonly volumeId: string;
  readonly rootLabel: string;
  readonly toolEnv: NodeJS.ProcessEnv;
  readonly mtimeMs: number;
  readonly signal: AbortSignal | undefined;
}

/** The ESP: only EFI/BOOT/BOOT<arch>.EFI, the removable-media path every UEFI firmware boots. */
async function buildEsp(o: EspOptions): Promise<void> {
  const embedded = join(o.work, 'embedded.cfg');
  const efi = join(o.work, o.grub.bootFile);
  await writeFile(embedded, renderGrubEmbeddedCfg(o.rootLabel));
  await runDiskTool('grub-mkstandalone', [
    '-O', o.grub.platform, '-d', o.grubDir, '-o', efi,
    `--modules=${GRUB_PRELOAD_MODULES.join(' ')}`, `--install-modules=${GRUB_INSTALL_MODULES.join(' ')}`,
    '--locales=', '--fonts=', '--themes=',
    // The memdisk's /boot/grub/grub.cfg is what a standalone GRUB reads first.
    `boot/grub/grub.cfg=${embedded}`,
  ], { env: o.toolEnv, signal: o.signal });
  const t = new Date(o.mtimeMs);
  await utimes(efi, t, t);
  // --invariant + -i: mkfs.fat otherwise stamps the current time and a random serial. The cluster
  // size comes from the geometry (see fatSectorsPerCluster).
  await runDiskTool('mkfs.vfat', [
    '-F', String(o.fatBits), '-s', String(o.sectorsPerCluster), '-n', ESP_LABEL, '--invariant', '-i', o.volumeId,
    `--offset=${o.espStartSector}`, o.disk, String(o.espBytes / 1024),
  ], { env: o.toolEnv, signal: o.signal });
  // mtools reads the FAT in place at image@@offset. MTOOLS_SKIP_CHECK: it would refuse a geometry
  // it finds odd on our fresh filesystem.
  const esp = `${o.disk}@@${o.espOffset}`;
  const env = { ...o.toolEnv, MTOOLS_SKIP_CHECK: '1' };
  await runDiskTool('mmd', ['-i', esp, '::/EFI', '::/EFI/BOOT'], { env, signal: o.signal });
  await runDiskTool('mcopy', ['-m', '-i', esp, efi, `::/EFI/BOOT/${o.grub.bootFile}`], { env, signal: o.signal });
}

/** A missing GRUB platform directory names the package, not grub-mkstandalone's "no such file". */
async function checkGrubModules(grubDir: string, grub: GrubEfiTarget): Promise<void> {
  const missing: string[] = [];
  for (const m of GRUB_INSTALL_MODULES) {
    try {
      await stat(join(grubDir, `${m}.mod`));
    } catch {
      missing.push(m);
    }
  }
  if (missing.length === GRUB_INSTALL_MODULES.length) {
    throw new Unavailable(`GRUB's ${grub.platform} modules are missing (${grubDir}): install Debian package ${grub.debianPackage}`, { subject: grubDir });
  }
  if (missing.length > 0) throw new Unavailable(`GRUB modules missing from ${grubDir}: ${missing.join(', ')} (Debian package ${grub.debianPackage})`, { subject: grubDir });
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new Cancelled('disk build cancelled', { cause: signal.reason });
}

function withCancel<T>(signal: AbortSignal | undefined, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw asCancelled(e, signal) ?? e;
  }
}

/** An abort surfaces as the signal's reason (AbortError) from fs calls; the taxonomy says Cancelled. */
export function asCancelled(e: unknown, signal: AbortSignal | undefined): Cancelled | undefined {
  if (e instanceof Cancelled) return e;
  if (signal?.aborted === true) return new Cancelled('disk build cancelled', { cause: e });
  return undefined;
}
