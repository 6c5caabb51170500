// Upload a file to S3 as a multipart upload: parts read from the file at their offsets, a bounded
// number in flight, each with Content-MD5, retried on throttling and transient faults. On any
// failure or cancellation the upload is aborted (AbortMultipartUpload), so no parts are left
// behind to be billed (S3 User Guide, "Aborting a multipart upload").
import { open, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { DEFAULT_UPLOAD_CONCURRENCY, planMultipartUpload, type UploadPart } from '../../core/image/multipart-plan.js';
import { abortReason } from '../../lib/backoff.js';
import { DataLoss, fromSystemError } from '../../lib/errors.js';
import { awsCall } from './aws-call.js';

export interface UploadProgress {
  readonly uploadedBytes: number;
  readonly totalBytes: number;
  readonly partsDone: number;
  readonly partCount: number;
}

export interface MultipartUploadOptions {
  readonly bucket: string;
  readonly key: string;
  readonly path: string;
  readonly partSizeBytes?: number;
  /** Parts in flight at once (each holds its part in memory). */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: UploadProgress) => void;
  /** Told when a failed upload could not be aborted either (its parts stay until a lifecycle rule or `aws s3api abort-multipart-upload`). */
  readonly onLeftoverUpload?: (uploadId: string, error: unknown) => void;
}

export interface MultipartUploadResult {
  readonly sizeBytes: number;
  readonly partCount: number;
  readonly partSizeBytes: number;
  readonly etag: string;
}

/** AbortMultipartUpload after a failure gets this long of its own, even when the caller's signal has fired. */
const ABORT_UPLOAD_TIMEOUT_MS = 60_000;

export async function uploadFileMultipart(s3: S3Client, o: MultipartUploadOptions): Promise<MultipartUploadResult> {
  const subject = `s3://${o.bucket}/${o.key}`;
  let fh: FileHandle;
  try {
    fh = await open(o.path, 'r');
  } catch (e) {
    throw fromSystemError(e, o.path, 'opening the disk');
  }
  try {
    const sizeBytes = (await fh.stat()).size;
    const plan = planMultipartUpload(sizeBytes, o.partSizeBytes);
    const created = await awsCall((signal) => s3.send(new CreateMultipartUploadCommand({ Bucket: o.bucket, Key: o.key, ContentType: 'application/octet-stream' }), { abortSignal: signal }), {
      doing: `starting the upload to s3://${o.bucket}`, subject, ...(o.signal === undefined ? {} : { signal: o.signal }),
    });
    const uploadId = created.UploadId;
    if (uploadId === undefined) throw new DataLoss('CreateMultipartUpload answered without an UploadId', { subject });
    try {
      const etags = await uploadParts(s3, fh, plan.parts, uploadId, o, subject, sizeBytes);
      const done = await awsCall(
        (signal) => s3.send(new CompleteMultipartUploadCommand({
          Bucket: o.bucket, Key: o.key, UploadId: uploadId,
          MultipartUpload: { Parts: plan.parts.map((p, i) => ({ PartNumber: p.partNumber, ETag: etags[i] })) },
        }), { abortSignal: signal }),
        { doing: 'completing the upload', subject, ...(o.signal === undefined ? {} : { signal: o.signal }) },
      );
      return { sizeBytes, partCount: plan.parts.length, partSizeBytes: plan.partSizeBytes, etag: done.ETag ?? '' };
    } catch (e) {
      await abortUpload(s3, o.bucket, o.key, uploadId, subject).catch((abortError: unknown) => o.onLeftoverUpload?.(uploadId, abortError));
      throw e;
    }
  } finally {
    await fh.close();
  }
}

async function uploadParts(
  s3: S3Client, fh: FileHandle, parts: readonly UploadPart[], uploadId: string, o: MultipartUploadOptions, subject: string, totalBytes: number,
): Promise<string[]> {
  // The first failure stops the other workers: their requests are aborted, no new part starts.
  const stop = new AbortController();
  const onOuterAbort = (): void => stop.abort(o.signal?.reason);
  if (o.signal?.aborted === true) onOuterAbort();
  else o.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const etags: string[] = new Array<string>(parts.length);
  let doneBytes = 0;
  let partsDone = 0;
  let next = 0;
  let firstError: unknown;
  const report = (): void => o.onProgress?.({ uploadedBytes: doneBytes, totalBytes, partsDone, partCount: parts.length });
  const worker = async (): Promise<void> => {
    while (!stop.signal.aborted && next < parts.length) {
      const index = next++;
      const part = parts[index]!;
      try {
        const body = Buffer.allocUnsafe(part.sizeBytes);
        let got = 0;
        while (got < part.sizeBytes) {
          const { bytesRead } = await fh.read(body, got, part.sizeBytes - got, part.offset + got);
          if (bytesRead === 0) throw new DataLoss(`the disk shrank while it was uploaded (part ${part.partNumber} ends early)`, { subject: o.path });
          got += bytesRead;
        }
        const md5 = createHash('md5').update(body).digest('base64');
        const answer = await awsCall(
          (signal) => s3.send(new UploadPartCommand({ Bucket: o.bucket, Key: o.key, UploadId: uploadId, PartNumber: part.partNumber, Body: body, ContentMD5: md5, ContentLength: part.sizeBytes }), { abortSignal: signal }),
          { doing: `uploading part ${part.partNumber} of ${parts.length}`, subject, signal: stop.signal },
        );
        if (answer.ETag === undefined) throw new DataLoss(`UploadPart ${part.partNumber} answered without an ETag`, { subject });
        etags[index] = answer.ETag;
        doneBytes += part.sizeBytes;
        partsDone++;
        report();
      } catch (e) {
        if (firstError === undefined) firstError = e;
        stop.abort();
        return;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency ?? DEFAULT_UPLOAD_CONCURRENCY, parts.length)) }, () => worker()));
  } finally {
    o.signal?.removeEventListener('abort', onOuterAbort);
  }
  // The caller's cancel is reported as such, not as whichever request it happened to interrupt.
  if (o.signal?.aborted === true) throw abortReason(o.signal, `uploading to ${subject}`);
  if (firstError !== undefined) throw firstError;
  return etags;
}

async function abortUpload(s3: S3Client, bucket: string, key: string, uploadId: string, subject: string): Promise<void> {
  await awsCall((signal) => s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }), { abortSignal: signal }), {
    doing: 'aborting the failed upload', subject, signal: AbortSignal.timeout(ABORT_UPLOAD_TIMEOUT_MS), policy: { maxAttempts: 4 },
  });
}

/** Delete an uploaded object (the import has its own copy now). */
export async function deleteObject(s3: S3Client, bucket: string, key: string, signal?: AbortSignal): Promise<void> {
  await awsCall((sig) => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: sig }), {
    doing: 'deleting the uploaded disk', subject: `s3://${bucket}/${key}`, ...(signal === undefined ? {} : { signal }),
  });
}
