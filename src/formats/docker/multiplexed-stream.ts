// Docker's stream framing for attach, logs and exec output of containers without a TTY
// (Engine API "Attach to a container": "Stream format"): every chunk is preceded by an 8-byte
// header [STREAM_TYPE, 0, 0, 0, SIZE1, SIZE2, SIZE3, SIZE4], the size big-endian; stream type 0 is
// stdin, 1 stdout, 2 stderr. With a TTY the stream is raw bytes, no headers.
import { DataLoss } from '../../lib/errors.js';

export type StreamType = 'stdin' | 'stdout' | 'stderr';

const TYPE_BYTE: Readonly<Record<StreamType, number>> = { stdin: 0, stdout: 1, stderr: 2 };
const TYPE_OF: readonly StreamType[] = ['stdin', 'stdout', 'stderr'];
export const FRAME_HEADER_BYTES = 8;

/** Content-Type of the two forms (API 1.42+ names them; older clients ignore it). */
export const MULTIPLEXED_CONTENT_TYPE = 'application/vnd.docker.multiplexed-stream';
export const RAW_CONTENT_TYPE = 'application/vnd.docker.raw-stream';

export function encodeFrame(stream: StreamType, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header[0] = TYPE_BYTE[stream];
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

export interface Frame {
  readonly stream: StreamType;
  readonly payload: Buffer;
}

/** Splits a framed byte stream arriving in chunks of any size into frames. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private offset = 0;

  /** Feed a chunk; returns the frames it completed. */
  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Frame[] = [];
    let at = 0;
    while (this.pending.length - at >= FRAME_HEADER_BYTES) {
      const type = TYPE_OF[this.pending[at] as number];
      if (type === undefined || this.pending[at + 1] !== 0 || this.pending[at + 2] !== 0 || this.pending[at + 3] !== 0) {
        throw new DataLoss(`malformed stream frame header at byte ${this.offset + at}: ${this.pending.subarray(at, at + FRAME_HEADER_BYTES).toString('hex')}`);
      }
      const size = this.pending.readUInt32BE(at + 4);
      if (this.pending.length - at - FRAME_HEADER_BYTES < size) break;
      out.push({ stream: type, payload: this.pending.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + size) });
      at += FRAME_HEADER_BYTES + size;
    }
    this.offset += at;
    this.pending = this.pending.subarray(at);
    return out;
  }

  /** Bytes of an unfinished frame at the end of the stream (a truncated stream when > 0). */
  get leftoverBytes(): number {
    return this.pending.length;
  }
}
