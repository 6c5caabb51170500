// atomic image publish aws DISK --bucket B --region R --name N [--endpoint-url URL] ...
// Publish a raw disk as an AMI the way the VM Import/Export User Guide describes it: upload the
// disk to S3 (multipart), ImportSnapshot (Format RAW), wait for the task, RegisterImage of an
// EBS-backed HVM AMI with ENA, the chosen boot mode and IMDSv2, tags on snapshot and image. Prints
// the AMI ID. The uploaded object is deleted once EC2 has imported it (unless --keep-upload).
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import type { UploadProgress } from '../../adapters/aws/s3-multipart-upload.js';
import { readDiskFormat } from '../../adapters/disk-file/read-disk-format.js';
import { awsPublishSettings, DEFAULT_ROLE_NAME, importSnapshotRequest, registerImageRequest, snapshotTagsRequest } from '../../core/image/aws-publish-requests.js';
import { parseTags } from '../../core/image/aws-tags.js';
import { describeTask, type ImportSnapshotTask } from '../../core/image/import-snapshot-task.js';
import { DEFAULT_PART_BYTES, DEFAULT_UPLOAD_CONCURRENCY, S3_MAX_PART_BYTES, S3_MIN_PART_BYTES } from '../../core/image/multipart-plan.js';
import { AlreadyExists, AtomicError, errorOfCode, InvalidArgument, isAtomicError } from '../../lib/errors.js';
import { withInterrupt } from './host-common.js';

export interface ImagePublishAwsOptions {
  readonly bucket: string;
  readonly region: string;
  readonly name: string;
  readonly endpointUrl?: string;
  readonly s3EndpointUrl?: string;
  readonly ec2EndpointUrl?: string;
  readonly keyPrefix?: string;
  readonly description?: string;
  readonly tag?: string[];
  readonly roleName?: string;
  readonly bootMode?: string;
  readonly architecture?: string;
  readonly partSize?: string;
  readonly concurrency?: string;
  readonly pollInterval?: string;
  readonly importTimeout?: string;
  readonly keepUpload?: boolean;
  readonly json?: boolean;
}

const MiB = 1024 * 1024;
export const DEFAULT_KEY_PREFIX = 'atomic-import/';

export async function run(disk: string, opts: ImagePublishAwsOptions): Promise<void> {
  // The SDK warns on every run that its releases after January 2027 need Node 22: a note for us
  // (package.json pins a release that runs on 20), not for the person publishing an image.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const partSizeBytes = numberOption('--part-size', opts.partSize, DEFAULT_PART_BYTES / MiB, S3_MIN_PART_BYTES / MiB, S3_MAX_PART_BYTES / MiB) * MiB;
  const concurrency = numberOption('--concurrency', opts.concurrency, DEFAULT_UPLOAD_CONCURRENCY, 1, 64);
  const pollIntervalMs = numberOption('--poll-interval', opts.pollInterval, 15, 0.01, 3600) * 1000;
  const importTimeoutMs = numberOption('--import-timeout', opts.importTimeout, 7200, 1, 7 * 86400) * 1000;
  const tags = parseTags(opts.tag ?? []);
  const settings = awsPublishSettings(
    {
      region: opts.region,
      bucket: opts.bucket,
      keyPrefix: opts.keyPrefix ?? DEFAULT_KEY_PREFIX,
      name: opts.name,
      ...(opts.description === undefined ? {} : { description: opts.description }),
      architecture: opts.architecture ?? 'x86_64',
      bootMode: opts.bootMode ?? 'uefi',
      roleName: opts.roleName ?? DEFAULT_ROLE_NAME,
      tags,
    },
    new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z'),
  );

  // EC2 imports the bytes as they are: a qcow2 or VMDK uploaded as RAW gives a volume that starts
  // with the container's header and does not boot. Say so before uploading gigabytes.
  const info = await readDiskFormat(disk);
  if (info.format.format !== 'raw') {
    const what = info.format.format === 'unknown' ? 'has no partition table (neither GPT nor MBR)' : `is a ${info.format.format} image, not a raw disk`;
    throw new InvalidArgument(`${what}; EC2 imports raw disks here: build one with \`atomic image build --format raw\` (or convert: qemu-img convert -O raw)`, { subject: disk });
  }
  if (info.sizeBytes % 512 !== 0) throw new InvalidArgument(`${info.sizeBytes} bytes is not a whole number of 512-byte sectors: not a raw disk`, { subject: disk });
  if (settings.bootMode === 'uefi' && info.format.partitionTable !== 'gpt') {
    throw new InvalidArgument('has an MBR partition table; UEFI boot needs GPT (or pass --boot-mode legacy-bios)', { subject: disk });
  }

  const endpoints = {
    region: settings.region,
    ...endpoint('s3EndpointUrl', opts.s3EndpointUrl ?? opts.endpointUrl),
    ...endpoint('ec2EndpointUrl', opts.ec2EndpointUrl ?? opts.endpointUrl),
  };
  // The SDK is loaded only now: flag and disk errors come without the cost of loading it.
  const [{ createEc2Client, createS3Client }, { createTags, findImageByName, registerImage, startImportSnapshot, waitForImportSnapshot }, { deleteObject, uploadFileMultipart }] =
    await Promise.all([import('../../adapters/aws/aws-clients.js'), import('../../adapters/aws/ec2-image-import.js'), import('../../adapters/aws/s3-multipart-upload.js')]);
  const s3 = createS3Client(endpoints);
  const ec2 = createEc2Client(endpoints);
  const display = new PublishDisplay(process.stderr, basename(disk));
  const s3Url = `s3://${settings.bucket}/${settings.key}`;

  // A failure mid-progress ends the progress line first, so the error starts a line of its own.
  const result = await withInterrupt(async (signal) => {
    // AMI names are unique per account and region: find a clash before the upload, not after it.
    const existing = await findImageByName(ec2, settings.name, signal);
    if (existing !== undefined) throw new AlreadyExists(`an AMI of this name exists already: ${existing}`, { subject: settings.name });

    const upload = await uploadFileMultipart(s3, {
      bucket: settings.bucket, key: settings.key, path: disk, partSizeBytes, concurrency, signal,
      onProgress: (p) => display.upload(p),
      onLeftoverUpload: (uploadId) => process.stderr.write(`atomic: warning: the failed upload ${uploadId} to ${s3Url} could not be aborted; abort it with aws s3api abort-multipart-upload\n`),
    });
    display.uploaded(upload.sizeBytes, upload.partCount, s3Url);

    let snapshot: Extract<ImportSnapshotTask, { state: 'completed' }>;
    let importTaskId: string | undefined;
    try {
      const task = await startImportSnapshot(ec2, importSnapshotRequest(settings, randomUUID()), signal);
      importTaskId = task.importTaskId;
      display.importing(task);
      snapshot = await waitForImportSnapshot(ec2, task, { signal, totalTimeoutMs: importTimeoutMs, pollIntervalMs, onChange: (t) => display.importing(t) });
    } catch (e) {
      display.endLine();
      // A cancelled or timed-out wait leaves the task running in EC2, and it needs the object.
      const taskRuns = importTaskId !== undefined && isAtomicError(e) && (e.code === 'Cancelled' || e.code === 'DeadlineExceeded');
      if (opts.keepUpload !== true && !taskRuns) await deleteObject(s3, settings.bucket, settings.key).catch(() => undefined);
      else process.stderr.write(`atomic: the upload ${s3Url} is kept${importTaskId === undefined ? '' : ` (import task ${importTaskId})`}\n`);
      throw e;
    }
    display.imported(snapshot);
    // Cleanup, not the job: a bucket policy without s3:DeleteObject must not cost the AMI.
    let uploadDeleted = false;
    if (opts.keepUpload !== true) {
      uploadDeleted = await deleteObject(s3, settings.bucket, settings.key, signal).then(() => true, (e: unknown) => {
        if (signal.aborted) throw e;
        process.stderr.write(`atomic: warning: could not delete ${s3Url}: ${e instanceof Error ? e.message : String(e)}\n`);
        return false;
      });
    }

    try {
      const tagRequest = snapshotTagsRequest(settings, snapshot.snapshotId);
      if (tagRequest !== undefined) await createTags(ec2, tagRequest, signal);
      const imageId = await registerImage(ec2, registerImageRequest(settings, snapshot.snapshotId), signal);
      return { imageId, snapshot, upload, uploadDeleted };
    } catch (e) {
      // The snapshot is the expensive part: say it exists so it can be registered by hand.
      throw isAtomicError(e) ? keepSnapshotNote(e, snapshot.snapshotId) : e;
    }
  }).finally(() => display.endLine());

  if (opts.json === true) {
    process.stdout.write(JSON.stringify({
      imageId: result.imageId,
      snapshotId: result.snapshot.snapshotId,
      importTaskId: result.snapshot.importTaskId,
      name: settings.name,
      region: settings.region,
      architecture: settings.architecture,
      bootMode: settings.bootMode,
      upload: { bucket: settings.bucket, key: settings.key, sizeBytes: result.upload.sizeBytes, partCount: result.upload.partCount, deleted: result.uploadDeleted },
      tags: settings.tags,
    }, null, 2) + '\n');
    return;
  }
  process.stdout.write(`${result.imageId}\n`);
}

function endpoint<K extends string>(key: K, url: string | undefined): Partial<Record<K, string>> {
  if (url === undefined) return {};
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgument(`${JSON.stringify(url)} is not a URL`, { subject: key === 's3EndpointUrl' ? '--s3-endpoint-url' : '--ec2-endpoint-url' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new InvalidArgument(`${url}: expected an http(s) URL`, { subject: '--endpoint-url' });
  return { [key]: url } as Partial<Record<K, string>>;
}

function numberOption(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new InvalidArgument(`${JSON.stringify(raw)}: expected a number from ${min} to ${max}`, { subject: flag });
  return n;
}

function keepSnapshotNote(e: AtomicError, snapshotId: string): AtomicError {
  return errorOfCode(e.code, `${e.message} (the imported snapshot ${snapshotId} is kept)`, { ...(e.subject === undefined ? {} : { subject: e.subject }), cause: e, problems: e.problems });
}

/**
 * Progress on stderr: on a terminal one line redrawn in place (percent and MB/s, the import
 * task's status); otherwise only a closing line per phase, so logs stay short.
 */
class PublishDisplay {
  private readonly tty: boolean;
  private readonly startedAt = Date.now();
  private lastDrawAt = 0;
  private lineOpen = false;

  constructor(private readonly out: NodeJS.WriteStream, private readonly diskName: string) {
    this.tty = out.isTTY === true;
  }

  upload(p: UploadProgress): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.lastDrawAt < 200 && p.uploadedBytes < p.totalBytes) return;
    this.lastDrawAt = now;
    const percent = Math.floor((p.uploadedBytes / p.totalBytes) * 100);
    this.draw(`uploading ${this.diskName}: ${percent}% (${mib(p.uploadedBytes)}/${mib(p.totalBytes)} MiB, ${rate(p.uploadedBytes, now - this.startedAt)}, part ${p.partsDone}/${p.partCount})`);
  }

  uploaded(sizeBytes: number, partCount: number, url: string): void {
    const ms = Date.now() - this.startedAt;
    this.line(`uploaded ${this.diskName} to ${url}: ${mib(sizeBytes)} MiB in ${partCount} parts, ${(ms / 1000).toFixed(1)} s, ${rate(sizeBytes, ms)}`);
  }

  importing(task: ImportSnapshotTask): void {
    if (this.tty) this.draw(`importing snapshot (${task.importTaskId}): ${describeTask(task)}`);
  }

  imported(task: Extract<ImportSnapshotTask, { state: 'completed' }>): void {
    this.line(`imported snapshot ${task.snapshotId} (${task.importTaskId})`);
  }

  endLine(): void {
    if (this.lineOpen) this.out.write('\n');
    this.lineOpen = false;
  }

  private draw(text: string): void {
    this.out.write(`\r\x1b[K${text}`);
    this.lineOpen = true;
  }

  private line(text: string): void {
    if (this.tty) this.out.write('\r\x1b[K');
    this.lineOpen = false;
    this.out.write(`${text}\n`);
  }
}

const mib = (bytes: number): string => (bytes / MiB).toFixed(1);
const rate = (bytes: number, ms: number): string => `${ms <= 0 ? '-' : ((bytes / 1e6) / (ms / 1000)).toFixed(1)} MB/s`;
