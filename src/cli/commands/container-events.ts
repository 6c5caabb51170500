// atomic events [--since T] [--until T] [-f KEY=VALUE]... [--json]
// The agent's events as `docker events` prints them, one line each:
//   2026-12-07T06:59:00.000000000Z container start ID (image=busybox, name=web)
// until --until is reached or Ctrl-C. --since/--until take a duration, an RFC 3339 date or Unix
// seconds, sent as Unix timestamps as the docker CLI does.
import { filtersJson } from './agent-common.js';
import { endedByUs, interruptSignal, timestampFlag, withAgent, type ContainerOptions } from './container-common.js';

export interface EventsOptions extends ContainerOptions {
  readonly since?: string;
  readonly until?: string;
  readonly filter?: readonly string[];
  readonly json?: boolean;
}

export interface EventMessage {
  readonly Type: string;
  readonly Action: string;
  readonly Actor: { readonly ID: string; readonly Attributes?: Readonly<Record<string, string>> };
  readonly time: number;
  /** Nanoseconds since the epoch: beyond 2^53, so read from the JSON text (see parseEventLine). */
  readonly timeNano?: bigint;
}

/** An event line decoded; timeNano taken from the text, as a JS number would round it. */
export function parseEventLine(line: string): EventMessage {
  const e = JSON.parse(line) as Omit<EventMessage, 'timeNano'>;
  const nano = /"timeNano"\s*:\s*(\d+)/.exec(line)?.[1];
  return { ...e, ...(nano === undefined ? {} : { timeNano: BigInt(nano) }) };
}

/** jsonmessage.RFC3339NanoFixed of the event's time, then type, action, actor and sorted attributes. */
export function formatEvent(e: EventMessage): string {
  const nanos = e.timeNano ?? BigInt(e.time) * 1_000_000_000n;
  const seconds = nanos / 1_000_000_000n;
  const date = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  const fraction = String(nanos % 1_000_000_000n).padStart(9, '0');
  const attrs = Object.entries(e.Actor.Attributes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`);
  return `${date}.${fraction}Z ${e.Type} ${e.Action} ${e.Actor.ID}${attrs.length > 0 ? ` (${attrs.join(', ')})` : ''}`;
}

export async function run(opts: EventsOptions): Promise<void> {
  const now = Date.now();
  const query = {
    since: opts.since === undefined ? undefined : timestampFlag('--since', opts.since, now),
    until: opts.until === undefined ? undefined : timestampFlag('--until', opts.until, now),
    filters: filtersJson(opts.filter),
  };
  await withAgent(opts, async (client) => {
    const interrupt = interruptSignal();
    try {
      const res = await client.open('GET', '/events', { query, signal: interrupt.signal });
      let buffered = '';
      const emit = (line: string): void => {
        if (line.trim() === '') return;
        process.stdout.write((opts.json === true ? line.trim() : formatEvent(parseEventLine(line))) + '\n');
      };
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        buffered += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          emit(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
        }
      }
      emit(buffered);
    } catch (e) {
      if (!endedByUs(e, interrupt.signal)) throw e;
    } finally {
      interrupt.off();
    }
  });
}
