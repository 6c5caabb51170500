// The Engine API's container endpoints (docs.docker.com/reference/api/engine, "Container") as
// thin translations to the ContainerEngine: query and body in Docker's names, answers in Docker's
// shapes and statuses (204 done, 304 already so, 404/409 from the error taxonomy).
import type { ServerResponse } from 'node:http';
import { encodeFrame, MULTIPLEXED_CONTENT_TYPE, RAW_CONTENT_TYPE } from '../../../formats/docker/multiplexed-stream.js';
import { parsePsFilters } from '../../../core/containers/ps-filters.js';
import { parsePsOutput, psArgs } from '../../../core/containers/ps-output.js';
import { runTool } from '../../../adapters/process/run-tool.js';
import { upperDirChanges } from '../../../adapters/rootfs/upper-changes.js';
import { InvalidArgument } from '../../../lib/errors.js';
import type { ContainerEngine, UpdateRequest, WaitCondition } from '../../containers/container-engine.js';
import { ZERO_TIME_NANO } from '../../containers/container-stats.js';
import { queryBool as flag, readJsonObject } from '../request-input.js';
import type { RequestContext, Router } from '../router.js';
import { checkTypes, parseCreateBody, refuseUnknown } from './container-create-body.js';


/** `?t=` of stop/restart: seconds, -1 = wait forever; absent = the container's default. */
function stopTimeout(q: URLSearchParams): number | undefined {
  const t = q.get('t') ?? q.get('timeout');
  if (t === null || t === '') return undefined;
  const n = Number(t);
  if (!Number.isInteger(n) || n < -1) throw new InvalidArgument(`t: ${JSON.stringify(t)} is not a number of seconds`, { subject: 't' });
  return n;
}

/**
 * since/until of logs: Unix seconds with an optional fraction ("1700000000.5"), what the docker
 * CLI sends after turning "1h" or an RFC 3339 date into a timestamp; 0 or absent = no bound.
 */
export function timestampNs(q: URLSearchParams, name: string): bigint | undefined {
  const v = q.get(name);
  if (v === null || v === '' || v === '0') return undefined;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (m === null) throw new InvalidArgument(`${name}: ${JSON.stringify(v)} is not a Unix timestamp (seconds[.nanoseconds])`, { subject: name });
  return BigInt(m[1] as string) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
}

/** A client that went away ends the stream it was reading. */
function disconnectSignal(ctx: RequestContext): AbortSignal {
  const controller = new AbortController();
  ctx.res.once('close', () => controller.abort());
  return controller.signal;
}

export function streamHeaders(res: ServerResponse, tty: boolean): void {
  res.writeHead(200, { 'Content-Type': tty ? RAW_CONTENT_TYPE : MULTIPLEXED_CONTENT_TYPE });
  res.flushHeaders();
}

/** UpdateConfig fields the engine applies; the docker CLI sends the rest of Resources with zero values. */
const UPDATE_TYPES = {
  Memory: 'number', MemorySwap: 'number', MemoryReservation: 'number', CpuShares: 'number', NanoCpus: 'number', CpuPeriod: 'number', CpuQuota: 'number',
  CpusetCpus: 'string', CpusetMems: 'string', BlkioWeight: 'number', PidsLimit: 'number', RestartPolicy: 'object',
} as const;

/** POST /containers/{id}/update: types checked field by field (a 400 naming it), unknown non-zero fields refused. */
export function parseUpdateBody(body: Record<string, unknown>): UpdateRequest {
  refuseUnknown(body, '', new Set(Object.keys(UPDATE_TYPES)), new Set());
  checkTypes(body, '', UPDATE_TYPES);
  const policy = body.RestartPolicy as Record<string, unknown> | null | undefined;
  if (policy !== undefined && policy !== null) {
    refuseUnknown(policy, 'RestartPolicy.', new Set(['Name', 'MaximumRetryCount']), new Set());
    checkTypes(policy, 'RestartPolicy.', { Name: 'string', MaximumRetryCount: 'number' });
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(UPDATE_TYPES)) if (body[k] !== undefined && body[k] !== null) out[k] = body[k];
  return out as UpdateRequest;
}

export function containerRoutes(router: Router, engine: ContainerEngine): void {
  router.add('POST', '/containers/create', async (ctx) => {
    const body = await readJsonObject(ctx.req, 'container create');
    const { config, hostConfig, endpoint } = parseCreateBody(body);
    const name = ctx.query.get('name') ?? '';
    const created = await engine.create({ ...(name === '' ? {} : { name }), config, hostConfig, ...(endpoint === undefined ? {} : { endpoint }) });
    return { status: 201, json: created };
  });

  router.add('GET', '/containers/json', async (ctx) => {
    const limitText = ctx.query.get('limit') ?? '';
    const limit = limitText === '' ? 0 : Number(limitText);
    if (!Number.isInteger(limit)) throw new InvalidArgument(`limit: ${JSON.stringify(limitText.slice(0, 80))} is not a number of containers`, { subject: 'limit' });
    const list = await engine.list({ all: flag(ctx.query, 'all'), filters: parsePsFilters(ctx.query.get('filters') ?? undefined), ...(limit > 0 ? { limit } : {}) });
    return { json: list };
  });

  router.add('GET', '/containers/{id}/json', async (ctx) => ({ json: await engine.inspect(ctx.params.id ?? '') }));

  router.add('POST', '/containers/{id}/start', async (ctx) => {
    const started = await engine.start(ctx.params.id ?? '');
    return { status: started ? 204 : 304, empty: true };
  });

  router.add('POST', '/containers/{id}/stop', async (ctx) => {
    const t = stopTimeout(ctx.query);
    const stopped = await engine.stop(ctx.params.id ?? '', t === undefined ? {} : { timeoutSeconds: t });
    return { status: stopped ? 204 : 304, empty: true };
  });

  router.add('POST', '/containers/{id}/restart', async (ctx) => {
    const t = stopTimeout(ctx.query);
    await engine.restart(ctx.params.id ?? '', t === undefined ? {} : { timeoutSeconds: t });
    return { status: 204, empty: true };
  });

  router.add('POST', '/containers/{id}/kill', async (ctx) => {
    const sig = ctx.query.get('signal');
    await engine.kill(ctx.params.id ?? '', sig === null || sig === '' ? 'SIGKILL' : /^\d+$/.test(sig) ? Number(sig) : sig);
    return { status: 204, empty: true };
  });

  router.add('POST', '/containers/{id}/wait', async (ctx) => {
    const condition = (ctx.query.get('condition') ?? 'not-running') as WaitCondition;
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) {
      throw new InvalidArgument(`condition: ${JSON.stringify(condition)} is not not-running, next-exit or removed`, { subject: 'condition' });
    }
    const id = ctx.params.id ?? '';
    // Look the container up first, so that a wrong name is a plain 404 before any header is sent.
    engine.get(id);
    // dockerd answers the headers at once and the body when the condition is met: `docker run`
    // waits for them before it starts the container.
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    try {
      const r = await engine.wait(id, { condition, signal: disconnectSignal(ctx) });
      ctx.res.end(JSON.stringify(r) + '\n');
    } catch (e) {
      ctx.res.end(JSON.stringify({ StatusCode: -1, Error: { Message: e instanceof Error ? e.message : String(e) } }) + '\n');
    }
    return 'handled' as const;
  });

  router.add('DELETE', '/containers/{id}', async (ctx) => {
    await engine.remove(ctx.params.id ?? '', { force: flag(ctx.query, 'force'), volumes: flag(ctx.query, 'v') });
    return { status: 204, empty: true };
  });

  router.add('POST', '/containers/{id}/rename', async (ctx) => {
    const name = ctx.query.get('name') ?? '';
    if (name === '') throw new InvalidArgument('name: the new name is required', { subject: 'name' });
    await engine.rename(ctx.params.id ?? '', name);
    return { status: 204, empty: true };
  });

  router.add('POST', '/containers/{id}/update', async (ctx) => {
    const body = await readJsonObject(ctx.req, 'container update');
    return { json: await engine.update(ctx.params.id ?? '', parseUpdateBody(body)) };
  });

  router.add('GET', '/containers/{id}/logs', async (ctx) => {
    const q = ctx.query;
    const id = ctx.params.id ?? '';
    const record = engine.get(id);
    const stdout = flag(q, 'stdout');
    const stderr = flag(q, 'stderr');
    if (!stdout && !stderr) throw new InvalidArgument('Bad parameters: you must choose at least one stream', { subject: 'stdout/stderr' });
    const tailText = q.get('tail') ?? 'all';
    const tail = tailText === 'all' || tailText === '' ? undefined : Number(tailText);
    if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new InvalidArgument(`tail: ${JSON.stringify(tailText)} is not a number of lines or "all"`, { subject: 'tail' });
    const since = timestampNs(q, 'since');
    const until = timestampNs(q, 'until');
    const entries = engine.logs(id, {
      stdout, stderr, follow: flag(q, 'follow'), timestamps: flag(q, 'timestamps'), signal: disconnectSignal(ctx),
      ...(tail !== undefined ? { tail } : {}), ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}),
    });
    const tty = record.spec.tty;
    streamHeaders(ctx.res, tty);
    try {
      for await (const e of entries) {
        if (ctx.res.destroyed) break;
        const ok = ctx.res.write(tty ? e.line : encodeFrame(e.stream === 'stderr' ? 'stderr' : 'stdout', e.line));
        if (!ok) await new Promise((r) => ctx.res.once('drain', r));
      }
    } catch (e) {
      if (!ctx.res.destroyed) ctx.res.destroy(e instanceof Error ? e : undefined);
      return 'handled' as const;
    }
    ctx.res.end();
    return 'handled' as const;
  });

  router.add('GET', '/containers/{id}/stats', async (ctx) => {
    const id = ctx.params.id ?? '';
    const stream = ctx.query.get('stream') === null ? true : flag(ctx.query, 'stream');
    const oneShot = flag(ctx.query, 'one-shot');
    if (!stream) {
      // Without one-shot dockerd waits for a second sample, so that precpu_stats is filled and the
      // CPU percentage can be computed; so do we (1 s, dockerd's collection interval).
      let stats = await engine.stats(id);
      // A container that is not running answers at once (its zero-valued stats have no read time).
      if (!oneShot && stats.read !== ZERO_TIME_NANO && stats.precpu_stats.system_cpu_usage === undefined) {
        await new Promise((r) => setTimeout(r, 1000));
        stats = await engine.stats(id);
      }
      return { json: stats };
    }
    const signal = disconnectSignal(ctx);
    // The first sample before the headers: a failure is then a plain HTTP error, not a cut stream.
    let s = await engine.stats(id);
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    try {
      while (!signal.aborted) {
        ctx.res.write(JSON.stringify(s) + '\n');
        await new Promise((r) => setTimeout(r, 1000));
        if (!signal.aborted) s = await engine.stats(id);
      }
    } catch {
      // The stream has started (the container went away meanwhile): end it.
    }
    ctx.res.end();
    return 'handled' as const;
  });

  router.add('POST', '/containers/{id}/pause', async (ctx) => {
    await engine.pause(ctx.params.id ?? '');
    return { status: 204, empty: true };
  });

  router.add('POST', '/containers/{id}/unpause', async (ctx) => {
    await engine.unpause(ctx.params.id ?? '');
    return { status: 204, empty: true };
  });

  // dockerd runs the host's ps and keeps the container's processes (daemon/top_unix.go).
  router.add('GET', '/containers/{id}/top', async (ctx) => {
    const args = psArgs(ctx.query.get('ps_args'));
    const pids = await engine.processIds(ctx.params.id ?? '');
    const out = await runTool('ps', args, { debianPackage: 'procps' });
    return { json: parsePsOutput(out.stdout, pids) };
  });

  router.add('GET', '/containers/{id}/changes', async (ctx) => {
    const { upperDir, lowerDirs } = await engine.layers(ctx.params.id ?? '');
    // The files the engine bind-mounts over the image's are its own, not the container's changes
    // (Docker keeps them in an init layer below the container's).
    return { json: await upperDirChanges(upperDir, lowerDirs, { ignore: ENGINE_MOUNT_POINTS }) };
  });
}

/**
 * What the runtime creates in the upper dir for the engine's mounts (Docker's init layer holds
 * the same: daemon/initlayer): /dev, /proc and /sys are mounted over in every container, so
 * nothing the container writes there reaches the upper dir anyway.
 */
const ENGINE_MOUNT_POINTS = ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/dev', '/proc', '/sys', '/.dockerenv', '/etc/mtab'];
