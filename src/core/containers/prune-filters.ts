// The `until` filter of prune endpoints (moby api/types/filters + pkg/timetypes GetTimestamp):
// a Unix timestamp (seconds, optional fraction), an RFC 3339 date or date-time, or a Go duration
// ("10m", "1h30m", "24h") meaning that long before now. Objects created before it are pruned.
import { InvalidArgument } from '../../lib/errors.js';

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in milliseconds; undefined when `text` is not a duration. */
export function parseGoDurationMs(text: string): number | undefined {
  const m = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(text);
  if (m === null) return text === '0' ? 0 : undefined;
  let total = 0;
  for (const part of text.replace(/^[+-]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * UNIT_MS[part[2]!]!;
  return m[1] === '-' ? -total : total;
}

/** The instant (ms since the epoch) an `until` value names, relative to `nowMs` for durations. */
export function untilMs(value: string, nowMs: number): number {
  const v = value.trim();
  const d = parseGoDurationMs(v);
  if (d !== undefined) return nowMs - d;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  if (/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)) {
    const t = Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v);
    if (!Number.isNaN(t)) return t;
  }
  throw new InvalidArgument(`invalid filter 'until=${value}': not a timestamp, date or duration`, { subject: 'until' });
}
