// Docker's restart policies (HostConfig.RestartPolicy: no, on-failure[:N], always, unless-stopped)
// and its restart backoff (moby restartmanager/restartmanager.go): the first restart waits 100 ms,
// each further one twice as long, capped (1 minute in dockerd); a run that lasted long enough (10 s
// in dockerd) resets the delay. The numbers are parameters here so tests can use small values.
import { InvalidArgument } from '../../lib/errors.js';
import type { RestartPolicy } from './container-spec.js';

export type RestartPolicyName = 'no' | 'on-failure' | 'always' | 'unless-stopped';

export interface RestartBackoff {
  /** Delay before the first restart (dockerd: 100 ms). */
  readonly initialDelayMs: number;
  /** No delay grows beyond this (dockerd: 1 minute). */
  readonly maxDelayMs: number;
  /** A run at least this long resets the delay to initialDelayMs (dockerd: 10 s). */
  readonly resetAfterMs: number;
}

export const DOCKER_RESTART_BACKOFF: RestartBackoff = Object.freeze({ initialDelayMs: 100, maxDelayMs: 60_000, resetAfterMs: 10_000 });

/** A policy as stored: the name normalised ('' -> 'no'), the count only for on-failure. */
export interface NormalizedRestartPolicy {
  readonly Name: RestartPolicyName;
  readonly MaximumRetryCount: number;
}

/**
 * Check a HostConfig.RestartPolicy the way dockerd does at create and update
 * (runconfig.validateRestartPolicy): an unknown name, a negative count, or a count with any policy
 * but on-failure are InvalidArgument.
 */
export function normalizeRestartPolicy(p: RestartPolicy | undefined): NormalizedRestartPolicy {
  const name = p?.Name ?? '';
  const count = p?.MaximumRetryCount ?? 0;
  if (!Number.isInteger(count)) throw new InvalidArgument(`invalid restart policy: MaximumRetryCount must be an integer, got ${String(count)}`, { subject: 'RestartPolicy.MaximumRetryCount' });
  switch (name) {
    case '':
    case 'no':
    case 'always':
    case 'unless-stopped':
      if (count !== 0) throw new InvalidArgument(`invalid restart policy: maximum retry count can only be used with 'on-failure'`, { subject: 'RestartPolicy.MaximumRetryCount' });
      return { Name: name === '' ? 'no' : name, MaximumRetryCount: 0 };
    case 'on-failure':
      if (count < 0) throw new InvalidArgument('invalid restart policy: maximum retry count cannot be negative', { subject: 'RestartPolicy.MaximumRetryCount' });
      return { Name: 'on-failure', MaximumRetryCount: count };
    default:
      throw new InvalidArgument(`invalid restart policy: unknown policy '${String(name)}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`, { subject: 'RestartPolicy.Name' });
  }
}

/** `--restart` text: no, always, unless-stopped, on-failure[:N]. */
export function parseRestartPolicy(text: string): NormalizedRestartPolicy {
  const m = /^([a-z-]*)(?::(.*))?$/.exec(text);
  if (m === null) throw new InvalidArgument(`invalid restart policy format "${text}"`, { subject: text });
  const name = m[1] ?? '';
  if (m[2] !== undefined) {
    if (name !== 'on-failure') throw new InvalidArgument(`invalid restart policy format: maximum retry count can only be used with 'on-failure'`, { subject: text });
    if (!/^\d+$/.test(m[2])) throw new InvalidArgument(`invalid restart policy format: maximum retry count must be an integer`, { subject: text });
    return normalizeRestartPolicy({ Name: 'on-failure', MaximumRetryCount: Number(m[2]) });
  }
  return normalizeRestartPolicy({ Name: name as RestartPolicy['Name'] });
}

export interface ExitFacts {
  readonly exitCode: number;
  /** `docker stop` (or rm -f) asked for this exit: Docker's HasBeenManuallyStopped. */
  readonly manuallyStopped: boolean;
  /** Restarts done so far under this policy (State.RestartCount). */
  readonly restartCount: number;
}

/**
 * Whether the container restarts after an exit, the decision of restartmanager.ShouldRestart:
 * always restarts; unless-stopped unless it was stopped by hand; on-failure on a non-zero exit
 * while the count allows (0 = no maximum). The caller cancels restarts of a container being
 * stopped before asking (dockerd's restart manager is cancelled by `stop`), and asks again at
 * agent start-up for containers not running, which is why `always` ignores `manuallyStopped`.
 */
export function shouldRestart(policy: NormalizedRestartPolicy, exit: ExitFacts): boolean {
  switch (policy.Name) {
    case 'no':
      return false;
    case 'always':
      return true;
    case 'unless-stopped':
      return !exit.manuallyStopped;
    case 'on-failure':
      return exit.exitCode !== 0 && (policy.MaximumRetryCount === 0 || exit.restartCount < policy.MaximumRetryCount);
  }
}

/**
 * The delay before the next restart, given the previous one (0 = none yet) and how long the run
 * that just ended lasted: initial after a stable run or at first, then doubling up to the cap.
 */
export function nextRestartDelayMs(previousDelayMs: number, runDurationMs: number, b: RestartBackoff): number {
  if (previousDelayMs <= 0 || runDurationMs >= b.resetAfterMs) return Math.min(b.initialDelayMs, b.maxDelayMs);
  return Math.min(previousDelayMs * 2, b.maxDelayMs);
}

export function checkRestartBackoff(b: RestartBackoff): RestartBackoff {
  for (const k of ['initialDelayMs', 'maxDelayMs', 'resetAfterMs'] as const) {
    if (!Number.isFinite(b[k]) || b[k] < 0) throw new InvalidArgument(`restart backoff ${k} must be a non-negative number, got ${String(b[k])}`, { subject: k });
  }
  if (b.maxDelayMs < b.initialDelayMs) throw new InvalidArgument('restart backoff maxDelayMs must be at least initialDelayMs', { subject: 'maxDelayMs' });
  return b;
}
