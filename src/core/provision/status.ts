// The provisioning status document: what ran, what was skipped and why, what failed, with which
// user-data part and line. Written after every module so `atomic cloud-init status --wait` can
// follow a run, and kept after it (cloud-init's status.json and result.json, in one file).
import type { Problem } from '../cloud-config/validate.js';
import type { DatasourceName, Frequency, ModuleName, Stage } from './model.js';

export type ModuleState =
  | 'ran'
  /** The module's semaphore says it already ran for this instance (or ever, for `once`). */
  | 'skipped'
  /** Nothing in the config for it. */
  | 'no-config';

export interface ModuleResult {
  readonly name: ModuleName;
  readonly stage: Stage;
  readonly frequency: Frequency;
  readonly state: ModuleState;
  readonly ok: boolean;
  /** One line per failed step or planning problem: `write_files: /etc/x: invalid base64 ...`. */
  readonly failures: readonly string[];
  readonly steps: number;
  readonly durationMs: number;
}

export interface ProvisionStatus {
  readonly version: 1;
  /** running while a pass is under way; done when it finished (ok or not); error when it could not run at all. */
  readonly state: 'running' | 'done' | 'error';
  /** True when every module that ran succeeded and no user-data part was dropped. */
  readonly ok: boolean;
  readonly datasource?: { readonly name: DatasourceName; readonly source: string; readonly instanceId: string };
  /** No datasource was found; `reasons` says what was looked at. */
  readonly noDatasource?: { readonly reasons: readonly string[] };
  /** The instance-id differs from the previous run's (per-instance modules run again). */
  readonly newInstance?: boolean;
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly durationMs?: number;
  readonly modules: readonly ModuleResult[];
  /** Validation problems of user-data, vendor-data and network-config, located. */
  readonly problems: readonly Problem[];
  /** Everything that went wrong, one line each: module failures, dropped parts, fatal errors. */
  readonly errors: readonly string[];
}

export function startedStatus(startedAt: Date): ProvisionStatus {
  return { version: 1, state: 'running', ok: false, startedAt: startedAt.toISOString(), modules: [], problems: [], errors: [] };
}

export function finishedStatus(s: ProvisionStatus, finishedAt: Date, startedMs: number, nowMs: number): ProvisionStatus {
  const failed = s.modules.some((m) => !m.ok) || s.errors.length > 0;
  return { ...s, state: 'done', ok: !failed, finishedAt: finishedAt.toISOString(), durationMs: Math.round(nowMs - startedMs) };
}
