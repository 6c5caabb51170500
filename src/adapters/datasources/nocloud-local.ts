// cloud-init's NoCloud datasource, local part (DataSourceNoCloud.py, Debian 22.4): a seed
// directory (<root>/var/lib/cloud/seed/nocloud, then .../nocloud-net), else a block device or
// image whose file system is iso9660 or vfat with the label `cidata` or `CIDATA`, else only the
// `ds=nocloud` hint's own meta-data. Devices are never mounted (the host kernel here has neither
// isofs nor vfat, and mounting needs root): labels are sniffed from the first sectors, content is
// read with our ISO reader or mtools (readSeedMedia).
//
// Label sniffing is our own, not blkid: it reads two small ranges of each device, runs no process
// per device, and tests can point it at a fake sysfs tree with image files.
import { constants, lstat, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstanceData } from '../../core/provision/model.js';
import type { DsHint } from '../../core/provision/ds-hint.js';
import { NOCLOUD_FILES, SEED_DIRECTORY, SEED_LABEL, type SeedFileName } from '../../core/seed/seed-files.js';
import { sniffImageKind, IMAGE_SNIFF_BYTES } from '../../formats/image-kind.js';
import { FIRST_DESCRIPTOR_LBA, SECTOR_BYTES, STANDARD_ID, VD_PRIMARY, VD_TERMINATOR } from '../../formats/iso9660/ecma119.js';
import { requireFs } from '../../lib/builtin.js';
import { AtomicError, InvalidArgument, ResourceExhausted, fromSystemError } from '../../lib/errors.js';
import type { SeedFormat } from '../seed-media/read-seed.js';
import { notFound, type DatasourceLog, type DatasourceResult } from './datasource-result.js';
import { MAX_SEED_FILE_BYTES, instanceFromSeed, isDisabled, tooLarge } from './instance-from-seed.js';

export const DEFAULT_SYS_BLOCK_DIR = '/sys/class/block';
export const DEFAULT_DEV_DIR = '/dev';
/** cloud-init's seed_dirs for NoCloud, under its cloud_dir /var/lib/cloud. */
export const NOCLOUD_SEED_DIRS: readonly string[] = [SEED_DIRECTORY, 'var/lib/cloud/seed/nocloud-net'];
/** _get_devices: LABEL=CIDATA, LABEL=cidata (and LABEL_FATBOOT=cidata), compared exactly. */
const SEED_LABELS: readonly string[] = [SEED_LABEL, SEED_LABEL.toUpperCase()];

export interface NoCloudLocalOptions {
  /** Root of the file system holding the seed directories; '/' on a host. */
  readonly root?: string;
  /** Seed directories, instead of NOCLOUD_SEED_DIRS under `root`. */
  readonly seedDirs?: readonly string[];
  /** Candidate devices or image files to sniff, instead of scanning `sysBlockDir`. */
  readonly devices?: readonly string[];
  readonly sysBlockDir?: string;
  readonly devDir?: string;
  /** Give up on a device whose first sectors take longer than this to read. */
  readonly deviceProbeTimeoutMs?: number;
  /** The `ds=nocloud` hint: its keys win over meta-data; alone it is enough (cloud-init claims with it). */
  readonly hint?: DsHint;
  /** Where the hint came from, for InstanceData.source: `/proc/cmdline`, DMI product_serial. */
  readonly hintSource?: string;
  readonly maxFileBytes?: number;
  readonly signal: AbortSignal;
  readonly log: DatasourceLog;
}

/**
 * Look for a NoCloud seed on this machine in cloud-init's order: seed directories, then devices
 * labelled cidata, then the hint alone. Not found when none has a seed; errors for seeds that are
 * there but broken (bad meta-data, oversized files).
 */
export async function readNoCloudLocal(opts: NoCloudLocalOptions): Promise<DatasourceResult> {
  const reasons: string[] = [];
  const overrides = opts.hint?.metadata;
  const claim = (instance: InstanceData): DatasourceResult => (isDisabled(instance) ? notFound(`${instance.source}: dsmode is disabled`) : { found: true, instance });

  for (const dir of seedDirectories(opts)) {
    if (!(await isDirectory(dir))) {
      reasons.push(`no seed directory ${dir}`);
      continue;
    }
    const missing = await missingRequiredFiles(dir);
    if (missing.length > 0) {
      // pathprefix2dict raises ValueError and cloud-init tries the next place.
      opts.log.warn({ seed: dir, missing }, 'seed directory is not a NoCloud seed');
      reasons.push(`seed directory ${dir} has no ${missing.join(' or ')}`);
      continue;
    }
    opts.log.info({ seed: dir }, 'reading the NoCloud seed directory');
    return claim(await readNoCloudSeed(dir, { ...opts, ...(overrides === undefined ? {} : { overrides }) }));
  }

  const devices = await findCidataDevices(opts);
  if (devices.length === 0) reasons.push(`no block device labelled ${SEED_LABELS.join(' or ')}`);
  for (const dev of devices) {
    opts.log.info({ device: dev.path, format: dev.format, label: dev.label }, 'reading the NoCloud seed device');
    const r = await readSeed(dev.path, { ...opts, ...(overrides === undefined ? {} : { overrides }) });
    if ('missing' in r) {
      // "device %s with label=%s not a valid seed." - cloud-init goes on with the next device.
      opts.log.warn({ device: dev.path, missing: r.missing }, 'device labelled cidata is not a valid seed');
      reasons.push(`${dev.path} is labelled ${dev.label} but has no ${r.missing.join(' or ')}`);
      continue;
    }
    return claim(r);
  }

  if (opts.hint !== undefined) {
    // found = ['cmdline']: the hint's meta-data is the whole seed; user-data is empty.
    const source = opts.hintSource ?? 'kernel command line';
    opts.log.info({ source }, 'no NoCloud seed; using the ds=nocloud hint alone');
    return claim(await instanceFromSeed({ datasource: 'NoCloud', source, files: {}, overrides: opts.hint.metadata, log: opts.log }));
  }
  return notFound(`NoCloud: ${reasons.join('; ')}`);
}

function seedDirectories(opts: NoCloudLocalOptions): string[] {
  return opts.seedDirs !== undefined ? [...opts.seedDirs] : NOCLOUD_SEED_DIRS.map((d) => join(opts.root ?? '/', d));
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function missingRequiredFiles(dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (const name of REQUIRED_FILES) {
    try {
      // lstat, as readSeedMedia: a symbolic link in a seed directory is not read.
      if (!(await lstat(join(dir, name))).isFile()) missing.push(name);
    } catch {
      missing.push(name);
    }
  }
  return missing;
}

/** pp2d_kwargs: a seed must have both, even if empty. */
const REQUIRED_FILES: readonly SeedFileName[] = ['meta-data', 'user-data'];

export interface ReadNoCloudSeedOptions {
  readonly overrides?: Readonly<Record<string, string | null>>;
  readonly maxFileBytes?: number;
  readonly signal?: AbortSignal;
  readonly log: DatasourceLog;
}

/**
 * Read one seed, wherever it is (ISO image or device, FAT image or device, tar file, directory),
 * as NoCloud: for an explicit `--seed PATH`, a seedfrom path and every place the search finds.
 */
export async function readNoCloudSeed(path: string, opts: ReadNoCloudSeedOptions): Promise<InstanceData> {
  const r = await readSeed(path, opts);
  if ('missing' in r) {
    throw new InvalidArgument(`not a NoCloud seed: it has no ${r.missing.join(' or ')} (NoCloud needs both meta-data and user-data, even if empty)`, { subject: path });
  }
  return r;
}

async function readSeed(path: string, opts: ReadNoCloudSeedOptions): Promise<InstanceData | { readonly missing: readonly string[] }> {
  const max = opts.maxFileBytes ?? MAX_SEED_FILE_BYTES;
  const format = await checkSeedFileSizes(path, max);
  let media;
  try {
    const { readSeedMedia } = await import('../seed-media/read-seed.js');
    media = await readSeedMedia(path, { maxFileBytes: max, ...(opts.signal === undefined ? {} : { signal: opts.signal }) });
  } catch (e) {
    // read-vfat reports an oversized file as InvalidArgument caused by mcopy's ResourceExhausted.
    if (format === 'vfat' && e instanceof AtomicError && e.cause instanceof ResourceExhausted) throw new ResourceExhausted(e.message, { subject: path, cause: e });
    throw e;
  }
  const missing = REQUIRED_FILES.filter((n) => media.files[n] === undefined);
  if (missing.length > 0) return { missing };
  return await instanceFromSeed({
    datasource: 'NoCloud',
    source: path,
    files: media.files,
    ...(opts.overrides === undefined ? {} : { overrides: opts.overrides }),
    maxFileBytes: max,
    log: opts.log,
  });
}

/**
 * Refuse oversized NoCloud files by their recorded sizes before anything is read, naming the file
 * (ResourceExhausted): a 17 MiB user-data costs a stat or a directory record, not 17 MiB. Returns
 * the seed's format for the caller (undefined: not recognised, readSeedMedia will say so).
 */
async function checkSeedFileSizes(path: string, max: number): Promise<SeedFormat | undefined> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw fromSystemError(e, path, 'reading the seed');
  }
  if (st.isDirectory()) {
    for (const name of NOCLOUD_FILES) {
      const s = await lstat(join(path, name)).catch(() => undefined);
      if (s?.isFile() === true && s.size > max) throw tooLarge(name, s.size, max, path);
    }
    return 'directory';
  }
  const [{ openFileByteSource }, { openIso }] = await Promise.all([import('../fs-tree/file-byte-source.js'), import('../../formats/iso9660/reader.js')]);
  const source = await openFileByteSource(path);
  try {
    const head = await source.read(0, Math.min(IMAGE_SNIFF_BYTES, source.sizeBytes));
    const kind = sniffImageKind(head);
    if (kind === 'iso9660') {
      const image = await openIso(source, { subject: path });
      for (const e of await rootEntries(image)) {
        if ((NOCLOUD_FILES as readonly string[]).includes(e.name) && e.sizeBytes > max) throw tooLarge(e.name, e.sizeBytes, max, path);
      }
      return 'iso9660';
    }
    if (kind === 'tar') {
      for (const e of await tarSeedEntries(source)) if (e.sizeBytes > max) throw tooLarge(e.name, e.sizeBytes, max, path);
      return 'tar';
    }
    return kind === 'fat' ? 'vfat' : undefined;
  } finally {
    await source.close();
  }
}

async function rootEntries(image: import('../../formats/iso9660/reader.js').IsoImage): Promise<{ name: string; sizeBytes: number }[]> {
  const out: { name: string; sizeBytes: number }[] = [];
  for await (const e of image.walk()) {
    if (e.type === 'file' && !e.path.includes('/')) out.push({ name: e.name, sizeBytes: e.sizeBytes });
  }
  return out;
}

/**
 * The sizes of NoCloud files in a tar seed (at the top or in var/lib/cloud/seed/nocloud/, as
 * readSeedMedia reads them), from the ustar headers alone (POSIX.1-2001 ustar: size at 124, type
 * at 156, prefix at 345); content blocks are skipped, not read.
 */
async function tarSeedEntries(source: { sizeBytes: number; read(position: number, length: number): Promise<Buffer> }): Promise<{ name: string; sizeBytes: number }[]> {
  const out: { name: string; sizeBytes: number }[] = [];
  for (let at = 0, headers = 0; at + 512 <= source.sizeBytes && headers < 10_000; headers++) {
    const h = await source.read(at, 512);
    if (h.length < 512 || h.every((b) => b === 0)) break;
    const size = tarSize(h);
    const flag = String.fromCharCode(h[156] ?? 0);
    const name = cString(h, 0, 100);
    const prefix = h.toString('latin1', 257, 262) === 'ustar' ? cString(h, 345, 155) : '';
    const path = (prefix === '' ? name : `${prefix}/${name}`).replace(/^(\.\/|\/)+/, '');
    const base = path.startsWith(`${SEED_DIRECTORY}/`) ? path.slice(SEED_DIRECTORY.length + 1) : path;
    if ((flag === '0' || flag === '\0' || flag === '7') && (NOCLOUD_FILES as readonly string[]).includes(base)) out.push({ name: base, sizeBytes: size });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

function tarSize(h: Buffer): number {
  // GNU base-256 sizes (high bit set) are for files of 8 GiB and more.
  if (((h[124] ?? 0) & 0x80) !== 0) return Number.MAX_SAFE_INTEGER;
  const n = parseInt(cString(h, 124, 12).trim() || '0', 8);
  return Number.isFinite(n) ? n : 0;
}

function cString(b: Buffer, offset: number, length: number): string {
  const s = b.toString('utf8', offset, offset + length);
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}

// --- devices -------------------------------------------------------------------------------------

export interface CidataDevice {
  readonly path: string;
  readonly format: 'iso9660' | 'vfat';
  readonly label: string;
}

export interface FindDevicesOptions {
  readonly devices?: readonly string[];
  readonly sysBlockDir?: string;
  readonly devDir?: string;
  readonly deviceProbeTimeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly log: DatasourceLog;
}

/**
 * Devices (or image files) holding iso9660 or vfat labelled cidata/CIDATA, in cloud-init's order
 * (its device list sorted in reverse). Unreadable devices are skipped, never waited on for long.
 */
export async function findCidataDevices(opts: FindDevicesOptions): Promise<CidataDevice[]> {
  const candidates = opts.devices ?? (await scanSysBlock(opts.sysBlockDir ?? DEFAULT_SYS_BLOCK_DIR, opts.devDir ?? DEFAULT_DEV_DIR));
  const found: CidataDevice[] = [];
  for (const path of [...candidates].sort().reverse()) {
    if (opts.signal?.aborted === true) break;
    const v = await probeDevice(path, opts.deviceProbeTimeoutMs ?? 3000, opts.log);
    if (v === undefined) continue;
    const label = v.labels.find((l) => SEED_LABELS.includes(l));
    if (label !== undefined) found.push({ path, format: v.format, label });
    else opts.log.debug({ device: path, format: v.format, labels: v.labels }, 'not labelled cidata');
  }
  return found;
}

/**
 * Device nodes from sysfs: every /sys/class/block entry with a non-zero size. A size of 0 is an
 * empty CD drive or an unattached loop device: opening those would fail (ENOMEDIUM) or block.
 * Floppy drives are left out: probing one without a disk waits for the drive for seconds.
 */
async function scanSysBlock(sysBlockDir: string, devDir: string): Promise<string[]> {
  // sysfs: synchronous reads, which never block there (read-dmi.ts); the devices themselves are
  // probed asynchronously, with a timeout.
  const { readdirSync, readFileSync } = requireFs();
  const read = (path: string, encoding: BufferEncoding, dflt: string): string => {
    try {
      return readFileSync(path, encoding);
    } catch {
      return dflt;
    }
  };
  let names: string[];
  try {
    names = readdirSync(sysBlockDir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names) {
    if (/^fd\d/.test(name)) continue;
    const dir = join(sysBlockDir, name);
    const sectors = Number(read(join(dir, 'size'), 'latin1', '0').trim());
    if (!(sectors > 0)) continue;
    const uevent = read(join(dir, 'uevent'), 'utf8', '');
    const devname = /^DEVNAME=(.+)$/m.exec(uevent)?.[1] ?? name;
    out.push(join(devDir, devname));
  }
  return out;
}

export interface SniffedVolume {
  readonly format: 'iso9660' | 'vfat';
  /** Labels in blkid's order: ISO volume id; FAT root-directory label, then boot-sector label. */
  readonly labels: readonly string[];
}

async function probeDevice(path: string, timeoutMs: number, log: DatasourceLog): Promise<SniffedVolume | undefined> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    log.debug({ device: path, error: (e as NodeJS.ErrnoException).code }, 'cannot stat the device');
    return undefined;
  }
  // Only block devices and image files: a FIFO or a character device could block a read forever.
  if (!st.isBlockDevice() && !st.isFile()) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const r = await Promise.race([sniffDevice(path), timeout]);
    if (r === 'timeout') {
      // The read stays queued in the thread pool; we go on without it.
      log.warn({ device: path, timeoutMs }, 'device did not answer; skipped');
      return undefined;
    }
    return r;
  } catch (e) {
    // ENOMEDIUM (empty drive), EIO, EACCES: not a seed we can read.
    log.debug({ device: path, error: (e as NodeJS.ErrnoException).code ?? String(e) }, 'cannot read the device; skipped');
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

async function sniffDevice(path: string): Promise<SniffedVolume | undefined> {
  // O_NONBLOCK: a CD drive opens without waiting for its tray (Linux cdrom.c needs it).
  const h = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    return await sniffVolumeLabel(async (position, length) => {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await h.read(buf, 0, length, position);
      return buf.subarray(0, bytesRead);
    });
  } finally {
    await h.close();
  }
}

/** Read the file-system type and label from a volume's first sectors. Pure apart from `read`. */
export async function sniffVolumeLabel(read: (position: number, length: number) => Promise<Buffer>): Promise<SniffedVolume | undefined> {
  const head = await read(0, IMAGE_SNIFF_BYTES);
  const kind = sniffImageKind(head);
  if (kind === 'iso9660') return { format: 'iso9660', labels: await isoVolumeIds(head, read) };
  if (kind === 'fat') return { format: 'vfat', labels: await fatLabels(head, read) };
  return undefined;
}

/** ECMA-119 8.4: the primary volume descriptor's volume identifier (a-characters at BP 41-72). */
async function isoVolumeIds(head: Buffer, read: (position: number, length: number) => Promise<Buffer>): Promise<string[]> {
  for (let lba = FIRST_DESCRIPTOR_LBA; lba < FIRST_DESCRIPTOR_LBA + 16; lba++) {
    const sector = lba === FIRST_DESCRIPTOR_LBA ? head.subarray(lba * SECTOR_BYTES) : await read(lba * SECTOR_BYTES, SECTOR_BYTES);
    if (sector.length < 72 || sector.toString('latin1', 1, 6) !== STANDARD_ID) return [];
    const type = sector[0];
    if (type === VD_TERMINATOR) return [];
    if (type === VD_PRIMARY) return [sector.toString('latin1', 40, 72).replace(/[ \0]+$/, '')];
  }
  return [];
}

/**
 * FAT labels as blkid reads them: the volume-label entry of the root directory (attribute 0x08,
 * Microsoft FAT spec "FAT Directory Structure") and the boot sector's BS_VolLab (offset 43 on
 * FAT12/16, 71 on FAT32). mkfs.vfat -n writes both.
 */
async function fatLabels(boot: Buffer, read: (position: number, length: number) => Promise<Buffer>): Promise<string[]> {
  const bytesPerSector = boot.readUInt16LE(11);
  const sectorsPerCluster = boot[13] ?? 0;
  const reserved = boot.readUInt16LE(14);
  const fats = boot[16] ?? 0;
  const rootEntries = boot.readUInt16LE(17);
  const fat16Size = boot.readUInt16LE(22);
  const fat32 = fat16Size === 0;
  const fatSize = fat32 ? boot.readUInt32LE(36) : fat16Size;
  const labels: string[] = [];
  const bootLabel = boot.toString('latin1', fat32 ? 71 : 43, (fat32 ? 71 : 43) + 11).replace(/[ \0]+$/, '');
  const sane = [512, 1024, 2048, 4096].includes(bytesPerSector) && sectorsPerCluster > 0 && (sectorsPerCluster & (sectorsPerCluster - 1)) === 0 && fats > 0;
  if (sane) {
    const dataStart = (reserved + fats * fatSize) * bytesPerSector;
    const rootStart = fat32 ? dataStart + (boot.readUInt32LE(44) - 2) * sectorsPerCluster * bytesPerSector : dataStart;
    const rootBytes = Math.min(fat32 ? sectorsPerCluster * bytesPerSector : rootEntries * 32, 64 * 1024);
    const dir = rootStart >= 0 ? await read(rootStart, rootBytes) : Buffer.alloc(0);
    for (let at = 0; at + 32 <= dir.length; at += 32) {
      const first = dir[at];
      if (first === 0) break;
      const attr = dir[at + 11] ?? 0;
      if (first === 0xe5 || attr === 0x0f || (attr & 0x08) === 0) continue;
      labels.push(dir.toString('latin1', at, at + 11).replace(/[ \0]+$/, ''));
      break;
    }
  }
  if (bootLabel !== '' && bootLabel !== 'NO NAME' && !labels.includes(bootLabel)) labels.push(bootLabel);
  return labels;
}
