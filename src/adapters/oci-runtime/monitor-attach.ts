// The agent's side of the monitor's attach socket (see the "attach" section of
// native/monitor/atomic-monitor.c): the container's stdin and terminal stay with the monitor, which
// outlives the agent; the agent connects whenever a client attaches and sends frames
// [TYPE, LEN (u32 big-endian), PAYLOAD]: 'i' stdin bytes, 'e' end of stdin, 'w' rows+cols (u16
// each), 'o' subscribe to the terminal output (payload 1 = replay what came before the first
// subscriber), answered by one SUBSCRIBED byte and then the raw output. The same frames drive the
// exec relay (`atomic-monitor --exec-process`) over its stdin.
import { connect, type Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { InvalidArgument } from '../../lib/errors.js';

/** The byte a taken subscription starts with (ASCII ACK; SUBSCRIBED in atomic-monitor.c). */
export const SUBSCRIBED = 0x06;

/** The monitor refuses larger frames (FRAME_MAX). */
export const ATTACH_FRAME_MAX = 32 * 1024;

export type AttachFrameType = 'i' | 'e' | 'w' | 'o';

export function encodeAttachFrame(type: AttachFrameType, payload: Uint8Array = new Uint8Array(0)): Buffer {
  if (payload.length > ATTACH_FRAME_MAX) throw new InvalidArgument(`attach frame of ${payload.length} bytes exceeds ${ATTACH_FRAME_MAX}`);
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** A window size as the 'w' frame carries it; InvalidArgument outside 0..65535. */
export function resizeFrame(rows: number, cols: number): Buffer {
  for (const [name, v] of [['h', rows], ['w', cols]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new InvalidArgument(`${name}: ${v} is not a terminal size (0-65535)`, { subject: name });
  }
  const p = Buffer.alloc(4);
  p.writeUInt16BE(rows, 0);
  p.writeUInt16BE(cols, 2);
  return encodeAttachFrame('w', p);
}

/** Write stdin bytes as 'i' frames; resolves when the writable can take more (backpressure). */
export async function writeStdinFrames(out: Writable, chunk: Buffer): Promise<void> {
  for (let at = 0; at < chunk.length; at += ATTACH_FRAME_MAX) {
    const ok = out.write(encodeAttachFrame('i', chunk.subarray(at, at + ATTACH_FRAME_MAX)));
    if (!ok && !out.destroyed) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          out.off('drain', done);
          out.off('close', done);
          resolve();
        };
        out.once('drain', done);
        out.once('close', done);
      });
    }
  }
}

/** One connection to a container's monitor. */
export interface MonitorAttach {
  /** The connection's incoming side; ends when the monitor exits (the container ended). */
  readonly output: Readable;
  /**
   * The terminal's raw output, until the monitor exits. Returns false when the monitor never took
   * the subscription: the container ended and the monitor stopped reading its clients before the
   * frame arrived, so the output (all of it) is only in the log.
   */
  subscribe(replay: boolean): AsyncGenerator<Buffer, boolean>;
  writeStdin(chunk: Buffer): Promise<void>;
  /** The container's stdin gets its end of file (a pipe; a terminal is left open, as dockerd does). */
  endStdin(): void;
  resize(rows: number, cols: number): void;
  close(): void;
}

function connectSocket(path: string): Promise<Socket | undefined> {
  return new Promise((resolve, reject) => {
    const s = connect({ path, allowHalfOpen: true });
    s.once('connect', () => {
      s.removeAllListeners('error');
      s.on('error', () => undefined);
      resolve(s);
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      // No socket, or nobody listening: the monitor has gone (the container ended).
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') resolve(undefined);
      else reject(e);
    });
  });
}

/** Connect to the attach socket at `path`; undefined when the monitor is no longer there. */
export async function connectMonitorAttach(path: string): Promise<MonitorAttach | undefined> {
  const s = await connectSocket(path);
  if (s === undefined) return undefined;
  return {
    output: s,
    subscribe: (replay) => terminalOutput(s, replay),
    writeStdin: (chunk) => writeStdinFrames(s, chunk),
    endStdin: () => void s.write(encodeAttachFrame('e')),
    resize: (rows, cols) => void s.write(resizeFrame(rows, cols)),
    close: () => s.destroy(),
  };
}

async function* terminalOutput(s: Socket, replay: boolean): AsyncGenerator<Buffer, boolean> {
  s.write(encodeAttachFrame('o', Uint8Array.of(replay ? 1 : 0)));
  let taken = false;
  try {
    for await (const chunk of s as AsyncIterable<Buffer>) {
      let output = chunk;
      if (!taken) {
        taken = true;
        // A monitor started by an older agent (monitors outlive agent upgrades) sends output
        // without the byte.
        if (chunk[0] === SUBSCRIBED) output = chunk.subarray(1);
      }
      if (output.length > 0) yield output;
    }
  } catch (e) {
    // A reset is the monitor going away (it closes its clients as it exits): the end of the output.
    if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET' && (e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
  }
  return taken;
}

/**
 * Set the terminal size of a running container; false when the monitor is gone. Resolves once the
 * monitor applied it (it closes a connection that half-closed after its frames were applied).
 */
export async function resizeThroughMonitor(path: string, rows: number, cols: number): Promise<boolean> {
  const frame = resizeFrame(rows, cols);
  const s = await connectSocket(path);
  if (s === undefined) return false;
  await new Promise<void>((resolve) => {
    s.on('close', () => resolve());
    s.on('data', () => undefined);
    s.end(frame);
  });
  return true;
}
