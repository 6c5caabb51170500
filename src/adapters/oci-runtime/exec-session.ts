// An attached `docker exec`: the process's stdin, output and (with a terminal) window size, while
// it runs.
//
// Exec processes are the agent's business, not the monitor's: they need not outlive the agent
// (dockerd's end with their attach too), so no detached process holds their stdio.
//   * Without a terminal the runtime's `exec` runs as the agent's child with pipes for stdio
//     (OciRuntime.spawnExec): nothing else is needed.
//   * With a terminal the runtime hands the pty master over a console socket (SCM_RIGHTS), which
//     Node cannot receive; the monitor binary's exec relay mode (`atomic-monitor --exec-process`)
//     receives it, relays it over its stdio (the attach socket's frames in, raw output out) and, as
//     the child subreaper the detached process is re-parented to, reports the exit status.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { OciProcess } from '../../core/containers/oci-spec.js';
import { ociSpecJson } from '../../core/containers/oci-spec.js';
import { FailedPrecondition, Internal, Unavailable } from '../../lib/errors.js';
import { encodeAttachFrame, resizeFrame, writeStdinFrames } from './monitor-attach.js';
import type { OciRuntime } from './oci-runtime.js';
import { runtimeMessage } from './runtime-cli.js';

/** The relay quotes the runtime's stderr, JSON log lines with --log-format=json: their messages. */
function readableError(text: string): string {
  const m = /^([^{]*?): (\{.*\})\s*$/s.exec(text);
  return m === null ? text : `${m[1] ?? ''}: ${runtimeMessage(m[2] ?? '')}`;
}

export interface ExecExit {
  readonly exitCode: number;
  /** The runtime could not start the process: its message. */
  readonly error?: string;
}

export interface ExecSession {
  readonly tty: boolean;
  /** The terminal's output (tty), or the process's stdout. */
  readonly stdout: Readable;
  /** undefined with a terminal (one stream). */
  readonly stderr: Readable | undefined;
  writeStdin(chunk: Buffer): Promise<void>;
  /** The process's stdin gets its end of file (with a terminal: nothing, as dockerd does). */
  endStdin(): void;
  resize(rows: number, cols: number): void;
  /** The process's pid in the host's pid namespace (GET /exec/{id}/json's Pid); undefined if it ended before it was known. */
  readonly pid: Promise<number | undefined>;
  readonly exit: Promise<ExecExit>;
}

/** A non-TTY exec over pipes. */
export async function startPipedExec(runtime: OciRuntime, id: string, proc: OciProcess): Promise<ExecSession> {
  const p = await runtime.spawnExec(id, proc);
  return {
    tty: false,
    stdout: p.stdout,
    stderr: p.stderr,
    writeStdin: async (chunk) => {
      if (p.stdin.destroyed || p.stdin.writableEnded) return;
      if (!p.stdin.write(chunk)) await new Promise<void>((resolve) => {
        p.stdin.once('drain', resolve);
        p.stdin.once('close', resolve);
      });
    },
    endStdin: () => void p.stdin.end(),
    resize: () => undefined,
    pid: p.pid,
    exit: p.exit,
  };
}

export interface TtyExecOptions {
  readonly monitorPath: string;
  readonly runtime: OciRuntime;
  readonly id: string;
  readonly process: OciProcess;
  /** Where the runtime sends the pty master: must fit in sockaddr_un (< 108 bytes). */
  readonly consoleSocket: string;
  /** A directory for the process.json and the pid file (removed when the process ends). */
  readonly workParent: string;
}

/** A TTY exec through the monitor's relay; resolves once the process runs. */
export async function startTtyExec(o: TtyExecOptions): Promise<ExecSession> {
  const tmp = await mkdtemp(join(o.workParent, '.exec-tty-'));
  const processFile = join(tmp, 'process.json');
  await writeFile(processFile, ociSpecJson({ ...o.process, terminal: true }));
  const inv = o.runtime.monitorInvocation();
  const args = [
    '--exec-process', processFile, '--id', o.id, '--runtime', inv.runtimePath, ...inv.globalArgs.flatMap((a) => ['--runtime-arg', a]),
    '--pid-file', join(tmp, 'exec.pid'), '--console-socket', o.consoleSocket, '--sync-fd', '3',
    ...(inv.privateUnmount !== undefined ? ['--private-unmount', inv.privateUnmount] : []),
  ];
  const child = spawn(o.monitorPath, args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  const sync = child.stdio[3] as Readable;
  let text = '';
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  child.stdin.on('error', () => undefined);
  const lines = (): Array<Record<string, unknown>> =>
    text.split('\n').filter((l) => l.trim() !== '').map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
  const ended = new Promise<void>((resolve) => {
    let pending = 2;
    const one = (): void => void (--pending === 0 && resolve());
    sync.on('end', one);
    sync.on('error', one);
    child.once('close', one);
    child.once('error', () => resolve());
  });
  sync.on('data', (b: Buffer) => (text += b.toString('utf8')));
  const started = new Promise<number>((resolve, reject) => {
    const check = (): void => {
      const first = lines()[0];
      if (first === undefined) return;
      sync.off('data', check);
      if (typeof first.pid === 'number') resolve(first.pid);
      else reject(new FailedPrecondition(`exec in ${o.id}: ${typeof first.error === 'string' ? readableError(first.error) : 'the relay did not start'}`, { subject: o.id }));
    };
    sync.on('data', check);
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'ENOENT' ? new Unavailable(`${o.monitorPath} is missing: build it with npm run build:monitor`, { cause: e }) : new Internal(`starting ${o.monitorPath}: ${e.message}`, { cause: e })));
    void ended.then(() => reject(new Internal(`exec in ${o.id}: the relay ended without a report${stderr.trim() === '' ? '' : `: ${stderr.trim()}`}`)));
  });
  const exit = ended.then(async (): Promise<ExecExit> => {
    await rm(tmp, { recursive: true, force: true });
    const last = lines().find((l) => typeof l.exitCode === 'number');
    if (last !== undefined) return { exitCode: last.exitCode as number };
    const err = lines().find((l) => typeof l.error === 'string');
    return { exitCode: 126, error: typeof err?.error === 'string' ? err.error : `the exec relay ended without an exit status${stderr.trim() === '' ? '' : `: ${stderr.trim()}`}` };
  });
  let pid: number;
  try {
    pid = await started;
  } catch (e) {
    await exit;
    throw e;
  }
  return {
    tty: true,
    stdout: child.stdout,
    stderr: undefined,
    writeStdin: (chunk) => writeStdinFrames(child.stdin, chunk),
    endStdin: () => void child.stdin.write(encodeAttachFrame('e')),
    resize: (rows, cols) => void child.stdin.write(resizeFrame(rows, cols)),
    pid: Promise.resolve(pid),
    exit,
  };
}
