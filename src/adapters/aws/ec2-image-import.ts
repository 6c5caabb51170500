// The EC2 side of publishing: ImportSnapshot and following its task to the end, tagging the
// snapshot, RegisterImage, and finding an AMI by name. The requests are built in
// core/image/aws-publish-requests.ts; the task's states are core/image/import-snapshot-task.ts.
import {
  CreateTagsCommand, DescribeImagesCommand, DescribeImportSnapshotTasksCommand, ImportSnapshotCommand, RegisterImageCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import type { CreateTagsRequest, ImportSnapshotRequest, RegisterImageRequest } from '../../core/image/aws-publish-requests.js';
import { importFailure, isFinal, observe, submitted, type ImportSnapshotTask } from '../../core/image/import-snapshot-task.js';
import { abortReason, backoffDelayMs, systemClock, type BackoffPolicy, type RetryClock } from '../../lib/backoff.js';
import { DataLoss, DeadlineExceeded } from '../../lib/errors.js';
import { awsCall } from './aws-call.js';

const withSignal = (signal: AbortSignal | undefined): { signal?: AbortSignal } => (signal === undefined ? {} : { signal });

/** Start the import; the task is pending until DescribeImportSnapshotTasks says more. */
export async function startImportSnapshot(ec2: EC2Client, request: ImportSnapshotRequest, signal?: AbortSignal): Promise<ImportSnapshotTask> {
  const subject = `s3://${request.DiskContainer.UserBucket.S3Bucket}/${request.DiskContainer.UserBucket.S3Key}`;
  const answer = await awsCall((sig) => ec2.send(new ImportSnapshotCommand(request), { abortSignal: sig }), { doing: 'starting the snapshot import', subject, ...withSignal(signal) });
  if (answer.ImportTaskId === undefined) throw new DataLoss('ImportSnapshot answered without an ImportTaskId', { subject });
  const task = submitted(answer.ImportTaskId);
  return answer.SnapshotTaskDetail === undefined ? task : observe(task, answer.SnapshotTaskDetail);
}

export interface WaitForImportOptions {
  readonly signal?: AbortSignal;
  /** Give up (DeadlineExceeded) when the task has not finished after this long. */
  readonly totalTimeoutMs: number;
  /** The first wait between polls; later ones grow to `maxPollIntervalMs`. */
  readonly pollIntervalMs: number;
  readonly maxPollIntervalMs?: number;
  readonly onChange?: (task: ImportSnapshotTask) => void;
  readonly clock?: RetryClock;
}

/**
 * Poll DescribeImportSnapshotTasks until the task completes (its snapshot ID is returned) or fails
 * (FailedPrecondition with EC2's StatusMessage). The wait between polls grows from
 * `pollIntervalMs` to `maxPollIntervalMs`, with jitter; throttled polls are retried by awsCall.
 */
export async function waitForImportSnapshot(ec2: EC2Client, first: ImportSnapshotTask, o: WaitForImportOptions): Promise<Extract<ImportSnapshotTask, { state: 'completed' }>> {
  const clock = o.clock ?? systemClock;
  const deadline = clock.now() + o.totalTimeoutMs;
  const policy: BackoffPolicy = { initialDelayMs: o.pollIntervalMs, maxDelayMs: Math.max(o.pollIntervalMs, o.maxPollIntervalMs ?? 30_000), multiplier: 1.5, maxAttempts: Infinity, jitterRatio: 0.2 };
  let task = first;
  for (let poll = 1; !isFinal(task); poll++) {
    const delayMs = backoffDelayMs(policy, poll, Math.random());
    if (clock.now() + delayMs > deadline) {
      throw new DeadlineExceeded(`import snapshot task ${task.importTaskId} has not finished within ${Math.round(o.totalTimeoutMs / 1000)} s (it goes on in EC2; see aws ec2 describe-import-snapshot-tasks)`, { subject: task.importTaskId });
    }
    try {
      await clock.sleep(delayMs, o.signal);
    } catch (e) {
      if (o.signal?.aborted === true) throw abortReason(o.signal, `waiting for import snapshot task ${task.importTaskId}`);
      throw e;
    }
    const id = task.importTaskId;
    const answer = await awsCall((sig) => ec2.send(new DescribeImportSnapshotTasksCommand({ ImportTaskIds: [id] }), { abortSignal: sig }), {
      doing: `describing import snapshot task ${id}`, subject: id, ...withSignal(o.signal),
    });
    const detail = answer.ImportSnapshotTasks?.find((t) => t.ImportTaskId === id)?.SnapshotTaskDetail;
    if (detail === undefined) throw new DataLoss(`DescribeImportSnapshotTasks did not describe ${id}`, { subject: id });
    const before = task;
    task = observe(task, detail);
    if (task !== before) o.onChange?.(task);
  }
  if (task.state === 'failed') throw importFailure(task, task.importTaskId);
  return task;
}

export async function createTags(ec2: EC2Client, request: CreateTagsRequest, signal?: AbortSignal): Promise<void> {
  await awsCall((sig) => ec2.send(new CreateTagsCommand(request), { abortSignal: sig }), { doing: 'tagging', subject: request.Resources.join(' '), ...withSignal(signal) });
}

/** RegisterImage; the new AMI's ID. */
export async function registerImage(ec2: EC2Client, request: RegisterImageRequest, signal?: AbortSignal): Promise<string> {
  const answer = await awsCall((sig) => ec2.send(new RegisterImageCommand(request), { abortSignal: sig }), { doing: 'registering the image', subject: request.Name, ...withSignal(signal) });
  if (answer.ImageId === undefined) throw new DataLoss('RegisterImage answered without an ImageId', { subject: request.Name });
  return answer.ImageId;
}

/** The ID of our own AMI named `name`, if there is one (AMI names are unique per account and region). */
export async function findImageByName(ec2: EC2Client, name: string, signal?: AbortSignal): Promise<string | undefined> {
  const answer = await awsCall(
    (sig) => ec2.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [name] }] }), { abortSignal: sig }),
    { doing: 'looking for an AMI of that name', subject: name, ...withSignal(signal) },
  );
  return answer.Images?.find((i) => i.Name === name)?.ImageId;
}
