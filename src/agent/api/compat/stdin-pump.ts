// The client's stdin on a hijacked attach or exec connection: what the docker CLI writes after the
// 101 is the raw stdin (no framing), and it half-closes its side when its stdin ends. Forwarded to
// the container or exec process with backpressure (the connection is paused while the process
// does not read), watching for the detach keys.
import type { Duplex } from 'node:stream';
import { DetachKeyScanner } from '../../../core/containers/detach-keys.js';

export interface StdinSink {
  writeStdin(chunk: Buffer): Promise<void>;
  endStdin(): void;
}

export interface PumpOptions {
  readonly detachKeys: Uint8Array;
  /** Give the process its end of file when the client's stdin ends (StdinOnce; always for exec). */
  readonly endStdinAtEnd: boolean;
  /** The detach sequence was typed: the caller ends the attach, the process keeps running. */
  readonly onDetach: () => void;
}

export function pumpStdin(socket: Duplex, sink: StdinSink, o: PumpOptions): void {
  const scanner = new DetachKeyScanner(o.detachKeys);
  let chain = Promise.resolve();
  let detached = false;
  let ended = false;
  const finish = (): void => {
    if (ended || detached) return;
    ended = true;
    void chain.then(() => {
      if (o.endStdinAtEnd && !detached) sink.endStdin();
    });
  };
  socket.on('data', (chunk: Buffer) => {
    if (detached) return;
    const { data, detach } = scanner.push(chunk);
    socket.pause();
    chain = chain
      .then(async () => {
        if (data.length > 0) await sink.writeStdin(Buffer.from(data.buffer, data.byteOffset, data.length));
        if (detach) {
          detached = true;
          o.onDetach();
        } else if (!socket.destroyed) {
          socket.resume();
        }
      })
      .catch(() => undefined);
  });
  socket.once('end', finish);
  // A client that went away without a half-close ended its stdin too.
  socket.once('close', finish);
  socket.resume();
}
