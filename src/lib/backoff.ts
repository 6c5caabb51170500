// Bounded retries with exponential backoff and jitter, for talking to metadata services and seed
// servers at boot, when the network may still be coming up. Jitter spreads the retries of a fleet
// booting at once (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015). Pure apart
// from the clock: tests pass a fake clock whose sleep advances time instantly.
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { AtomicError, Cancelled, DeadlineExceeded, errorOfCode } from './errors.js';

export interface BackoffPolicy {
  /** Delay before the first retry, before jitter. */
  readonly initialDelayMs: number;
  /** Upper bound of any one delay, before jitter. */
  readonly maxDelayMs: number;
  /** Each retry waits this many times longer than the one before. */
  readonly multiplier: number;
  /** Attempts in all, the first one included (1 = no retries). */
  readonly maxAttempts: number;
  /** Share of each delay that is random: a delay d becomes a value in [d * (1 - jitterRatio), d]. */
  readonly jitterRatio: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({
  initialDelayMs: 250,
  maxDelayMs: 5000,
  multiplier: 2,
  maxAttempts: 6,
  jitterRatio: 0.5,
});

/**
 * The delay before retry number `retry` (1 = the first retry), given a uniform random number in
 * [0, 1). With `random01` 0 the delay is the full exponential value.
 */
export function backoffDelayMs(policy: BackoffPolicy, retry: number, random01: number): number {
  const exponential = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.max(0, retry - 1));
  const r = Math.min(Math.max(random01, 0), 1);
  return Math.round(exponential * (1 - policy.jitterRatio * r));
}

export interface RetryClock {
  now(): number;
  /** Wait `ms`; rejects when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: RetryClock = Object.freeze({
  now: () => Date.now(),
  sleep: (ms: number, signal?: AbortSignal) => sleepTimer(ms, undefined, signal === undefined ? undefined : { signal }),
});

export interface AttemptContext {
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Time left before the total deadline (Infinity without one); callers cap their request timeouts with it. */
  readonly remainingMs: number;
}

export interface RetryInfo {
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: unknown;
}

export interface RetryOptions {
  readonly policy?: Partial<BackoffPolicy>;
  /** The whole call, sleeps included, gives up once this much time has passed. */
  readonly totalTimeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Whether a failed attempt is worth repeating (a 503 is; a 404 is not). */
  readonly retryable: (e: unknown) => boolean;
  readonly onRetry?: (info: RetryInfo) => void;
  readonly clock?: RetryClock;
  readonly random?: () => number;
}

/** Why the signal aborted, as one of our errors. */
export function abortReason(signal: AbortSignal, what: string): AtomicError {
  const reason: unknown = signal.reason;
  if (reason instanceof AtomicError) return reason;
  // AbortSignal.timeout() aborts with a DOMException named TimeoutError: a deadline, not a cancel.
  if (reason instanceof Error && reason.name === 'TimeoutError') return new DeadlineExceeded(`${what}: the caller's time limit passed`, { cause: reason });
  return new Cancelled(`${what}: cancelled`, { cause: reason });
}

/**
 * Run `fn` until it succeeds, fails with an error that is not retryable, runs out of attempts or
 * the next wait would pass the total deadline. The last error is thrown, keeping its class, with
 * how many attempts were made added to its message.
 */
export async function retryWithBackoff<T>(fn: (ctx: AttemptContext) => Promise<T>, opts: RetryOptions): Promise<T> {
  const policy: BackoffPolicy = { ...DEFAULT_BACKOFF, ...opts.policy };
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? Math.random;
  const deadline = opts.totalTimeoutMs === undefined ? Infinity : clock.now() + opts.totalTimeoutMs;
  for (let attempt = 1; ; attempt++) {
    if (opts.signal !== undefined && isAborted(opts.signal)) throw abortReason(opts.signal, 'retrying');
    try {
      return await fn({ attempt, remainingMs: deadline - clock.now() });
    } catch (e) {
      if ((opts.signal !== undefined && isAborted(opts.signal)) || !opts.retryable(e)) throw e;
      if (attempt >= policy.maxAttempts) throw gaveUp(e, `gave up after ${attempt} attempts`);
      const delayMs = backoffDelayMs(policy, attempt, random());
      if (clock.now() + delayMs >= deadline) {
        throw gaveUp(e, `gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}: the total timeout of ${opts.totalTimeoutMs ?? 0} ms would pass before the next`);
      }
      opts.onRetry?.({ attempt, delayMs, error: e });
      try {
        await clock.sleep(delayMs, opts.signal);
      } catch (sleepError) {
        if (opts.signal !== undefined && isAborted(opts.signal)) throw abortReason(opts.signal, 'retrying');
        throw sleepError;
      }
    }
  }
}

/** A call, so TypeScript does not keep `aborted` narrowed across awaits. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

function gaveUp(e: unknown, note: string): unknown {
  if (!(e instanceof AtomicError)) return e;
  return errorOfCode(e.code, `${e.message} (${note})`, { ...(e.subject === undefined ? {} : { subject: e.subject }), cause: e, problems: e.problems });
}

export interface DeadlineOptions {
  readonly timeoutMs: number;
  /** The caller's signal: its abort (a Cancelled reason) passes through. */
  readonly signal?: AbortSignal;
  /** What would not finish in time, for the message: `reading the NoCloud-net seed`. */
  readonly what: string;
  readonly subject?: string;
}

/**
 * Run `fn` with a signal that aborts when the caller's does or when `timeoutMs` has passed; in the
 * second case its reason is a DeadlineExceeded saying what did not finish, so whatever `fn` is
 * waiting on fails with it. The timer is cleared as soon as `fn` settles.
 */
export async function withDeadline<T>(opts: DeadlineOptions, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const details = opts.subject === undefined ? {} : { subject: opts.subject };
  const onAbort = (): void => controller.abort(abortReason(opts.signal as AbortSignal, opts.what));
  if (opts.signal?.aborted === true) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new DeadlineExceeded(`${opts.what}: not done within the total timeout of ${opts.timeoutMs} ms`, details)), opts.timeoutMs);
  try {
    return await fn(controller.signal);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
