// Exec instances (Engine API "Exec"): POST /containers/{id}/exec creates one, POST
// /exec/{id}/start runs it, GET /exec/{id}/json reports it. The command's output is sent in
// Docker's stream framing (raw with a TTY) once it has run, over the upgraded connection the
// docker CLI asks for or as a plain response; stdin is not attached (AttachStdin is refused).
import { randomBytes } from 'node:crypto';
import { encodeFrame, MULTIPLEXED_CONTENT_TYPE, RAW_CONTENT_TYPE } from '../../../formats/docker/multiplexed-stream.js';
import { InvalidArgument, NotFound, Conflict, Unimplemented } from '../../../lib/errors.js';
import type { ContainerEngine } from '../../containers/container-engine.js';
import { readJsonObject } from '../request-input.js';
import type { Router } from '../router.js';
import { streamHeaders } from './containers.js';

interface ExecInstance {
  readonly id: string;
  readonly containerId: string;
  readonly cmd: readonly string[];
  readonly env?: readonly string[];
  readonly user: string;
  readonly workingDir: string;
  readonly tty: boolean;
  readonly privileged: boolean;
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
    if (body.AttachStdin === true) throw new Unimplemented('AttachStdin: interactive exec (-i) is not supported by atomicd yet', { subject: 'AttachStdin' });
    if (!['running', 'restarting'].includes(container.state.status)) throw new Conflict(`Container ${container.id} is not running`, { subject: container.id });
    const env = strings(body.Env, 'Env');
    const id = randomBytes(32).toString('hex');
    execs.set(id, {
      id, containerId: container.id, cmd, ...(env === undefined ? {} : { env }),
      user: typeof body.User === 'string' ? body.User : '', workingDir: typeof body.WorkingDir === 'string' ? body.WorkingDir : '',
      tty: body.Tty === true, privileged: body.Privileged === true, running: false, started: false, exitCode: null,
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
    const run = engine
      .exec(x.containerId, { Cmd: x.cmd, ...(x.env === undefined ? {} : { Env: x.env }), User: x.user, WorkingDir: x.workingDir, Tty: x.tty, Privileged: x.privileged })
      .then(
        (r) => {
          x.exitCode = r.ExitCode;
          return r;
        },
        (e: unknown) => {
          x.exitCode = 126;
          throw e;
        },
      )
      .finally(() => {
        x.running = false;
        setTimeout(() => execs.delete(x.id), KEEP_ENDED_MS).unref();
      });
    if (body.Detach === true) {
      run.catch(() => undefined);
      return { status: 200, empty: true };
    }
    const contentType = x.tty ? RAW_CONTENT_TYPE : MULTIPLEXED_CONTENT_TYPE;
    // The docker CLI upgrades the connection (hijack); SDKs may read a plain response. The output
    // is the same stream either way, sent once the command has run (no stdin is attached).
    const out: { write(b: Buffer | string): unknown; end(): unknown } = ctx.hijack !== undefined ? ctx.hijack(contentType) : (streamHeaders(ctx.res, x.tty), ctx.res);
    try {
      const r = await run;
      if (x.tty) out.write(r.Stdout + r.Stderr);
      else {
        if (r.Stdout !== '') out.write(encodeFrame('stdout', r.Stdout));
        if (r.Stderr !== '') out.write(encodeFrame('stderr', r.Stderr));
      }
    } catch (e) {
      // The answer has started: the failure goes to the command's stderr, its exit code is 126.
      const message = `${e instanceof Error ? e.message : String(e)}\n`;
      out.write(x.tty ? message : encodeFrame('stderr', message));
    }
    out.end();
    return 'handled' as const;
  });

  router.add('GET', '/exec/{id}/json', (ctx) => {
    const x = find(ctx.params.id ?? '');
    return {
      json: {
        ID: x.id, ContainerID: x.containerId, Running: x.running, ExitCode: x.exitCode, Pid: 0,
        OpenStdin: false, OpenStdout: true, OpenStderr: true, CanRemove: false, DetachKeys: '',
        ProcessConfig: { tty: x.tty, entrypoint: x.cmd[0], arguments: x.cmd.slice(1), privileged: x.privileged, user: x.user },
      },
    };
  });
}
