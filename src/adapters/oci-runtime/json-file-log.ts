// Reading Docker json-file logs (what atomic-monitor writes): `docker logs` with --since, --until,
// --tail, --timestamps and --follow, across rotated files (LOG.N ... LOG.1, LOG: oldest first).
//
// One entry per line: {"log":"hi\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"};
// an entry whose "log" does not end in "\n" is a partial line (split at 16 KiB, or the last
// output without a newline).
import { createReadStream, watch, type FSWatcher } from 'node:fs';
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { Cancelled, InvalidArgument, fromSystemError } from '../../lib/errors.js';

export type LogStream = 'stdout' | 'stderr';

export interface LogEntry {
  readonly stream: LogStream;
  readonly log: string;
  /** As written (RFC 3339, up to nanoseconds). */
  readonly time: string;
  /** Nanoseconds since the Unix epoch. */
  readonly timeNs: bigint;
  /** No trailing newline: the line continues in the next entry of the same stream. */
  readonly partial: boolean;
}

/**
 * RFC 3339 timestamp -> nanoseconds since the epoch, keeping all nine fraction digits (Date has
 * milliseconds only).
 */
export function parseRfc3339Nano(s: string): bigint {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (m === null) throw new InvalidArgument(`invalid RFC 3339 time "${s}"`, { subject: s });
  const secondsMs = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(secondsMs)) throw new InvalidArgument(`invalid RFC 3339 time "${s}"`, { subject: s });
  const frac = BigInt((m[2] ?? '').padEnd(9, '0') || '0');
  return BigInt(secondsMs) * 1_000_000n + frac;
}

/** Docker's `logs -t` format: UTC, always nine fraction digits (jsonmessage.RFC3339NanoFixed). */
export function formatRfc3339NanoFixed(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${base}.${frac}Z`;
}

/** One line of a json-file log; undefined for a line that is not an entry (torn write, garbage). */
export function parseLogLine(line: string): LogEntry | undefined {
  if (line.trim() === '') return undefined;
  let j: { log?: unknown; stream?: unknown; time?: unknown };
  try {
    j = JSON.parse(line) as typeof j;
  } catch {
    return undefined;
  }
  if (typeof j.log !== 'string' || (j.stream !== 'stdout' && j.stream !== 'stderr') || typeof j.time !== 'string') return undefined;
  let timeNs: bigint;
  try {
    timeNs = parseRfc3339Nano(j.time);
  } catch {
    return undefined;
  }
  return { stream: j.stream, log: j.log, time: j.time, timeNs, partial: !j.log.endsWith('\n') };
}

/** An entry as `docker logs` prints it (with -t: the fixed-width time and a space first). */
export function formatLogEntry(e: LogEntry, opts: { timestamps?: boolean } = {}): string {
  return opts.timestamps === true ? `${formatRfc3339NanoFixed(e.timeNs)} ${e.log}` : e.log;
}

export interface ReadLogOptions {
  /** Only entries at or after this time (ns since the epoch). */
  readonly since?: bigint;
  /** Only entries at or before this time; following stops once an entry is later. */
  readonly until?: bigint;
  /** Only the last N entries of what is already there (then, with follow, everything new). */
  readonly tail?: number;
  readonly follow?: boolean;
  /**
   * While following: true once no more output can come (the container's exit file exists). The
   * reader then reads what is left and ends. Without it, following ends only on `signal`.
   */
  readonly isDone?: () => Promise<boolean>;
  readonly signal?: AbortSignal;
  /**
   * While following, the reader wakes up on every change in the log's directory (inotify: new
   * output, a rotation, the container's exit file renamed into place) and at least this often
   * (the fallback when no watch could be added). Default 100 ms.
   */
  readonly pollMs?: number;
}

/**
 * Wake-ups for a follower: resolves `next` at the first change in `dir` since the previous call,
 * or after `ms`, whichever comes first. Changes that happened while the reader was busy are not
 * lost (`pending`); the reader then re-reads everything anyway.
 */
class DirChanges {
  private pending = false;
  private wake: (() => void) | undefined;
  private readonly watcher: FSWatcher | undefined;

  constructor(dir: string) {
    let w: FSWatcher | undefined;
    try {
      w = watch(dir, { persistent: false }, () => this.changed());
      w.on('error', () => undefined);
    } catch {
      w = undefined; // no inotify watch to be had: the timeout alone paces the reader
    }
    this.watcher = w;
  }

  private changed(): void {
    this.pending = true;
    this.wake?.();
  }

  async next(ms: number, signal: AbortSignal | undefined, path: string): Promise<void> {
    if (signal?.aborted === true) throw new Cancelled('following the log cancelled', { subject: path });
    if (!this.pending) {
      await new Promise<void>((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.wake = undefined;
        };
        const onAbort = (): void => {
          done();
          reject(new Cancelled('following the log cancelled', { subject: path }));
        };
        const timer = setTimeout(() => {
          done();
          resolve();
        }, ms);
        this.wake = (): void => {
          done();
          resolve();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    this.pending = false;
  }

  close(): void {
    this.watcher?.close();
  }
}

interface FileId {
  readonly dev: number;
  readonly ino: number;
}

const sameFile = (a: FileId, b: FileId): boolean => a.dev === b.dev && a.ino === b.ino;
const idOf = (s: { dev: number; ino: number }): FileId => ({ dev: s.dev, ino: s.ino });

/** Existing rotated files, oldest first: LOG.N ... LOG.1 (Docker's numbering), then LOG. */
async function logFiles(path: string): Promise<{ path: string; id: FileId }[]> {
  const rotated: { path: string; id: FileId }[] = [];
  for (let i = 1; ; i++) {
    const p = `${path}.${i}`;
    const s = await stat(p).catch(() => undefined);
    if (s === undefined) break;
    rotated.push({ path: p, id: idOf(s) });
  }
  rotated.reverse();
  const cur = await stat(path).catch(() => undefined);
  return cur === undefined ? rotated : [...rotated, { path, id: idOf(cur) }];
}

/** The last `size` entries pushed, oldest first. */
class TailBuffer {
  private readonly ring: LogEntry[] = [];
  private next = 0;

  constructor(private readonly size: number) {}

  push(e: LogEntry): void {
    if (this.size === 0) return;
    if (this.ring.length < this.size) this.ring.push(e);
    else this.ring[this.next] = e;
    this.next = (this.next + 1) % this.size;
  }

  entries(): LogEntry[] {
    return this.ring.length < this.size ? this.ring : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }
}

/** The entries of one log file, read as a stream; a file rotated away meanwhile has none. */
async function* streamEntries(path: string): AsyncGenerator<LogEntry> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      const e = parseLogLine(line);
      if (e !== undefined) yield e;
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // rotated away while we listed
    throw fromSystemError(e, path, 'reading the log');
  } finally {
    lines.close();
  }
}

function entriesOf(text: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (const line of text.split('\n')) {
    const e = parseLogLine(line);
    if (e !== undefined) out.push(e);
  }
  return out;
}

/** Reads a growing file from a position, handing back whole lines only. */
class Follower {
  private pos = 0;
  /** Bytes after the last newline: split on bytes, so a UTF-8 sequence is never cut in two. */
  private rest: Buffer = Buffer.alloc(0);
  private readonly buf = Buffer.alloc(256 * 1024);
  constructor(readonly handle: FileHandle, readonly id: FileId) {}

  static async open(path: string): Promise<Follower | undefined> {
    let h: FileHandle;
    try {
      h = await open(path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fromSystemError(e, path, 'opening the log');
    }
    return new Follower(h, idOf(await h.stat()));
  }

  /** Whole lines written since the last call. */
  async read(): Promise<string[]> {
    // max-file 1: the monitor truncates instead of renaming.
    const size = (await this.handle.stat()).size;
    if (size < this.pos) {
      this.pos = 0;
      this.rest = Buffer.alloc(0);
    }
    const chunks: Buffer[] = [this.rest];
    for (;;) {
      const { bytesRead } = await this.handle.read(this.buf, 0, this.buf.length, this.pos);
      if (bytesRead === 0) break;
      this.pos += bytesRead;
      chunks.push(Buffer.from(this.buf.subarray(0, bytesRead)));
    }
    const all = Buffer.concat(chunks);
    const nl = all.lastIndexOf(0x0a);
    if (nl < 0) {
      this.rest = all;
      return [];
    }
    this.rest = Buffer.from(all.subarray(nl + 1));
    return all.subarray(0, nl).toString('utf8').split('\n');
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

/**
 * The entries of the log at `path` (and its rotated files) matching `opts`, oldest first; with
 * `follow`, keeps going with new entries, across rotations, until `isDone` or `signal`.
 */
export async function* readJsonFileLog(path: string, opts: ReadLogOptions = {}): AsyncGenerator<LogEntry> {
  const keep = (e: LogEntry): boolean => (opts.since === undefined || e.timeNs >= opts.since) && (opts.until === undefined || e.timeNs <= opts.until);
  const pastUntil = (e: LogEntry): boolean => opts.until !== undefined && e.timeNs > opts.until;

  if (opts.follow !== true) {
    // Streamed line by line: memory stays at the tail asked for, not the size of the log.
    const last = opts.tail !== undefined && opts.tail >= 0 ? new TailBuffer(opts.tail) : undefined;
    for (const f of await logFiles(path)) {
      for await (const e of streamEntries(f.path)) {
        if (!keep(e)) continue;
        if (last !== undefined) last.push(e);
        else yield e;
      }
    }
    if (last !== undefined) yield* last.entries();
    return;
  }

  // Follow: read the rotated files whole, and the current file through a Follower that stays on
  // its inode, so output written just before a rotation is not lost.
  const seen: FileId[] = [];
  const initial: LogEntry[] = [];
  const files = await logFiles(path);
  let cur: Follower | undefined;
  for (const f of files) {
    seen.push(f.id);
    if (f.path === path) {
      cur = await Follower.open(path);
      if (cur !== undefined) {
        if (!sameFile(cur.id, f.id)) seen.push(cur.id);
        for (const line of await cur.read()) {
          const e = parseLogLine(line);
          if (e !== undefined && keep(e)) initial.push(e);
        }
      }
    } else {
      const text = await readFile(f.path, 'utf8').catch(() => '');
      initial.push(...entriesOf(text).filter(keep));
    }
  }
  // Each pass of the loop below reads before it waits, so a change before the watch existed is
  // read anyway, and one after it wakes the wait.
  const changes = new DirChanges(dirname(path));
  try {
    for (const e of opts.tail !== undefined && opts.tail >= 0 ? initial.slice(Math.max(0, initial.length - opts.tail)) : initial) yield e;
    let finishing = false;
    for (;;) {
      if (opts.signal?.aborted === true) throw new Cancelled('following the log cancelled', { subject: path });
      let got = false;
      if (cur !== undefined) {
        for (const line of await cur.read()) {
          const e = parseLogLine(line);
          if (e === undefined) continue;
          if (pastUntil(e)) return;
          got = true;
          if (keep(e)) yield e;
        }
      }
      // Rotated? The path now names another file: finish ours, read any file rotated in between
      // (several rotations between two polls), then continue on the new one.
      const now = await stat(path).catch(() => undefined);
      if (now !== undefined && (cur === undefined || !sameFile(idOf(now), cur.id))) {
        if (cur !== undefined) {
          for (const line of await cur.read()) {
            const e = parseLogLine(line);
            if (e === undefined) continue;
            if (pastUntil(e)) return;
            if (keep(e)) yield e;
          }
          await cur.close();
        }
        for (const f of await logFiles(path)) {
          if (f.path === path || seen.some((s) => sameFile(s, f.id))) continue;
          seen.push(f.id);
          for (const e of entriesOf(await readFile(f.path, 'utf8').catch(() => ''))) {
            if (pastUntil(e)) return;
            if (keep(e)) yield e;
          }
        }
        cur = await Follower.open(path);
        if (cur !== undefined) seen.push(cur.id);
        got = true;
      }
      if (got) continue;
      if (finishing) return;
      // Done only after one more pass: output written between our read and the exit file.
      if (opts.isDone !== undefined && (await opts.isDone())) {
        finishing = true;
        continue;
      }
      await changes.next(opts.pollMs ?? 100, opts.signal, path);
    }
  } finally {
    changes.close();
    await cur?.close();
  }
}
