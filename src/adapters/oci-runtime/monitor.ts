// Starting a container's monitor (native/monitor/atomic-monitor, see the design note at the top of
// atomic-monitor.c) and reading what it leaves: the exit file.
//
// The agent spawns the monitor with one extra descriptor, the sync pipe (fd 3). The monitor
// detaches (double fork + setsid), runs the runtime's `create`, writes {"pid":N,"monitorPid":M}
// or {"error":"..."} to the pipe and closes it; from then on nothing links it to the agent. The
// agent then runs `start` itself, or asks the monitor to (`start`: one process the agent does not
// have to fork). When the container ends the monitor writes the exit file atomically, so "exit
// file present" = "container ended and its output is fully logged" (and, with `cleanupAfterExit`,
// the runtime's container deleted and the rootfs unmounted, as far as that succeeded).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cancelled, DataLoss, DeadlineExceeded, FailedPrecondition, Internal, Unavailable, fromSystemError } from '../../lib/errors.js';
import type { OciRuntime } from './oci-runtime.js';

/** The files of one container's monitor, all in the container's state directory. */
export interface MonitorFiles {
  /** The runtime's --pid-file: the container's init pid. */
  readonly pidFile: string;
  readonly exitFile: string;
  readonly monitorPidFile: string;
  /** For TTY containers: where the runtime sends the pty master (must be < 108 bytes). */
  readonly consoleSocket: string;
  /** The monitor's attach socket (stdin, resize, live terminal output; see monitor-attach.ts); < 108 bytes. */
  readonly attachSocket: string;
}

export function monitorFiles(containerDir: string): MonitorFiles {
  return {
    pidFile: join(containerDir, 'container.pid'),
    exitFile: join(containerDir, 'exit.json'),
    monitorPidFile: join(containerDir, 'monitor.pid'),
    consoleSocket: join(containerDir, 'console.sock'),
    attachSocket: join(containerDir, 'attach.sock'),
  };
}

export interface StartMonitorOptions {
  /** native/monitor/atomic-monitor (built by `npm run build:monitor`). */
  readonly monitorPath: string;
  readonly runtime: OciRuntime;
  readonly id: string;
  /** Absolute path of the bundle (config.json + rootfs). */
  readonly bundle: string;
  readonly files: MonitorFiles;
  /** The json-file log (Docker's <id>-json.log). */
  readonly logPath: string;
  /** --log-opt max-size; 0 or undefined = no rotation. */
  readonly logMaxSizeBytes?: number;
  /** --log-opt max-file (default 1). */
  readonly logMaxFiles?: number;
  readonly tty?: boolean;
  /** Docker's OpenStdin (-i): the container's stdin is a pipe the monitor holds, fed over the attach socket. */
  readonly stdin?: boolean;
  /** Listen on files.attachSocket (for -i and -t containers). */
  readonly attach?: boolean;
  /** The monitor runs the runtime's `start` too: resolves once the container runs. */
  readonly start?: boolean;
  /** After the exit, before the exit file: `delete --force` the runtime's container and unmount `unmountRootfs`. */
  readonly cleanupAfterExit?: boolean;
  /** The bundle's rootfs mount point to unmount after the exit (with cleanupAfterExit). */
  readonly unmountRootfs?: string;
  /** How long the runtime may take to create the container. Default 60 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface MonitorStarted {
  /** The container's init process (host pid namespace). */
  readonly containerPid: number;
  readonly monitorPid: number;
}

interface SyncMessage {
  pid?: number;
  monitorPid?: number;
  error?: string;
  stage?: string;
}

/** Start the monitor; resolves once the container is created (and with `start`, started). */
export function startMonitor(o: StartMonitorOptions): Promise<MonitorStarted> {
  const inv = o.runtime.monitorInvocation();
  const args = [
    '--id', o.id, '--bundle', o.bundle, '--runtime', inv.runtimePath,
    ...inv.globalArgs.flatMap((a) => ['--runtime-arg', a]),
    '--pid-file', o.files.pidFile, '--exit-file', o.files.exitFile, '--monitor-pid-file', o.files.monitorPidFile,
    '--log-path', o.logPath, '--log-max-size', String(o.logMaxSizeBytes ?? 0), '--log-max-file', String(o.logMaxFiles ?? 1),
    '--sync-fd', '3',
    ...(o.tty === true ? ['--tty', '--console-socket', o.files.consoleSocket] : []),
    ...(o.stdin === true && o.tty !== true ? ['--stdin'] : []),
    ...(o.attach === true ? ['--attach-socket', o.files.attachSocket] : []),
    ...(inv.privateUnmount !== undefined ? ['--private-unmount', inv.privateUnmount] : []),
    ...(o.start === true ? ['--start'] : []),
    ...(o.cleanupAfterExit === true ? ['--cleanup', ...(o.unmountRootfs !== undefined ? ['--unmount-rootfs', o.unmountRootfs] : [])] : []),
  ];
  return new Promise((resolve, reject) => {
    // detached: its own session from the start; stdio: nothing of ours but the sync pipe (and
    // stderr until it parsed its arguments, for usage errors).
    const child = spawn(o.monitorPath, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], detached: true });
    const sync = child.stdio[3] as NodeJS.ReadableStream | null;
    let text = '';
    let stderr = '';
    let settled = false;
    const finish = (err: Error | undefined, value?: MonitorStarted): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      child.stderr?.destroy();
      (sync as unknown as { destroy?: () => void } | null)?.destroy?.();
      child.unref();
      if (err !== undefined) reject(err);
      else resolve(value as MonitorStarted);
    };
    const timer = setTimeout(() => finish(new DeadlineExceeded(`container ${o.id}: the monitor did not report within ${o.timeoutMs ?? 60_000} ms`, { subject: o.id })), o.timeoutMs ?? 60_000);
    // Aborting stops waiting; the monitor (already detached) finishes on its own, the caller
    // cleans up with `delete --force`.
    const onAbort = (): void => finish(new Cancelled(`container ${o.id}: start cancelled`, { subject: o.id }));
    if (o.signal?.aborted === true) onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e: NodeJS.ErrnoException) => {
      finish(e.code === 'ENOENT' ? new Unavailable(`${o.monitorPath} is missing: build it with npm run build:monitor`, { cause: e }) : new Internal(`starting ${o.monitorPath}: ${e.message}`, { cause: e }));
    });
    child.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString('utf8');
    });
    child.on('exit', (code) => {
      // The first process exits as soon as it forked; a non-zero status is a usage error.
      if (code !== 0) finish(new Internal(`${o.monitorPath} exited with status ${code ?? '?'}: ${stderr.trim()}`));
    });
    if (sync === null) return finish(new Internal('no sync pipe to the monitor'));
    sync.on('data', (b: Buffer) => {
      text += b.toString('utf8');
    });
    sync.on('end', () => {
      let msg: SyncMessage;
      try {
        msg = JSON.parse(text.trim()) as SyncMessage;
      } catch {
        return finish(new Internal(`container ${o.id}: the monitor ended without a report${stderr.trim() === '' ? '' : `: ${stderr.trim()}`}`, { subject: o.id }));
      }
      if (msg.error !== undefined) {
        // A runtime that refuses the bundle (bad config, missing executable) is the request's
        // problem more often than ours: FailedPrecondition, with the runtime's own words.
        return finish(new FailedPrecondition(`container ${o.id}: ${msg.error}`, { subject: o.id }));
      }
      if (typeof msg.pid !== 'number' || typeof msg.monitorPid !== 'number') return finish(new Internal(`container ${o.id}: malformed monitor report: ${text.trim()}`));
      finish(undefined, { containerPid: msg.pid, monitorPid: msg.monitorPid });
    });
    sync.on('error', () => undefined);
  });
}

/** What the monitor writes when the container's init ends (Docker's State.ExitCode/OOMKilled/FinishedAt). */
export interface ContainerExit {
  readonly id: string;
  readonly pid: number;
  /** The exit status, or 128 + signal number when killed by a signal (Docker's convention). */
  readonly exitCode: number;
  /** The killing signal's number, undefined when the process exited. */
  readonly signal: number | undefined;
  /** The cgroup's OOM killer killed a process of the container while it ran. */
  readonly oomKilled: boolean;
  readonly finishedAt: string;
  readonly monitorPid: number;
}

/** The exit file, or undefined while the container still runs (or the monitor died). */
export async function readExitFile(path: string): Promise<ContainerExit | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fromSystemError(e, path, 'reading the exit file');
  }
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    // Written atomically: a half file means disk corruption, not a race.
    throw new DataLoss(`exit file ${path} is not JSON`, { subject: path, cause: e });
  }
  const num = (k: string): number => (typeof j[k] === 'number' ? (j[k] as number) : 0);
  return {
    id: typeof j.id === 'string' ? j.id : '',
    pid: num('pid'),
    exitCode: num('exitCode'),
    signal: num('signal') > 0 ? num('signal') : undefined,
    oomKilled: j.oomKilled === true,
    finishedAt: typeof j.finishedAt === 'string' ? j.finishedAt : '',
    monitorPid: num('monitorPid'),
  };
}

/** Wait for the exit file (polling: the monitor is not our child, and inotify on one file is no cheaper here). */
export async function waitForExit(path: string, opts: { signal?: AbortSignal; pollMs?: number; timeoutMs?: number } = {}): Promise<ContainerExit> {
  const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
  for (;;) {
    const exit = await readExitFile(path);
    if (exit !== undefined) return exit;
    if (Date.now() > deadline) throw new DeadlineExceeded(`no exit file at ${path} after ${opts.timeoutMs} ms`, { subject: path });
    try {
      await sleep(opts.pollMs ?? 50, undefined, { signal: opts.signal });
    } catch (e) {
      throw new Cancelled(`waiting for ${path} cancelled`, { subject: path, cause: e });
    }
  }
}

/** Whether the monitor of a container is still running (its pid file and /proc). */
export async function monitorAlive(files: MonitorFiles): Promise<boolean> {
  const pid = Number((await readFile(files.monitorPidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return false;
  // A zombie (exited, not yet reaped by init) counts as gone.
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const state = /\) (\S)/.exec(stat)?.[1];
  const cmd = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
  return state !== undefined && state !== 'Z' && state !== 'X' && cmd.trim() === 'atomic-monitor';
}
