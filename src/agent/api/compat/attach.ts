// POST /containers/{id}/attach (Engine API "Attach to a container"), what `docker run` without -d
// and `docker attach` use: the connection is upgraded and the container's output streamed over it
// in Docker's framing (raw with a TTY) until the container ends. The output comes from the
// json-file log the monitor writes, so attaching never slows the container down; stdin is not
// forwarded (containers are created without OpenStdin: `-i` is refused at create).
//
// `docker run` attaches before it starts the container: a created container is waited for, then
// followed from its first line. A running one is followed from now on (`logs=1` replays what is
// there first). An AutoRemove container is kept until the stream reached its end.
import { encodeFrame, MULTIPLEXED_CONTENT_TYPE, RAW_CONTENT_TYPE } from '../../../formats/docker/multiplexed-stream.js';
import { Unimplemented } from '../../../lib/errors.js';
import type { ContainerEngine } from '../../containers/container-engine.js';
import { queryBool } from '../request-input.js';
import type { Router } from '../router.js';

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
    const tty = record.spec.tty;
    const release = record.hostConfig.AutoRemove === true ? engine.holdRemoval(record.id) : undefined;
    const socket = ctx.hijack(tty ? RAW_CONTENT_TYPE : MULTIPLEXED_CONTENT_TYPE);
    const controller = new AbortController();
    socket.once('close', () => controller.abort());
    // Nothing is read from the client (no stdin); its bytes are dropped so the connection flows.
    socket.on('data', () => undefined);
    try {
      if ((stdout || stderr) && (stream || logs)) {
        const wasCreated = record.state.status === 'created';
        if (stream && wasCreated) await startedOrGone(engine, record.id, controller.signal);
        const entries = engine.logs(record.id, {
          stdout, stderr, follow: stream, signal: controller.signal,
          // Without logs=1 only new output: everything of a container that had not started yet.
          ...(logs || wasCreated ? {} : { tail: 0 }),
        });
        for await (const e of entries) {
          if (socket.destroyed) break;
          const ok = socket.write(tty ? e.log : encodeFrame(e.stream === 'stderr' ? 'stderr' : 'stdout', e.log));
          if (!ok) await new Promise((r) => socket.once('drain', r));
        }
      }
      socket.end();
    } catch {
      // The stream has started: a failure can only cut it.
      socket.destroy();
    } finally {
      release?.();
    }
    return 'handled' as const;
  });
}
