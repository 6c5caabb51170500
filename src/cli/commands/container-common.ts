// What the container commands share: running an action on each named container the way the
// docker CLI does (print the name on success, the daemon's message on failure, go on, exit 1),
// turning --since/--until into Unix timestamps (docker's opts.GetTimestamp), demultiplexing
// Docker's stream framing onto stdout/stderr, docker's ps/stats column formats, and a minimal
// Go-template subset for `inspect -f`.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { AgentClient } from '../../adapters/agent-client/agent-client.js';
import { FrameDecoder, RAW_CONTENT_TYPE } from '../../formats/docker/multiplexed-stream.js';
import { Cancelled, InvalidArgument } from '../../lib/errors.js';
import { formatError } from '../report-error.js';
import { connectAgent, type AgentOptions } from './agent-common.js';
import { bytesSize, humanSize } from '../../lib/human-units.js';
import { parseGoDurationMs } from '../../lib/go-duration.js';

export interface ContainerOptions extends AgentOptions {
  readonly debug?: boolean;
}

/** docker's exit status when the daemon refused or failed a request. */
export const EXIT_DAEMON_ERROR = 1;

/**
 * Connect and run `fn`; an error the agent answered with (no such container, conflict, ...) or a
 * broken connection is printed and makes the exit status 1, as the docker CLI's "Error response
 * from daemon" does (NotFound would otherwise be a usage error, exit 2, in report-error.ts).
 * Flags are parsed before this, so their mistakes still exit 2.
 */
export async function withAgent(opts: ContainerOptions, fn: (client: AgentClient) => Promise<void>, exitCode = EXIT_DAEMON_ERROR): Promise<void> {
  const client = await connectAgent(opts);
  try {
    await fn(client);
  } catch (e) {
    process.stderr.write(formatError(e, opts.debug === true) + '\n');
    process.exitCode = exitCode;
  }
}

/**
 * docker stop/start/kill/rm/...: the action on each container in turn; the name as given is
 * printed when it succeeded, the error when not, and the others still get their turn.
 */
export async function forEachContainer(names: readonly string[], opts: ContainerOptions, action: (client: AgentClient, name: string) => Promise<void>): Promise<void> {
  await withAgent(opts, async (client) => {
    let failed = false;
    for (const name of names) {
      try {
        await action(client, name);
        process.stdout.write(`${name}\n`);
      } catch (e) {
        failed = true;
        process.stderr.write(formatError(e, opts.debug === true) + '\n');
      }
    }
    if (failed) process.exitCode = EXIT_DAEMON_ERROR;
  });
}

/** A container name or ID as a path segment. */
export function containerPath(name: string, rest = ''): string {
  return `/containers/${encodeURIComponent(name)}${rest}`;
}

/** The 12 hex digits docker shows for an ID. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

// ---- time flags ----------------------------------------------------------------------------------

/**
 * docker's opts.GetTimestamp: a Go duration is relative to now ("10m" = ten minutes ago), an
 * RFC 3339 date or date-time (local time without a zone) is absolute, and anything else must be
 * Unix seconds[.nanoseconds]. The result is what the API takes: "SECONDS.NANOSECONDS".
 */
export function timestampFlag(flag: string, value: string, nowMs: number): string {
  const v = value.trim();
  const d = v === '0' ? undefined : parseGoDurationMs(v);
  if (d !== undefined) return unixSeconds(nowMs - d);
  if (/^\d+(\.\d{1,9})?$/.test(v)) return v.includes('.') ? v : `${v}.000000000`;
  // Date-only and zone-less forms are local time (Go parses them in time.Local, as JS does for
  // date-times; a bare date JS would take as UTC, hence the added midnight).
  const m = /^\d{4}-\d{2}-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:\d{2})?)?$/.exec(v);
  if (m !== null) {
    const text = m[1] === undefined ? `${v}T00:00:00` : v;
    // JS takes milliseconds; the nanoseconds beyond them are kept from the text.
    const frac = /\.(\d{1,9})/.exec(text)?.[1] ?? '';
    const ms = Date.parse(text.replace(/\.\d+/, ''));
    if (!Number.isNaN(ms)) return `${Math.floor(ms / 1000)}.${frac.padEnd(9, '0')}`;
  }
  throw new InvalidArgument(`invalid value ${JSON.stringify(value)}: expected a duration (10m, 1h30m), an RFC 3339 date or a Unix timestamp`, { subject: flag });
}

function unixSeconds(ms: number): string {
  const s = Math.floor(ms / 1000);
  const nanos = Math.round((ms - s * 1000) * 1e6);
  return `${s}.${String(nanos).padStart(9, '0')}`;
}

// ---- output streams ------------------------------------------------------------------------------

/**
 * Copy a logs/exec answer onto our stdout and stderr: Docker's 8-byte frames without a TTY, raw
 * bytes with one (the Content-Type says which; without it, the caller says whether there is a TTY).
 */
export async function demultiplex(body: IncomingMessage, headers: IncomingHttpHeaders, tty: boolean | undefined): Promise<void> {
  const type = headers['content-type'] ?? '';
  const raw = type === RAW_CONTENT_TYPE || (type !== 'application/vnd.docker.multiplexed-stream' && tty === true);
  const decoder = new FrameDecoder();
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (raw) {
      await write(process.stdout, chunk);
      continue;
    }
    for (const f of decoder.push(chunk)) await write(f.stream === 'stderr' ? process.stderr : process.stdout, f.payload);
  }
}

function write(out: NodeJS.WritableStream, data: Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (out.write(data)) resolve();
    else out.once('drain', () => resolve());
  });
}

/** Ctrl-C as an AbortSignal, for the commands that follow a stream; `off` restores the default. */
export function interruptSignal(): { signal: AbortSignal; off: () => void } {
  const controller = new AbortController();
  const on = (): void => controller.abort();
  process.once('SIGINT', on);
  process.once('SIGTERM', on);
  return {
    signal: controller.signal,
    off: () => {
      process.removeListener('SIGINT', on);
      process.removeListener('SIGTERM', on);
    },
  };
}

/** A stream read that ended because we aborted it is a normal end, not an error. */
export function endedByUs(e: unknown, signal: AbortSignal): boolean {
  return signal.aborted || e instanceof Cancelled;
}

// ---- ps ------------------------------------------------------------------------------------------

/** The docker CLI's formatter.Ellipsis: at most `width` characters, the last one "…" when cut. */
export function ellipsis(s: string, width: number): string {
  const chars = [...s];
  if (chars.length <= width) return s;
  if (width <= 1) return chars.slice(0, width).join('');
  return chars.slice(0, width - 1).join('') + '…';
}

export interface PortJSON {
  readonly IP?: string;
  readonly PrivatePort: number;
  readonly PublicPort?: number;
  readonly Type: string;
}

/** `docker ps` PORTS: "0.0.0.0:8080->80/tcp, 443/tcp" (ports without a host side show alone). */
export function formatPorts(ports: readonly PortJSON[] | null | undefined): string {
  const items = [...(ports ?? [])].sort((a, b) => a.PrivatePort - b.PrivatePort || a.Type.localeCompare(b.Type) || (a.PublicPort ?? 0) - (b.PublicPort ?? 0));
  const out: string[] = [];
  for (const p of items) {
    let text = `${p.PrivatePort}/${p.Type}`;
    if (p.PublicPort !== undefined && p.PublicPort !== 0) {
      const ip = p.IP ?? '';
      text = `${ip.includes(':') ? `[${ip}]` : ip}:${p.PublicPort}->${text}`;
    }
    if (!out.includes(text)) out.push(text);
  }
  return out.join(', ');
}

// ---- stats ---------------------------------------------------------------------------------------

export interface StatsJSON {
  readonly id?: string;
  readonly name?: string;
  readonly cpu_stats?: { readonly cpu_usage?: { readonly total_usage?: number; readonly percpu_usage?: readonly number[] }; readonly system_cpu_usage?: number; readonly online_cpus?: number };
  readonly precpu_stats?: { readonly cpu_usage?: { readonly total_usage?: number }; readonly system_cpu_usage?: number };
  readonly memory_stats?: { readonly usage?: number; readonly limit?: number; readonly stats?: Readonly<Record<string, number>> };
  readonly networks?: Readonly<Record<string, { readonly rx_bytes?: number; readonly tx_bytes?: number }>>;
  readonly blkio_stats?: { readonly io_service_bytes_recursive?: readonly { readonly op: string; readonly value: number }[] | null };
  readonly pids_stats?: { readonly current?: number };
}

export interface StatsRow {
  readonly id: string;
  readonly name: string;
  readonly cpuPercent: number;
  readonly memoryBytes: number;
  readonly memoryLimitBytes: number;
  readonly memoryPercent: number;
  readonly netRxBytes: number;
  readonly netTxBytes: number;
  readonly blockReadBytes: number;
  readonly blockWriteBytes: number;
  readonly pids: number;
}

/** What `docker stats` computes from one StatsJSON (cli/command/container/stats_helpers.go). */
export function statsRow(s: StatsJSON): StatsRow {
  const cpuDelta = (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (s.cpu_stats?.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  const online = s.cpu_stats?.online_cpus || s.cpu_stats?.cpu_usage?.percpu_usage?.length || 0;
  const cpuPercent = systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
  // calculateMemUsageUnixNoCache: the page cache that can be dropped does not count
  // (total_inactive_file on cgroup v1, inactive_file on v2).
  const usage = s.memory_stats?.usage ?? 0;
  const st = s.memory_stats?.stats ?? {};
  const inactive = st.total_inactive_file ?? st.inactive_file;
  const memoryBytes = inactive !== undefined && inactive < usage ? usage - inactive : usage;
  const memoryLimitBytes = s.memory_stats?.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes ?? 0;
    tx += n.tx_bytes ?? 0;
  }
  let read = 0;
  let written = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = e.op.toLowerCase();
    if (op === 'read') read += e.value;
    else if (op === 'write') written += e.value;
  }
  return {
    id: s.id ?? '', name: (s.name ?? '').replace(/^\//, ''), cpuPercent, memoryBytes, memoryLimitBytes,
    memoryPercent: memoryLimitBytes > 0 ? (memoryBytes / memoryLimitBytes) * 100 : 0,
    netRxBytes: rx, netTxBytes: tx, blockReadBytes: read, blockWriteBytes: written, pids: s.pids_stats?.current ?? 0,
  };
}

export const STATS_HEADER = ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'] as const;

export function statsCells(r: StatsRow): string[] {
  return [
    shortId(r.id), r.name, `${r.cpuPercent.toFixed(2)}%`, `${bytesSize(r.memoryBytes)} / ${bytesSize(r.memoryLimitBytes)}`, `${r.memoryPercent.toFixed(2)}%`,
    `${humanSize(r.netRxBytes)} / ${humanSize(r.netTxBytes)}`, `${humanSize(r.blockReadBytes)} / ${humanSize(r.blockWriteBytes)}`, String(r.pids),
  ];
}

// ---- inspect -f ----------------------------------------------------------------------------------

type Piece = { readonly text: string } | { readonly path: readonly string[]; readonly json: boolean };

/**
 * A minimal Go text/template: literal text and actions `{{.A.B}}` (dotted field access) or
 * `{{json .A.B}}`; anything else (pipes, functions, range, if) is refused, naming the action.
 */
export function parseTemplate(template: string): Piece[] {
  const pieces: Piece[] = [];
  let rest = template;
  while (rest !== '') {
    const open = rest.indexOf('{{');
    if (open < 0) {
      pieces.push({ text: rest });
      break;
    }
    if (open > 0) pieces.push({ text: rest.slice(0, open) });
    const close = rest.indexOf('}}', open);
    if (close < 0) throw new InvalidArgument(`template: unclosed action in ${JSON.stringify(template)}`, { subject: '--format' });
    const action = rest.slice(open + 2, close).trim();
    const m = /^(json\s+)?\.((?:[A-Za-z_][A-Za-z0-9_]*)(?:\.[A-Za-z_][A-Za-z0-9_]*)*)?$/.exec(action);
    if (m === null) {
      throw new InvalidArgument(`template action {{${action}}} is not supported: only field references like {{.State.Status}} and {{json .Config}} are`, { subject: '--format' });
    }
    pieces.push({ path: m[2] === undefined ? [] : m[2].split('.'), json: m[1] !== undefined });
    rest = rest.slice(close + 2);
  }
  return pieces;
}

/** Fill a parsed template from a JSON value, printing values as Go's fmt does for decoded JSON. */
export function renderTemplate(pieces: readonly Piece[], value: unknown): string {
  return pieces
    .map((p) => {
      if ('text' in p) return p.text;
      let cur: unknown = value;
      for (const key of p.path) {
        if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) {
          throw new InvalidArgument(`template: can't evaluate field ${key} in ${goPrint(cur)}`, { subject: '--format' });
        }
        if (!(key in cur)) return p.json ? 'null' : '<no value>';
        cur = (cur as Record<string, unknown>)[key];
      }
      return p.json ? JSON.stringify(cur) : goPrint(cur);
    })
    .join('');
}

function goPrint(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goPrint).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `map[${Object.keys(o).sort().map((k) => `${k}:${goPrint(o[k])}`).join(' ')}]`;
  }
  return String(v);
}
