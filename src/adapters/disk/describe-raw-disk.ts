// What a raw atomic disk holds, read back from the disk itself: the GPT as sfdisk reads it, the
// filesystem labels from the superblocks, and the architecture from the DPS root partition type.
// Reports are built from this, so they say what is on the disk, not what we meant to write.
import { open, stat } from 'node:fs/promises';
import { Cancelled, InvalidArgument, fromSystemError } from '../../lib/errors.js';
import { ROOT_TYPE_GUIDS, SECTOR_BYTES, type DiskArch } from '../../core/image/disk-geometry.js';
import { runDiskTool } from './disk-tool.js';

export interface DiskPartition {
  /** GPT partition name (PARTLABEL). */
  readonly name: string;
  readonly typeGuid: string;
  readonly uuid: string;
  readonly startSector: number;
  readonly sectors: number;
  /** Filesystem label (ext4 volume name, FAT volume label), '' when none or not recognised. */
  readonly label: string;
  /** GPT attribute flags as sfdisk prints them ("GUID:59"), '' when none. */
  readonly attributes: string;
}

export interface RawDiskDescription {
  readonly arch: DiskArch;
  readonly sizeBytes: number;
  readonly diskGuid: string;
  readonly partitions: readonly DiskPartition[];
}

interface SfdiskJson {
  partitiontable?: { label?: string; id?: string; sectorsize?: number; partitions?: { start: number; size: number; type: string; uuid?: string; name?: string; attrs?: string }[] };
}

export async function describeRawDisk(rawPath: string, signal?: AbortSignal): Promise<RawDiskDescription> {
  let sizeBytes: number;
  try {
    const st = await stat(rawPath);
    if (!st.isFile()) throw new InvalidArgument('not a regular file', { subject: rawPath });
    sizeBytes = st.size;
  } catch (e) {
    throw fromSystemError(e, rawPath, 'reading the raw disk');
  }
  let table: SfdiskJson['partitiontable'];
  try {
    table = (JSON.parse(await runDiskTool('sfdisk', ['--json', rawPath], { signal })) as SfdiskJson).partitiontable;
  } catch (e) {
    if (e instanceof Cancelled) throw e;
    throw new InvalidArgument('not a partitioned disk image (sfdisk cannot read a partition table)', { subject: rawPath, cause: e });
  }
  if (table?.label !== 'gpt' || table.partitions === undefined) throw new InvalidArgument('not a GPT disk image', { subject: rawPath });
  const sectorBytes = table.sectorsize ?? SECTOR_BYTES;
  const fh = await open(rawPath, 'r');
  try {
    const partitions: DiskPartition[] = [];
    for (const p of table.partitions) {
      partitions.push({
        name: p.name ?? '',
        typeGuid: p.type.toUpperCase(),
        uuid: (p.uuid ?? '').toUpperCase(),
        startSector: p.start,
        sectors: p.size,
        label: await filesystemLabel(fh, p.start * sectorBytes),
        attributes: p.attrs ?? '',
      });
    }
    const arch = (Object.keys(ROOT_TYPE_GUIDS) as DiskArch[]).find((a) => partitions.some((p) => p.typeGuid === ROOT_TYPE_GUIDS[a]));
    if (arch === undefined) throw new InvalidArgument('not an atomic disk image: no Discoverable Partitions root partition for x86_64 or aarch64', { subject: rawPath });
    return { arch, sizeBytes, diskGuid: (table.id ?? '').toUpperCase(), partitions };
  } finally {
    await fh.close();
  }
}

type Reader = { read(buf: Buffer, off: number, len: number, pos: number): Promise<{ bytesRead: number }> };

async function filesystemLabel(fh: Reader, offset: number): Promise<string> {
  const buf = Buffer.alloc(2048);
  await fh.read(buf, 0, buf.length, offset);
  // ext2/3/4 superblock at +1024: s_magic 0xEF53 at +56, s_volume_name[16] at +120.
  if (buf.readUInt16LE(1024 + 56) === 0xef53) return cString(buf.subarray(1024 + 120, 1024 + 136));
  // FAT boot sector (Microsoft FAT specification): BS_VolLab[11] at 43 (FAT12/16) or 71 (FAT32),
  // identified by BS_FilSysType at 54 or 82.
  if (buf.readUInt16LE(510) === 0xaa55) {
    if (buf.toString('latin1', 82, 87) === 'FAT32') return buf.toString('latin1', 71, 82).trimEnd();
    if (buf.toString('latin1', 54, 57) === 'FAT') return buf.toString('latin1', 43, 54).trimEnd();
  }
  return '';
}

function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul < 0 ? b.length : nul);
}
