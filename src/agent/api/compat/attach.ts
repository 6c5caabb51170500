// POST /containers/{id}/attach (Engine API "Attach to a container"), what `docker run` without -d
// and `docker attach` use: the connection is upgraded and the container's output streamed over it
// in Docker's framing (raw with a TTY) until the container ends, while what the client writes is
// the container's stdin (`stdin=1` on a container created with OpenStdin).
//
// Output without a TTY comes from the json-file log the monitor writes, so attaching never slows
// the container down. A terminal's output comes live from the monitor's attach socket (a log
// split into lines would hold a shell's prompt back); so does stdin, which the monitor holds
// because the container outlives the agent (monitor-attach.ts).
//
// `docker run` attaches before it starts the container: a created container is waited for, then
// followed from its first byte (the monitor replays the terminal output that came before the
// agent connected). A running one is followed from now on (`logs=1` replays what is there
// first); a container that ended before the monitor took the subscription is read from its log
// instead. An AutoRemove container is kept until the stream reached its end. With StdinOnce the
// container's stdin is closed when the client's ends (not a terminal's, as dockerd). The detach
// keys (`detachKeys`, default ctrl-p,ctrl-q) end the attach and leave the container running.
import { encodeFrame, MULTIPLEXED_CONTENT_TYPE, RAW_CONTENT_TYPE } from '../../../formats/docker/multiplexed-stream.js';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../../../core/containers/detach-keys.js';
import { InvalidArgument, Unimplemented } from '../../../lib/errors.js';
import type { MonitorAttach } from '../../../adapters/oci-runtime/monitor-attach.js';
import type { ContainerEngine, LogsOptions } from '../../containers/container-engine.js';
import { queryBool } from '../request-input.js';
import type { Router } from '../router.js';
import { pumpStdin } from './stdin-pump.js';

/** Resolves when the container has started, or has gone (removed, or its start failed). */
async function startedOrGone(engine: ContainerEngine, id: string, signal: AbortSignal): Promise<void> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  signal.addEventListener('abort', stop, { once: true });
  try {
    const events = engine.events.subscribe(controller.signal);
    // Checked after subscribing: a start between the two is not missed.
    const now = (() => {
      try {
        return engine.get(id).state.status;
      } catch {
        return 'removed';
      }
    })();
    if (now !== 'created') return;
    for await (const e of events) {
      if (e.Actor.ID === id && (e.Action === 'start' || e.Action === 'die' || e.Action === 'destroy')) return;
    }
  } finally {
    signal.removeEventListener('abort', stop);
    controller.abort();
  }
}

export function attachRoutes(router: Router, engine: ContainerEngine): void {
  router.add('POST', '/containers/{id}/attach', async (ctx) => {
    // Looked up before the upgrade, so that a wrong name is a plain 404.
    const record = engine.get(ctx.params.id ?? '');
    if (ctx.hijack === undefined) throw new Unimplemented('attach: send Connection: Upgrade and Upgrade: tcp (as the docker CLI does); use /logs?follow=1 for a plain stream', { subject: record.id });
    const q = ctx.query;
    const stdout = queryBool(q, 'stdout');
    const stderr = queryBool(q, 'stderr');
    const stream = queryBool(q, 'stream');
    const logs = queryBool(q, 'logs');
    const stdin = queryBool(q, 'stdin') && record.spec.openStdin;
    const detachKeys = parseDetachKeys(q.get('detachKeys') || DEFAULT_DETACH_KEYS);
    const tty = record.spec.tty;
    const release = record.hostConfig.AutoRemove === true ? engine.holdRemoval(record.id) : undefined;
    const socket = ctx.hijack(tty ? RAW_CONTENT_TYPE : MULTIPLEXED_CONTENT_TYPE);
    // Stdin waits in the connection until the container runs.
    socket.pause();
    // dockerd logs `attach` once the client is attached, before the stream (so `docker run`
    // shows create, attach, start).
    engine.attachEvent(record.id, 'attach');
    const controller = new AbortController();
    socket.once('close', () => controller.abort());
    let conn: MonitorAttach | undefined;
    try {
      const wasCreated = record.state.status === 'created';
      if (stream && wasCreated) await startedOrGone(engine, record.id, controller.signal);
      if (stream && (stdin || tty)) conn = await engine.attachStdio(record.id).catch(() => undefined);
      const live = conn;
      // Output is "from now on" for a running container; with stdin, "now" is fixed before the
      // first byte of stdin goes in, so what the container answers to it is never before it.
      const fromNs = BigInt(Date.now()) * 1_000_000n;
      if (stdin && live !== undefined) {
        pumpStdin(socket, live, {
          detachKeys, endStdinAtEnd: record.config.StdinOnce === true,
          onDetach: () => {
            controller.abort();
            live.close();
            // The container may be gone meanwhile (--rm): then nothing is left to report on.
            try {
              engine.attachEvent(record.id, 'detach');
            } catch {
              // NotFound: removed.
            }
          },
        });
      } else {
        // Nothing is read from the client; its bytes are dropped so the connection flows.
        socket.on('data', () => undefined);
        socket.resume();
      }
      const write = async (b: Buffer | string): Promise<void> => {
        if (!socket.write(b) && !socket.destroyed) await new Promise((r) => socket.once('drain', r));
      };
      const fromLog = async (since: Pick<LogsOptions, 'since' | 'tail'>): Promise<void> => {
        for await (const e of engine.logs(record.id, { stdout, stderr, follow: stream, signal: controller.signal, ...since })) {
          if (socket.destroyed) break;
          await write(tty ? e.log : encodeFrame(e.stream === 'stderr' ? 'stderr' : 'stdout', e.log));
        }
      };
      if ((stdout || stderr) && (stream || logs)) {
        if (tty && live !== undefined) {
          let logged: bigint | undefined;
          if (logs && !wasCreated) {
            for await (const e of engine.logs(record.id, { follow: false, signal: controller.signal })) {
              await write(e.log);
              logged = e.timeNs;
            }
          }
          const output = live.subscribe(wasCreated);
          let taken = true;
          for (;;) {
            const next = await output.next();
            if (next.done === true) {
              taken = next.value;
              break;
            }
            if (socket.destroyed || controller.signal.aborted) {
              await output.return(true);
              break;
            }
            await write(next.value);
          }
          // The container ended before the monitor took the subscription: what it wrote is in
          // the log (all of it for a container attached before its start).
          if (!taken) await fromLog(wasCreated ? {} : { since: logged !== undefined ? logged + 1n : fromNs });
        } else {
          // Without logs=1 only new output: everything of a container that had not started yet.
          await fromLog(logs || wasCreated ? {} : stdin ? { since: fromNs } : { tail: 0 });
        }
      } else if (live !== undefined) {
        // Only stdin: until the container ends (the monitor closes) or the client goes.
        await new Promise<void>((resolve) => {
          live.output.once('close', resolve);
          controller.signal.addEventListener('abort', () => resolve(), { once: true });
          live.output.resume();
        });
      }
      socket.end();
    } catch {
      // The stream has started: a failure (or a detach) can only end it.
      if (controller.signal.aborted && !socket.destroyed) socket.end();
      else socket.destroy();
    } finally {
      conn?.close();
      release?.();
    }
    return 'handled' as const;
  });

  router.add('POST', '/containers/{id}/resize', async (ctx) => {
    const { h, w } = terminalSize(ctx.query);
    await engine.resize(ctx.params.id ?? '', h, w);
    return { status: 200, empty: true };
  });
}

/** `?h=&w=` of the resize endpoints (rows and columns). */
export function terminalSize(q: URLSearchParams): { h: number; w: number } {
  const num = (k: string): number => {
    const v = q.get(k) ?? '';
    const n = Number(v);
    if (v === '' || !Number.isInteger(n) || n < 0 || n > 0xffff) throw new InvalidArgument(`${k}: ${JSON.stringify(v)} is not a terminal size (0-65535)`, { subject: k });
    return n;
  };
  return { h: num('h'), w: num('w') };
}
