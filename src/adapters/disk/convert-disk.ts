// A raw atomic disk in the formats hypervisors and cloud importers take, with qemu-img:
// qcow2 (compressed; QEMU/KVM, OpenStack), VHD (fixed, AWS VM Import and Azure), VMDK
// (streamOptimized, VMware and AWS VM Import) and a vagrant-libvirt box.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { InvalidArgument, fromSystemError } from '../../lib/errors.js';
import type { DiskFormat } from '../../core/image/disk-geometry.js';
import { renderVagrantfile, renderVagrantMetadata } from '../../core/image/vagrant-box.js';
import { asCancelled, type DiskReport } from './assemble-disk.js';
import { describeRawDisk } from './describe-raw-disk.js';
import { requireTools, runDiskTool } from './disk-tool.js';

export interface ConvertDiskOptions {
  readonly rawPath: string;
  readonly format: Exclude<DiskFormat, 'raw'>;
  readonly outPath: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (step: string) => void;
  /** SOURCE_DATE_EPOCH: the mtime of the files in a vagrant box. */
  readonly sourceDateEpoch?: number;
}

/** qemu-img's name of each format and the options cloud importers expect. */
const QEMU_FORMATS: Readonly<Record<'qcow2' | 'vhd' | 'vmdk', { readonly name: string; readonly args: readonly string[] }>> = {
  qcow2: { name: 'qcow2', args: ['-c'] },
  // AWS VM Import and Azure take fixed VHDs whose size is a whole MiB; force_size keeps the raw
  // size exactly instead of rounding to VHD's CHS geometry. A fixed VHD is the raw bytes plus a
  // 512-byte footer, so qemu-img probes it as raw: readers must say -f vpc.
  vhd: { name: 'vpc', args: ['-o', 'subformat=fixed,force_size=on'] },
  // streamOptimized is the compressed single-file form VMware's OVF tools and AWS VM Import take.
  vmdk: { name: 'vmdk', args: ['-o', 'subformat=streamOptimized'] },
};

export async function convertDisk(opts: ConvertDiskOptions): Promise<DiskReport> {
  const { format, signal, outPath } = opts;
  if (!['qcow2', 'vhd', 'vmdk', 'vagrant-libvirt'].includes(format)) {
    throw new InvalidArgument(`format ${JSON.stringify(format)}: expected qcow2, vhd, vmdk or vagrant-libvirt`, { subject: 'format' });
  }
  requireTools(format === 'vagrant-libvirt' ? ['qemu-img', 'sfdisk', 'tar'] : ['qemu-img', 'sfdisk']);
  const raw = await describeRawDisk(opts.rawPath, signal);
  const outDir = dirname(outPath);
  try {
    if (!(await stat(outDir)).isDirectory()) throw new InvalidArgument(`output directory ${outDir} is not a directory`, { subject: outPath });
  } catch (e) {
    throw fromSystemError(e, outPath, `output directory ${outDir}`);
  }
  const tag = randomBytes(6).toString('hex');
  const tmp = join(outDir, `.${basename(outPath)}.${tag}.tmp`);
  const work = join(outDir, `.${basename(outPath)}.${tag}.work`);
  opts.onProgress?.('converting');
  try {
    let virtualSizeBytes: number;
    if (format === 'vagrant-libvirt') {
      await mkdir(work);
      await writeVagrantBox(opts.rawPath, work, tmp, raw.arch, raw.sizeBytes, opts.sourceDateEpoch, signal);
      virtualSizeBytes = raw.sizeBytes;
    } else {
      const q = QEMU_FORMATS[format];
      await runDiskTool('qemu-img', ['convert', '-q', '-f', 'raw', '-O', q.name, ...q.args, opts.rawPath, tmp], { signal });
      virtualSizeBytes = await qemuVirtualSize(tmp, q.name, signal);
    }
    const st = await stat(tmp);
    await rename(tmp, outPath);
    return {
      path: outPath,
      format,
      arch: raw.arch,
      virtualSizeBytes,
      fileSizeBytes: st.size,
      allocatedBytes: st.blocks * 512,
      diskGuid: raw.diskGuid,
      partitions: raw.partitions,
    };
  } catch (e) {
    await rm(tmp, { force: true });
    throw asCancelled(e, signal) ?? fromSystemError(e, outPath, `writing the ${format} image`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function qemuVirtualSize(path: string, qemuFormat: string, signal: AbortSignal | undefined): Promise<number> {
  const info = JSON.parse(await runDiskTool('qemu-img', ['info', '--output=json', '-f', qemuFormat, path], { signal })) as { 'virtual-size': number };
  return info['virtual-size'];
}

/**
 * vagrant-libvirt's box format: a gzipped tar of metadata.json, Vagrantfile and box.img (qcow2).
 * box.img is left uncompressed inside (the tar is gzipped anyway, and libvirt then runs from an
 * image whose clusters need no inflating).
 */
async function writeVagrantBox(rawPath: string, work: string, out: string, arch: 'x86_64' | 'aarch64', sizeBytes: number, epoch: number | undefined, signal: AbortSignal | undefined): Promise<void> {
  await runDiskTool('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', rawPath, join(work, 'box.img')], { signal });
  await writeFile(join(work, 'metadata.json'), renderVagrantMetadata(sizeBytes));
  await writeFile(join(work, 'Vagrantfile'), renderVagrantfile(arch));
  const gzip = createGzip();
  const file = createWriteStream(out, { flags: 'wx' });
  gzip.pipe(file);
  const done = finished(file);
  try {
    // metadata.json first: vagrant reads it before the large image. Owners and mtimes are fixed so
    // the same disk and SOURCE_DATE_EPOCH give the same box.
    await runDiskTool('tar', [
      '--create', '--file=-', '--format=gnu', '--owner=0', '--group=0', '--numeric-owner', '--mode=0644',
      `--mtime=@${epoch ?? Math.floor(Date.now() / 1000)}`, '-C', work, 'metadata.json', 'Vagrantfile', 'box.img',
    ], { stdoutTo: gzip, signal });
    gzip.end();
    await done;
  } catch (e) {
    gzip.destroy();
    file.destroy();
    await done.catch(() => undefined);
    throw e;
  }
}
