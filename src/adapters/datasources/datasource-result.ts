// What every datasource returns and what it logs through. A datasource that finds no trace of
// itself says so with a reason (cloud-init's get_data() returning False); everything else that
// goes wrong is an error from src/lib/errors.ts.
import type { InstanceData } from '../../core/provision/model.js';
import type { BackoffPolicy, RetryClock } from '../../lib/backoff.js';

export type DatasourceResult =
  | { readonly found: true; readonly instance: InstanceData }
  | { readonly found: false; readonly reason: string };

/**
 * The slice of the agent's pino logger the datasources use (adapters do not import src/agent).
 * Objects logged here never carry tokens, credentials or URL queries.
 */
export interface DatasourceLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export function notFound(reason: string): DatasourceResult {
  return { found: false, reason };
}

/** What every datasource that reads over HTTP takes: timeouts, retries, cancellation, the log. */
export interface NetworkReadOptions {
  /** One request, connect to last byte. */
  readonly requestTimeoutMs?: number;
  /** Everything, retries and waits included. */
  readonly totalTimeoutMs?: number;
  readonly retry?: Partial<BackoffPolicy>;
  /** For tests: the retry loop's clock and random source. */
  readonly clock?: RetryClock;
  readonly random?: () => number;
  readonly signal: AbortSignal;
  readonly log: DatasourceLog;
}
