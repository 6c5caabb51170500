// The `until` filter of prune endpoints (moby api/types/filters + pkg/timetypes GetTimestamp):
// a Unix timestamp (seconds, optional fraction), an RFC 3339 date or date-time, or a Go duration
// ("10m", "1h30m", "24h") meaning that long before now. Objects created before it are pruned.
import { InvalidArgument } from '../../lib/errors.js';
import { parseGoDurationMs } from '../../lib/go-duration.js';

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
