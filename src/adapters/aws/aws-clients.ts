// The S3 and EC2 clients of one publish: the region, optional endpoints (an S3-compatible store, a
// test server), credentials from the SDK's default chain (environment, shared files, SSO, IMDS).
import { S3Client } from '@aws-sdk/client-s3';
import { EC2Client } from '@aws-sdk/client-ec2';

export interface AwsClientOptions {
  readonly region: string;
  /** Like the aws CLI's --endpoint-url, for S3 only. */
  readonly s3EndpointUrl?: string;
  /** Like the aws CLI's --endpoint-url, for EC2 only. */
  readonly ec2EndpointUrl?: string;
}

export function createS3Client(o: AwsClientOptions): S3Client {
  return new S3Client({
    region: o.region,
    // Retries are ours (aws-call.ts), with the backoff policy of src/lib: one place to tune.
    maxAttempts: 1,
    // Content-MD5 on every part instead of the SDK's default CRC32 trailers, which S3-compatible
    // stores (Ceph RGW, Swift's s3api, older MinIO) refuse; AWS S3 checks Content-MD5 too.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(o.s3EndpointUrl === undefined
      ? {}
      : // Custom endpoints get path-style addressing, as botocore does: a local store has no
        // wildcard DNS for BUCKET.host.
        { endpoint: o.s3EndpointUrl, forcePathStyle: true }),
  });
}

export function createEc2Client(o: AwsClientOptions): EC2Client {
  return new EC2Client({ region: o.region, maxAttempts: 1, ...(o.ec2EndpointUrl === undefined ? {} : { endpoint: o.ec2EndpointUrl }) });
}
