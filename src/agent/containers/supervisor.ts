// Supervision of containers that are not our children: each container's monitor
// (native/monitor/atomic-monitor) is detached from the agent and writes an exit file when the
// container ends. ExitWatcher polls those files (the monitor is not our child, so there is no
// SIGCHLD; polling one small file per running container is cheap and also works for monitors
// started by an earlier agent process), and now and then checks that each monitor is still alive,
// so a monitor killed without writing its file is noticed too. RestartScheduler holds the
// in-memory part of Docker's restart manager: the current backoff delay of each container and
// the pending restart timers.
import { monitorAlive, readExitFile, type ContainerExit, type MonitorFiles } from '../../adapters/oci-runtime/monitor.js';
import { nextRestartDelayMs, type RestartBackoff } from '../../core/containers/restart-policy.js';

/** How a watched container ended: its exit file, or its monitor vanished without one. */
export type WatchedExit = { readonly kind: 'exit-file'; readonly exit: ContainerExit } | { readonly kind: 'monitor-gone' };

export interface ExitWatcherOptions {
  readonly pollMs: number;
  /** Check that monitors live every this many polls. */
  readonly livenessEvery?: number;
  readonly filesOf: (id: string) => MonitorFiles;
  /** Called once per exit; the watcher has already stopped watching `id`. */
  readonly onExit: (id: string, how: WatchedExit) => Promise<void>;
  readonly onError: (id: string, e: unknown) => void;
}

export class ExitWatcher {
  private readonly watched = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private polls = 0;
  private busy = false;
  private closed = false;

  constructor(private readonly o: ExitWatcherOptions) {}

  watch(id: string): void {
    if (this.closed) return;
    this.watched.add(id);
    this.timer ??= setInterval(() => void this.poll(), this.o.pollMs);
  }

  unwatch(id: string): void {
    this.watched.delete(id);
  }

  isWatching(id: string): boolean {
    return this.watched.has(id);
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const checkLiveness = ++this.polls % (this.o.livenessEvery ?? 20) === 0;
      for (const id of [...this.watched]) {
        if (this.closed) return;
        try {
          const files = this.o.filesOf(id);
          let how: WatchedExit | undefined;
          const exit = await readExitFile(files.exitFile);
          if (exit !== undefined) how = { kind: 'exit-file', exit };
          else if (checkLiveness && !(await monitorAlive(files))) {
            // The monitor writes the exit file before it exits: read once more to close the race.
            const late = await readExitFile(files.exitFile);
            how = late !== undefined ? { kind: 'exit-file', exit: late } : { kind: 'monitor-gone' };
          }
          if (how === undefined || !this.watched.has(id)) continue;
          this.watched.delete(id);
          void this.o.onExit(id, how).catch((e: unknown) => this.o.onError(id, e));
        } catch (e) {
          this.o.onError(id, e);
        }
      }
      if (this.watched.size === 0 && this.timer !== undefined) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    } finally {
      this.busy = false;
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.watched.clear();
  }
}

export class RestartScheduler {
  private readonly delays = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly backoff: RestartBackoff) {}

  /** Arm the restart of `id` after its backoff delay; returns the delay. */
  schedule(id: string, runDurationMs: number, restart: () => void): number {
    this.cancel(id);
    const delay = nextRestartDelayMs(this.delays.get(id) ?? 0, runDurationMs, this.backoff);
    this.delays.set(id, delay);
    this.timers.set(id, setTimeout(() => {
      this.timers.delete(id);
      restart();
    }, delay));
    return delay;
  }

  isPending(id: string): boolean {
    return this.timers.has(id);
  }

  /** Drop a pending restart (stop, remove); the delay is kept for the next exit. */
  cancel(id: string): void {
    const t = this.timers.get(id);
    if (t !== undefined) clearTimeout(t);
    this.timers.delete(id);
  }

  /** A manual start begins a new series (dockerd creates a new restart manager). */
  reset(id: string): void {
    this.cancel(id);
    this.delays.delete(id);
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
