// How a file is cut into S3 multipart-upload parts, within the limits of the S3 User Guide
// ("Amazon S3 multipart upload limits"): parts of 5 MiB to 5 GiB (the last may be smaller), part
// numbers 1 to 10,000, objects up to 5 TiB.
import { InvalidArgument, OutOfRange } from '../../lib/errors.js';

const MiB = 1024 * 1024;
export const S3_MIN_PART_BYTES = 5 * MiB;
export const S3_MAX_PART_BYTES = 5 * 1024 * MiB;
export const S3_MAX_PARTS = 10_000;
export const S3_MAX_OBJECT_BYTES = 5 * 1024 * 1024 * MiB;
export const DEFAULT_PART_BYTES = 16 * MiB;
/** Parts in flight at once: each holds its part in memory, so 4 x 16 MiB by default. */
export const DEFAULT_UPLOAD_CONCURRENCY = 4;

export interface UploadPart {
  /** 1-based, as S3 numbers them. */
  readonly partNumber: number;
  readonly offset: number;
  readonly sizeBytes: number;
}

export interface MultipartPlan {
  readonly sizeBytes: number;
  readonly partSizeBytes: number;
  readonly parts: readonly UploadPart[];
}

/**
 * Parts of `requestedPartBytes` (at least 5 MiB), grown to whole MiB when the file would need more
 * than 10,000 of them.
 */
export function planMultipartUpload(sizeBytes: number, requestedPartBytes: number = DEFAULT_PART_BYTES): MultipartPlan {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) throw new InvalidArgument(`cannot upload ${sizeBytes} bytes: the file is empty`);
  if (sizeBytes > S3_MAX_OBJECT_BYTES) throw new OutOfRange(`${sizeBytes} bytes is over S3's object limit of 5 TiB`);
  if (!Number.isSafeInteger(requestedPartBytes) || requestedPartBytes < S3_MIN_PART_BYTES || requestedPartBytes > S3_MAX_PART_BYTES) {
    throw new InvalidArgument(`part size ${requestedPartBytes} bytes: S3 parts are 5 MiB to 5 GiB`, { subject: '--part-size' });
  }
  let partSizeBytes = requestedPartBytes;
  if (Math.ceil(sizeBytes / partSizeBytes) > S3_MAX_PARTS) partSizeBytes = Math.ceil(sizeBytes / S3_MAX_PARTS / MiB) * MiB;
  const parts: UploadPart[] = [];
  for (let offset = 0, n = 1; offset < sizeBytes; offset += partSizeBytes, n++) {
    parts.push({ partNumber: n, offset, sizeBytes: Math.min(partSizeBytes, sizeBytes - offset) });
  }
  return { sizeBytes, partSizeBytes, parts };
}
