// The client half of an upgraded attach / exec connection, as the docker CLI's hijackedIOStreamer:
// the output onto our stdout/stderr (Docker's frames, or raw with a TTY), our stdin onto the
// connection (half-closed when it ends), the local terminal in raw mode while a TTY session runs,
// its size sent at the start and on every SIGWINCH, and the detach keys (typed on a terminal) end
// the session without stopping the container.
import { spawnSync } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { DEFAULT_DETACH_KEYS, DetachKeyScanner, parseDetachKeys } from '../../core/containers/detach-keys.js';
import { FrameDecoder, RAW_CONTENT_TYPE } from '../../formats/docker/multiplexed-stream.js';

export interface AttachedStreamOptions {
  /** The remote side has a terminal: output is raw. */
  readonly tty: boolean;
  /** Forward our stdin. */
  readonly stdin: boolean;
  readonly detachKeys?: string;
  /** Send the terminal size (h = rows, w = columns) to the container or exec. */
  readonly resize?: (rows: number, cols: number) => Promise<void>;
}

export type AttachedEnd = 'ended' | 'detached';

export async function streamAttached(socket: Duplex, contentType: string | undefined, o: AttachedStreamOptions): Promise<AttachedEnd> {
  const raw = contentType === RAW_CONTENT_TYPE || (contentType !== 'application/vnd.docker.multiplexed-stream' && o.tty);
  const stdinTty = process.stdin.isTTY === true;
  const keys = parseDetachKeys(o.detachKeys ?? DEFAULT_DETACH_KEYS, '--detach-keys');
  let detached = false;
  const cleanups: Array<() => void> = [];
  let detach: (() => void) | undefined;
  const detachedPromise = new Promise<void>((resolve) => (detach = resolve));
  try {
    if (o.stdin) {
      if (o.tty && stdinTty) {
        process.stdin.setRawMode(true);
        // libuv's raw mode keeps output post-processing (ONLCR), so the remote terminal's \r\n
        // would arrive as \r\r\n; docker's (moby/term MakeRaw) turns it off, and so does this.
        // setRawMode(false) restores the terminal as libuv first found it, OPOST included.
        spawnSync('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'] });
        cleanups.push(() => process.stdin.setRawMode(false));
      }
      // As the docker CLI: the keys are looked for on a terminal only (the agent looks too).
      const scanner = o.tty && stdinTty ? new DetachKeyScanner(keys) : undefined;
      const onData = (chunk: Buffer): void => {
        const { data, detach: hit } = scanner?.push(chunk) ?? { data: chunk, detach: false };
        if (data.length > 0 && !socket.write(data)) {
          process.stdin.pause();
          socket.once('drain', () => process.stdin.resume());
        }
        if (hit) {
          detached = true;
          detach?.();
        }
      };
      const onEnd = (): void => void socket.end();
      process.stdin.on('data', onData);
      process.stdin.once('end', onEnd);
      process.stdin.resume();
      cleanups.push(() => {
        process.stdin.off('data', onData);
        process.stdin.off('end', onEnd);
        process.stdin.pause();
      });
    }
    if (o.tty && o.resize !== undefined && process.stdout.isTTY === true) {
      const resize = o.resize;
      const send = (): void => void resize(process.stdout.rows, process.stdout.columns).catch(() => undefined);
      send();
      process.stdout.on('resize', send);
      cleanups.push(() => process.stdout.off('resize', send));
    }
    const output = (async (): Promise<void> => {
      const decoder = new FrameDecoder();
      for await (const chunk of socket as AsyncIterable<Buffer>) {
        if (raw) {
          process.stdout.write(chunk);
          continue;
        }
        for (const f of decoder.push(chunk)) (f.stream === 'stderr' ? process.stderr : process.stdout).write(f.payload);
      }
    })().catch(() => undefined);
    await Promise.race([output, detachedPromise]);
    return detached ? 'detached' : 'ended';
  } finally {
    for (const c of cleanups.reverse()) c();
    if (detached) socket.destroy();
  }
}
