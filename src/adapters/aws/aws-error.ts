// AWS SDK errors into the closed taxonomy of src/lib/errors.ts, by the service's error code (the
// SDK puts it in `name`), never by message text. Codes: Amazon S3 API Reference "Error responses"
// and Amazon EC2 API Reference "Error codes". Throttling and transient service or network faults
// are told apart so the caller retries those and nothing else.
import {
  AlreadyExists, AtomicError, Cancelled, DeadlineExceeded, FailedPrecondition, Internal, InvalidArgument, NotFound, PermissionDenied,
  ResourceExhausted, Unavailable,
} from '../../lib/errors.js';

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

const PERMISSION = new Set([
  'AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthFailure', 'InvalidAccessKeyId', 'SignatureDoesNotMatch',
  'InvalidClientTokenId', 'ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'OptInRequired', 'Blocked', 'AllAccessDisabled',
  'InvalidToken', 'CredentialsProviderError', 'TokenProviderError',
]);
const NOT_FOUND = new Set([
  'NoSuchBucket', 'NoSuchKey', 'NoSuchUpload', 'NotFound', 'InvalidAMIID.NotFound', 'InvalidSnapshot.NotFound', 'InvalidConversionTaskId',
  'InvalidConversionTaskId.NotFound', 'InvalidRole', 'NoSuchEntity',
]);
const INVALID = new Set([
  'InvalidParameterValue', 'InvalidParameter', 'InvalidParameterCombination', 'MissingParameter', 'UnknownParameter', 'InvalidAMIName.Malformed',
  'InvalidBucketName', 'EntityTooSmall', 'EntityTooLarge', 'InvalidPart', 'InvalidPartOrder', 'MalformedXML', 'InvalidArgument', 'InvalidRequest',
  'InvalidDigest', 'BadDigest', 'KeyTooLongError', 'InvalidBlockDeviceMapping', 'InvalidSnapshotID.Malformed', 'InvalidAMIID.Malformed',
  'ValidationError', 'InvalidAction', 'InvalidRegion', 'PermanentRedirect', 'AuthorizationHeaderMalformed',
]);
const ALREADY_EXISTS = new Set(['InvalidAMIName.Duplicate', 'BucketAlreadyExists', 'BucketAlreadyOwnedByYou']);
const THROTTLING = new Set([
  'Throttling', 'ThrottlingException', 'ThrottledException', 'RequestThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded',
  'SlowDown', 'RequestThrottled', 'EC2ThrottledException', 'BandwidthLimitExceeded', 'PriorRequestNotComplete',
]);
const QUOTA = new Set(['ResourceLimitExceeded', 'SnapshotLimitExceeded', 'MaxIOPSLimitExceeded', 'VolumeLimitExceeded', 'AMIQuotaExceeded', 'TooManyBuckets']);
const TRANSIENT = new Set([
  'InternalError', 'InternalFailure', 'ServiceUnavailable', 'Unavailable', 'ServiceUnavailableException', 'RequestTimeout', 'RequestTimeoutException',
  'InsufficientInstanceCapacity', 'TimeoutError', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH',
  'ENETUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET',
]);

function shape(e: unknown): SdkErrorShape {
  return typeof e === 'object' && e !== null ? (e as SdkErrorShape) : {};
}

/** The service's error code, or the socket's errno code for network errors. */
export function awsErrorCode(e: unknown): string {
  const s = shape(e);
  if (typeof s.code === 'string' && /^E[A-Z]+$|^UND_ERR_/.test(s.code)) return s.code;
  return s.name ?? 'Error';
}

/** Throttling, a 5xx, or the connection failing: worth trying again after a while. */
export function isTransientAwsError(e: unknown): boolean {
  const s = shape(e);
  const code = awsErrorCode(e);
  if (code === 'AbortError') return false;
  if (THROTTLING.has(code) || TRANSIENT.has(code) || s.$retryable?.throttling === true) return true;
  const status = s.$metadata?.httpStatusCode;
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/**
 * One of our errors for a failed AWS call. `doing` says what we were doing ("uploading part 3"),
 * `subject` what it was about (s3://bucket/key, the AMI name).
 */
export function fromAwsError(e: unknown, subject: string | undefined, doing: string): AtomicError {
  if (e instanceof AtomicError) return e;
  const s = shape(e);
  const code = awsErrorCode(e);
  const status = s.$metadata?.httpStatusCode;
  const text = (s.message ?? '').trim();
  const message = `${doing}: ${code}${text !== '' && text !== code ? `: ${text}` : ''}`;
  const details = { ...(subject === undefined ? {} : { subject }), cause: e };
  if (code === 'AbortError') return new Cancelled(`${doing}: cancelled`, details);
  if (code === 'CredentialsProviderError') {
    return new PermissionDenied(`${doing}: no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)`, details);
  }
  if (PERMISSION.has(code) || status === 403) return new PermissionDenied(message, details);
  if (NOT_FOUND.has(code) || code.endsWith('.NotFound') || status === 404) return new NotFound(message, details);
  if (ALREADY_EXISTS.has(code) || code.endsWith('.Duplicate')) return new AlreadyExists(message, details);
  if (THROTTLING.has(code) || s.$retryable?.throttling === true || status === 429) return new ResourceExhausted(message, details);
  if (QUOTA.has(code) || code.endsWith('LimitExceeded')) return new ResourceExhausted(message, details);
  if (code === 'TimeoutError' || code === 'ETIMEDOUT') return new DeadlineExceeded(message, details);
  if (TRANSIENT.has(code) || (status !== undefined && status >= 500)) return new Unavailable(message, details);
  if (INVALID.has(code) || code.startsWith('Invalid') || code.endsWith('.Malformed')) return new InvalidArgument(message, details);
  if (code === 'IncorrectState' || code.startsWith('IncorrectState') || code === 'OperationAborted') return new FailedPrecondition(message, details);
  if (status !== undefined && status >= 400 && status < 500) return new InvalidArgument(message, details);
  return new Internal(message, details);
}
