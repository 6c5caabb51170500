// Supervision of containers that are not our children: each container's monitor
// (native/monitor/atomic-monitor) is detached from the agent and writes an exit file when the
// container ends. The monitor is not our child, so there is no SIGCHLD: ExitWatcher watches each
// container's directory with inotify (fs.watch) and reads the exit file as soon as it is renamed
// into place, so an exit is seen within moments rather than up to one poll interval later. The
// poll stays as the fallback (an inotify watch that could not be added, an event lost to queue
// overflow) and now and then checks that each monitor is still alive, so a monitor killed
// without writing its file is noticed too; both work for monitors started by an earlier agent
// process. RestartScheduler holds the in-memory part of Docker's restart manager: the current
// backoff delay of each container and the pending restart timers.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
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
  /** Watched ids, each with the inotify watch on its directory (undefined: poll only). */
  private readonly watched = new Map<string, FSWatcher | undefined>();
  private timer: NodeJS.Timeout | undefined;
  private polls = 0;
  private busy = false;
  private closed = false;

  constructor(private readonly o: ExitWatcherOptions) {}

  watch(id: string): void {
    if (this.closed || this.watched.has(id)) return;
    this.watched.set(id, this.notifier(id));
    this.timer ??= setInterval(() => void this.poll(), this.o.pollMs);
    // An exit that happened before the watch was added sent no event: look once now.
    void this.check(id, false).catch((e: unknown) => this.o.onError(id, e));
  }

  unwatch(id: string): void {
    this.watched.get(id)?.close();
    this.watched.delete(id);
  }

  isWatching(id: string): boolean {
    return this.watched.has(id);
  }

  /**
   * An inotify watch on the directory of `id`'s exit file: the monitor renames the file into
   * place (write temp, rename), which the directory watch reports under the file's name. Undefined
   * when the watch cannot be added (inotify limits): the poll still finds the exit.
   */
  private notifier(id: string): FSWatcher | undefined {
    const exitFile = this.o.filesOf(id).exitFile;
    const name = basename(exitFile);
    try {
      // persistent: false: watching never keeps the agent alive on its own (the poll timer does not either once unwatched).
      const w = watch(dirname(exitFile), { persistent: false }, (_event, file) => {
        if (file === name) void this.check(id, false).catch((e: unknown) => this.o.onError(id, e));
      });
      w.on('error', () => {
        // The directory went away or the watch broke: drop it, the poll carries on.
        w.close();
        if (this.watched.get(id) === w) this.watched.set(id, undefined);
      });
      return w;
    } catch {
      return undefined;
    }
  }

  /** Read `id`'s exit file (and with `checkLiveness` its monitor); hand a found exit to onExit once. */
  private async check(id: string, checkLiveness: boolean): Promise<void> {
    if (!this.watched.has(id)) return;
    const files = this.o.filesOf(id);
    let how: WatchedExit | undefined;
    const exit = await readExitFile(files.exitFile);
    if (exit !== undefined) how = { kind: 'exit-file', exit };
    else if (checkLiveness && !(await monitorAlive(files))) {
      // The monitor writes the exit file before it exits: read once more to close the race.
      const late = await readExitFile(files.exitFile);
      how = late !== undefined ? { kind: 'exit-file', exit: late } : { kind: 'monitor-gone' };
    }
    // Checked again after the reads: the poll and an inotify event may race to the same exit.
    if (how === undefined || !this.watched.has(id) || this.closed) return;
    this.unwatch(id);
    void this.o.onExit(id, how).catch((e: unknown) => this.o.onError(id, e));
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const checkLiveness = ++this.polls % (this.o.livenessEvery ?? 20) === 0;
      for (const [id, notifier] of [...this.watched.entries()]) {
        if (this.closed) return;
        // A container with an inotify watch is read only on the liveness rounds (a lost event is
        // still caught there); every round would read each exit file ten times a second.
        if (notifier !== undefined && !checkLiveness) continue;
        try {
          await this.check(id, checkLiveness);
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
    for (const w of this.watched.values()) w?.close();
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
