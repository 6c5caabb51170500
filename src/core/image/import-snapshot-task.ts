// An EC2 ImportSnapshot task as we follow it, a tagged union with one transition per target state,
// each allowed only from the states listed in it (the update-agent pattern of shared/DESIGN.md).
// The actor (adapters/aws) polls DescribeImportSnapshotTasks and feeds each SnapshotTaskDetail to
// `observe`. EC2 reports a task as Status "active" with StatusMessage "pending" until the service
// starts on it, then "active" with messages such as "validating" or "converting" and a Progress
// percentage, and finally "completed" with a SnapshotId, or "deleting"/"deleted" with the reason
// in StatusMessage when it failed (VM Import/Export User Guide, "Monitor an import snapshot task").
import { FailedPrecondition, Internal } from '../../lib/errors.js';

export type ImportSnapshotTask =
  | { readonly state: 'pending'; readonly importTaskId: string }
  | { readonly state: 'active'; readonly importTaskId: string; readonly progressPercent?: number; readonly statusMessage?: string }
  | { readonly state: 'completed'; readonly importTaskId: string; readonly snapshotId: string; readonly diskImageSizeBytes?: number }
  | { readonly state: 'failed'; readonly importTaskId: string; readonly status: string; readonly statusMessage: string };

export type ImportSnapshotState = ImportSnapshotTask['state'];

/** The SnapshotTaskDetail fields we read (EC2 API Reference, SnapshotTaskDetail). */
export interface SnapshotTaskDetail {
  readonly Status?: string;
  readonly StatusMessage?: string;
  /** A percentage as a string, e.g. "27". */
  readonly Progress?: string;
  readonly SnapshotId?: string;
  /** Bytes, as a double. */
  readonly DiskImageSize?: number;
}

const FAILED_STATUSES: ReadonlySet<string> = new Set(['deleting', 'deleted', 'error', 'failed', 'cancelled', 'canceled']);

export function submitted(importTaskId: string): ImportSnapshotTask {
  return { state: 'pending', importTaskId };
}

function guard<S extends ImportSnapshotState>(task: ImportSnapshotTask, target: string, from: readonly S[]): asserts task is Extract<ImportSnapshotTask, { state: S }> {
  if (!(from as readonly string[]).includes(task.state)) {
    throw new Internal(`import task ${task.importTaskId}: cannot go from ${task.state} to ${target}`, { subject: task.importTaskId });
  }
}

export function toActive(task: ImportSnapshotTask, progressPercent: number | undefined, statusMessage: string | undefined): ImportSnapshotTask {
  guard(task, 'active', ['pending', 'active']);
  return {
    state: 'active',
    importTaskId: task.importTaskId,
    ...(progressPercent === undefined ? {} : { progressPercent }),
    ...(statusMessage === undefined ? {} : { statusMessage }),
  };
}

export function toCompleted(task: ImportSnapshotTask, snapshotId: string, diskImageSizeBytes?: number): ImportSnapshotTask {
  guard(task, 'completed', ['pending', 'active']);
  return { state: 'completed', importTaskId: task.importTaskId, snapshotId, ...(diskImageSizeBytes === undefined ? {} : { diskImageSizeBytes }) };
}

export function toFailed(task: ImportSnapshotTask, status: string, statusMessage: string): ImportSnapshotTask {
  guard(task, 'failed', ['pending', 'active']);
  return { state: 'failed', importTaskId: task.importTaskId, status, statusMessage };
}

/** Completed and failed tasks change no more. */
export function isFinal(task: ImportSnapshotTask): task is Extract<ImportSnapshotTask, { state: 'completed' | 'failed' }> {
  return task.state === 'completed' || task.state === 'failed';
}

/** Progress "27" -> 27; anything that is not a percentage -> undefined. */
export function parseProgress(progress: string | undefined): number | undefined {
  if (progress === undefined || !/^\d{1,3}(\.\d+)?$/.test(progress.trim())) return undefined;
  const n = Number(progress);
  return n >= 0 && n <= 100 ? n : undefined;
}

/** The next state after a described SnapshotTaskDetail. */
export function observe(task: ImportSnapshotTask, detail: SnapshotTaskDetail): ImportSnapshotTask {
  const status = (detail.Status ?? '').toLowerCase();
  const message = detail.StatusMessage;
  if (status === 'completed') {
    // A completed task without a snapshot is not something to register an image from.
    if (detail.SnapshotId === undefined || detail.SnapshotId === '') return toFailed(task, 'completed', 'the task completed without a SnapshotId');
    return toCompleted(task, detail.SnapshotId, detail.DiskImageSize);
  }
  if (FAILED_STATUSES.has(status)) return toFailed(task, status, message ?? `the import task is ${status}`);
  if ((status === 'active' || status === 'pending') && (message === undefined || message.toLowerCase() === 'pending') && task.state === 'pending') return task;
  // "active", and statuses this code does not know yet: still running (the caller's total timeout bounds the wait).
  return toActive(task, parseProgress(detail.Progress), message);
}

/** The error for a task that ended without a snapshot, with EC2's reason. */
export function importFailure(task: Extract<ImportSnapshotTask, { state: 'failed' }>, subject: string): FailedPrecondition {
  return new FailedPrecondition(`import snapshot task ${task.importTaskId} ${task.status}: ${task.statusMessage}`, { subject });
}

/** One line for a progress display: `active 27% (converting)`. */
export function describeTask(task: ImportSnapshotTask): string {
  switch (task.state) {
    case 'pending':
      return 'pending';
    case 'active':
      return `active${task.progressPercent === undefined ? '' : ` ${task.progressPercent}%`}${task.statusMessage === undefined ? '' : ` (${task.statusMessage})`}`;
    case 'completed':
      return `completed: ${task.snapshotId}`;
    case 'failed':
      return `${task.status}: ${task.statusMessage}`;
  }
}
