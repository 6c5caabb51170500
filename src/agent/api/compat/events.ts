// GET /events (Engine API "Monitor events"): the engine's events as a stream of JSON objects, one
// per line, with Docker's filters (type, container, event, label, image) and time bounds. Past
// events (`since`) come from a bounded in-memory history, as dockerd keeps one (1000 events in
// dockerd's events.Events; the same bound here).
import { InvalidArgument } from '../../../lib/errors.js';
import type { ContainerEvent, ContainerEvents } from '../../containers/container-events.js';
import type { Router } from '../router.js';
import { labelsMatch, parseFilters } from './filters.js';

const HISTORY = 1000;

/** since/until of /events: Unix seconds (fractions allowed), an RFC 3339 date, or absent. */
function timeBoundNs(v: string | null, name: string): bigint | undefined {
  if (v === null || v === '') return undefined;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (m !== null) return BigInt(m[1] as string) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new InvalidArgument(`${name}: ${JSON.stringify(v)} is not a timestamp`, { subject: name });
  return BigInt(ms) * 1_000_000n;
}

export function matchesEventFilters(e: ContainerEvent, f: ReadonlyMap<string, readonly string[]>): boolean {
  const any = (key: string, test: (v: string) => boolean): boolean => {
    const values = f.get(key);
    return values === undefined || values.length === 0 || values.some(test);
  };
  const attrs = e.Actor.Attributes;
  return (
    any('type', (v) => v === e.Type) &&
    any('event', (v) => v === e.Action) &&
    any('container', (v) => e.Actor.ID.startsWith(v) || attrs.name === v.replace(/^\//, '')) &&
    any('image', (v) => attrs.image === v || e.from === v) &&
    labelsMatch(attrs, f.get('label') ?? [])
  );
}

export function eventRoutes(router: Router, events: ContainerEvents): void {
  const history: ContainerEvent[] = [];
  events.on((e) => {
    history.push(e);
    if (history.length > HISTORY) history.shift();
  });

  router.add('GET', '/events', async (ctx) => {
    const f = parseFilters(ctx.query.get('filters'), ['type', 'event', 'container', 'image', 'label']);
    const since = timeBoundNs(ctx.query.get('since'), 'since');
    const until = timeBoundNs(ctx.query.get('until'), 'until');
    const controller = new AbortController();
    ctx.res.once('close', () => controller.abort());
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    const inRange = (e: ContainerEvent): boolean => (since === undefined || BigInt(e.timeNano) >= since) && (until === undefined || BigInt(e.timeNano) <= until);
    // Replay and subscription happen in one synchronous stretch (the generator registers its
    // listener on the first next()), so no event falls between them or arrives twice.
    const live = events.subscribe(controller.signal);
    if (since !== undefined) for (const e of history) if (inRange(e) && matchesEventFilters(e, f)) ctx.res.write(JSON.stringify(e) + '\n');
    const untilMs = until === undefined ? undefined : Number(until / 1_000_000n) - Date.now();
    if (untilMs !== undefined) {
      if (untilMs <= 0) controller.abort();
      else setTimeout(() => controller.abort(), untilMs).unref();
    }
    try {
      for await (const e of live) {
        if (inRange(e) && matchesEventFilters(e, f)) ctx.res.write(JSON.stringify(e) + '\n');
      }
    } finally {
      ctx.res.end();
    }
    return 'handled' as const;
  });
}
