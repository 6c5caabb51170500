// The lifecycle of a container as Docker reports it (State.Status: created, running, paused,
// restarting, removing, exited, dead), as a tagged union. Transitions are named after the target
// state, allowed only from the listed source states, and do no I/O: the engine does the I/O and
// records the outcome through them. What the last run left (StartedAt, FinishedAt, ExitCode,
// OOMKilled, Error) travels with every state, as in Docker's State object.
import { Conflict } from '../../lib/errors.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export const CONTAINER_STATUSES: readonly ContainerStatus[] = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

/** Docker's zero time, what StartedAt/FinishedAt say before the first start/exit. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface RunRecord {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly exitCode: number;
  readonly oomKilled: boolean;
  /** Why the last start failed (Docker's State.Error); '' otherwise. */
  readonly error: string;
}

export interface LiveProcess {
  /** The container's init, host pid namespace. */
  readonly pid: number;
  readonly monitorPid: number;
}

export type ContainerState =
  | { readonly status: 'created'; readonly run: RunRecord }
  | ({ readonly status: 'running' | 'paused'; readonly run: RunRecord } & LiveProcess)
  /** Waiting out the restart backoff after an exit. */
  | { readonly status: 'restarting'; readonly run: RunRecord }
  | { readonly status: 'exited'; readonly run: RunRecord }
  | { readonly status: 'removing'; readonly run: RunRecord }
  | { readonly status: 'dead'; readonly run: RunRecord };

export interface ExitRecord {
  readonly exitCode: number;
  readonly oomKilled: boolean;
  readonly finishedAt: string;
  readonly error?: string;
}

export function createdState(): ContainerState {
  return { status: 'created', run: { startedAt: ZERO_TIME, finishedAt: ZERO_TIME, exitCode: 0, oomKilled: false, error: '' } };
}

function refuse(s: ContainerState, target: ContainerStatus): never {
  throw new Conflict(`container cannot go from ${s.status} to ${target}`, { subject: s.status });
}

function guard(s: ContainerState, target: ContainerStatus, from: readonly ContainerStatus[]): void {
  if (!from.includes(s.status)) refuse(s, target);
}

/** Started (first start, start after exit, or a restart after the backoff). */
export function toRunning(s: ContainerState, p: LiveProcess & { startedAt: string }): ContainerState {
  guard(s, 'running', ['created', 'exited', 'restarting']);
  return { status: 'running', pid: p.pid, monitorPid: p.monitorPid, run: { ...s.run, startedAt: p.startedAt, exitCode: 0, oomKilled: false, error: '' } };
}

/** `docker pause` (the cgroup freezer). */
export function toPaused(s: ContainerState): ContainerState {
  if (s.status !== 'running') refuse(s, 'paused');
  return { ...s, status: 'paused' };
}

/** `docker unpause`: back to running with the same process. */
export function toUnpaused(s: ContainerState): ContainerState {
  if (s.status !== 'paused') refuse(s, 'running');
  return { ...s, status: 'running' };
}

/** The process ended (or a start failed: from created/exited/restarting with `error`) and stays down. */
export function toExited(s: ContainerState, e: ExitRecord): ContainerState {
  guard(s, 'exited', ['running', 'paused', 'restarting', 'created', 'exited']);
  return { status: 'exited', run: { ...s.run, exitCode: e.exitCode, oomKilled: e.oomKilled, finishedAt: e.finishedAt, error: e.error ?? '' } };
}

/** The process ended and the restart policy will start it again after the backoff. */
export function toRestarting(s: ContainerState, e: ExitRecord): ContainerState {
  guard(s, 'restarting', ['running', 'paused']);
  return { status: 'restarting', run: { ...s.run, exitCode: e.exitCode, oomKilled: e.oomKilled, finishedAt: e.finishedAt, error: e.error ?? '' } };
}

/** `docker rm`: from any state without a process (the engine stops a running one first). */
export function toRemoving(s: ContainerState): ContainerState {
  guard(s, 'removing', ['created', 'exited', 'dead', 'restarting']);
  return { status: 'removing', run: s.run };
}

/** Removal failed half-way: the container is unusable and can only be removed. */
export function toDead(s: ContainerState, error: string): ContainerState {
  return { status: 'dead', run: { ...s.run, error } };
}

/** Docker's State.Running: true while a process exists or a restart is pending. */
export function isRunning(s: ContainerState): boolean {
  return s.status === 'running' || s.status === 'paused' || s.status === 'restarting';
}

/** Whether a process of the container exists right now. */
export function hasProcess(s: ContainerState): s is Extract<ContainerState, { status: 'running' | 'paused' }> {
  return s.status === 'running' || s.status === 'paused';
}
