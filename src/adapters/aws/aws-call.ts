// One AWS request with our error taxonomy and our retries: throttling and transient faults are
// retried with exponential backoff and jitter (src/lib/backoff.ts); everything else fails at once.
import { retryWithBackoff, type BackoffPolicy } from '../../lib/backoff.js';
import { isAtomicError } from '../../lib/errors.js';
import { fromAwsError, isTransientAwsError } from './aws-error.js';

/** AWS's guidance for throttled APIs: back off exponentially, give up after a while. */
export const AWS_RETRY_POLICY: BackoffPolicy = Object.freeze({ initialDelayMs: 500, maxDelayMs: 20_000, multiplier: 2, maxAttempts: 8, jitterRatio: 0.5 });

export interface AwsCallOptions {
  /** What the call does, for messages: "uploading part 3". */
  readonly doing: string;
  readonly subject?: string;
  readonly signal?: AbortSignal;
  readonly policy?: Partial<BackoffPolicy>;
}

export async function awsCall<T>(fn: (signal: AbortSignal | undefined) => Promise<T>, o: AwsCallOptions): Promise<T> {
  return retryWithBackoff(
    async () => {
      try {
        return await fn(o.signal);
      } catch (e) {
        // The caller's abort shows up as the SDK's AbortError: report it as the caller's reason.
        if (o.signal?.aborted === true) throw fromAwsError(Object.assign(new Error('aborted'), { name: 'AbortError' }), o.subject, o.doing);
        throw fromAwsError(e, o.subject, o.doing);
      }
    },
    {
      policy: { ...AWS_RETRY_POLICY, ...o.policy },
      retryable: (e) => isAtomicError(e) && isTransientAwsError(e.cause),
      ...(o.signal === undefined ? {} : { signal: o.signal }),
    },
  );
}
