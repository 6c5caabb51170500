// Exec instances (Engine API "Exec"): POST /containers/{id}/exec creates one, POST
// /exec/{id}/start runs it, GET /exec/{id}/json reports it, POST /exec/{id}/resize sizes its
// terminal. An attached start streams the command's output while it runs, in Docker's stream
// framing (raw with a TTY), over the upgraded connection the docker CLI asks for or as a plain
// response; with AttachStdin what the client writes on the upgraded connection is the command's
// stdin (its half-close the end of file), and the detach keys leave the command running.
import { randomBytes } from 'node:crypto';
import { encodeFrame, MULTIPLEXED_CONTENT_TYPE, RAW_CONTENT_TYPE } from '../../../formats/docker/multiplexed-stream.js';
import type { Duplex, Readable } from 'node:stream';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../../../core/containers/detach-keys.js';
import { InvalidArgument, NotFound, Conflict } from '../../../lib/errors.js';
import type { ExecSession } from '../../../adapters/oci-runtime/exec-session.js';
import type { ContainerEngine } from '../../containers/container-engine.js';
import { readJsonObject } from '../request-input.js';
import type { Router } from '../router.js';
import { terminalSize } from './attach.js';
import { streamHeaders } from './containers.js';
import { pumpStdin } from './stdin-pump.js';

interface ExecInstance {
  readonly id: string;
  readonly containerId: string;
  readonly cmd: readonly string[];
  readonly env?: readonly string[];
  readonly user: string;
  readonly workingDir: string;
  readonly tty: boolean;
  readonly privileged: boolean;
  readonly attachStdin: boolean;
  readonly detachKeys: Uint8Array;
  /** The terminal size asked for before the process ran (ConsoleSize, or an early resize). */
  size?: { h: number; w: number };
  session?: ExecSession;
  /** The process's host pid once it runs (0 before), kept after it ended as dockerd keeps it. */
  pid: number;
  running: boolean;
  started: boolean;
  exitCode: number | null;
}

/** Exec instances are forgotten this long after they ended (dockerd keeps them until the container goes). */
const KEEP_ENDED_MS = 10 * 60_000;

const strings = (v: unknown, field: string): string[] | undefined => {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new InvalidArgument(`${field}: expected a list of strings`, { subject: field });
  return v as string[];
};

export function execRoutes(router: Router, engine: ContainerEngine): void {
  const execs = new Map<string, ExecInstance>();

  router.add('POST', '/containers/{id}/exec', async (ctx) => {
    const body = await readJsonObject(ctx.req, 'exec create');
    const container = engine.get(ctx.params.id ?? '');
    const cmd = strings(body.Cmd, 'Cmd') ?? [];
    if (cmd.length === 0) throw new InvalidArgument('No exec command specified', { subject: 'Cmd' });
    const detachKeys = parseDetachKeys(typeof body.DetachKeys === 'string' && body.DetachKeys !== '' ? body.DetachKeys : DEFAULT_DETACH_KEYS, 'DetachKeys');
    const consoleSize = Array.isArray(body.ConsoleSize) && body.ConsoleSize.length === 2 && body.ConsoleSize.every((n) => Number.isInteger(n) && (n as number) > 0)
      ? { h: body.ConsoleSize[0] as number, w: body.ConsoleSize[1] as number } : undefined;
    // dockerd's getActiveContainer, in its order and words (409 each): a paused container is
    // running but frozen, so an exec in it would hang until the unpause.
    const status = container.state.status;
    if (status === 'paused') throw new Conflict(`Container ${container.id} is paused, unpause the container before exec`, { subject: container.id });
    if (status === 'restarting') throw new Conflict(`Container ${container.id} is restarting, wait until the container is running`, { subject: container.id });
    if (status !== 'running') throw new Conflict(`Container ${container.id} is not running`, { subject: container.id });
    const env = strings(body.Env, 'Env');
    const id = randomBytes(32).toString('hex');
    execs.set(id, {
      id, containerId: container.id, cmd, ...(env === undefined ? {} : { env }),
      user: typeof body.User === 'string' ? body.User : '', workingDir: typeof body.WorkingDir === 'string' ? body.WorkingDir : '',
      tty: body.Tty === true, privileged: body.Privileged === true, attachStdin: body.AttachStdin === true, detachKeys,
      ...(consoleSize === undefined ? {} : { size: consoleSize }), pid: 0, running: false, started: false, exitCode: null,
    });
    return { status: 201, json: { Id: id } };
  });

  const find = (id: string): ExecInstance => {
    const x = execs.get(id);
    if (x === undefined) throw new NotFound(`No such exec instance: ${id}`, { subject: id });
    return x;
  };

  router.add('POST', '/exec/{id}/start', async (ctx) => {
    const x = find(ctx.params.id ?? '');
    const body = await readJsonObject(ctx.req, 'exec start');
    if (x.started) throw new Conflict(`Error: Exec command ${x.id} has already run`, { subject: x.id });
    x.started = true;
    x.running = true;
    const config = { Cmd: x.cmd, ...(x.env === undefined ? {} : { Env: x.env }), User: x.user, WorkingDir: x.workingDir, Tty: x.tty, Privileged: x.privileged };
    const ended = (): void => {
      x.running = false;
      delete x.session;
      setTimeout(() => execs.delete(x.id), KEEP_ENDED_MS).unref();
    };
    if (body.Detach === true) {
      // `docker exec -d`: started, then left to run; its output is read and dropped.
      const session = await engine.execSession(x.containerId, config).catch((e: unknown) => {
        x.exitCode = 126;
        ended();
        throw e;
      });
      x.session = session;
      if (x.size !== undefined) session.resize(x.size.h, x.size.w);
      // dockerd answers a detached start once the process runs: an inspect right after sees its Pid.
      x.pid = (await session.pid) ?? 0;
      session.endStdin();
      session.stdout.resume();
      session.stderr?.resume();
      void session.exit.then((e) => (x.exitCode = e.exitCode)).finally(ended);
      return { status: 200, empty: true };
    }
    const contentType = x.tty ? RAW_CONTENT_TYPE : MULTIPLEXED_CONTENT_TYPE;
    // The docker CLI upgrades the connection (hijack); SDKs may read a plain response.
    const socket: Duplex | undefined = ctx.hijack !== undefined ? ctx.hijack(contentType) : undefined;
    if (socket === undefined) streamHeaders(ctx.res, x.tty);
    else socket.pause();
    const out: Duplex | typeof ctx.res = socket ?? ctx.res;
    let detached = false;
    const write = async (b: Buffer | string): Promise<void> => {
      if (detached || out.destroyed) return;
      if (!out.write(b) && !out.destroyed) await new Promise((r) => out.once('drain', r));
    };
    let session: ExecSession;
    try {
      session = await engine.execSession(x.containerId, config);
    } catch (e) {
      // The answer has started: the failure goes to the command's stderr, its exit code is 126.
      x.exitCode = 126;
      ended();
      const message = `${e instanceof Error ? e.message : String(e)}\n`;
      out.write(x.tty ? message : encodeFrame('stderr', message));
      out.end();
      return 'handled' as const;
    }
    x.session = session;
    if (x.size !== undefined) session.resize(x.size.h, x.size.w);
    void session.pid.then((pid) => (x.pid = pid ?? 0));
    if (socket !== undefined && x.attachStdin) {
      pumpStdin(socket, session, {
        detachKeys: x.detachKeys, endStdinAtEnd: true,
        onDetach: () => {
          // The command keeps running; its output is read (and dropped) so it does not block.
          detached = true;
          socket.end();
        },
      });
    } else if (socket !== undefined) {
      socket.on('data', () => undefined);
      socket.resume();
      // Without stdin the command gets its end of file at once, as with dockerd.
      session.endStdin();
    } else {
      session.endStdin();
    }
    const copy = async (from: Readable | undefined, stream: 'stdout' | 'stderr'): Promise<void> => {
      if (from === undefined) return;
      for await (const chunk of from as AsyncIterable<Buffer>) await write(x.tty ? chunk : encodeFrame(stream, chunk));
    };
    await Promise.all([copy(session.stdout, 'stdout').catch(() => undefined), copy(session.stderr, 'stderr').catch(() => undefined)]);
    const exit = await session.exit;
    x.exitCode = exit.exitCode;
    ended();
    if (exit.error !== undefined) await write(x.tty ? `${exit.error}\r\n` : encodeFrame('stderr', `${exit.error}\n`));
    if (!out.destroyed && !detached) out.end();
    return 'handled' as const;
  });

  router.add('POST', '/exec/{id}/resize', (ctx) => {
    const x = find(ctx.params.id ?? '');
    const { h, w } = terminalSize(ctx.query);
    x.size = { h, w };
    x.session?.resize(h, w);
    return { status: 201, empty: true };
  });

  router.add('GET', '/exec/{id}/json', (ctx) => {
    const x = find(ctx.params.id ?? '');
    return {
      json: {
        ID: x.id, ContainerID: x.containerId, Running: x.running, ExitCode: x.exitCode, Pid: x.pid,
        OpenStdin: x.attachStdin, OpenStdout: true, OpenStderr: true, CanRemove: false, DetachKeys: '',
        ProcessConfig: { tty: x.tty, entrypoint: x.cmd[0], arguments: x.cmd.slice(1), privileged: x.privileged, user: x.user },
      },
    };
  });
}
