// cc_timezone: Debian's set_timezone (distros.set_etc_timezone) writes /etc/timezone and points
// /etc/localtime at /usr/share/zoneinfo/<timezone>; the executor checks the zone file exists in
// the root (distros._find_tz_file).
import type { ModuleInput, ModulePlan } from '../module-input.js';

export function planTimezone(input: ModuleInput): ModulePlan {
  const tz = input.config['timezone'];
  if (tz === undefined || tz === null || tz === '' || tz === false) return { steps: [], problems: [] };
  if (typeof tz !== 'string') return { steps: [], problems: ['/timezone: expected a time zone name like Europe/Paris'] };
  // The name becomes a path under /usr/share/zoneinfo: it must stay there.
  if (tz.startsWith('/') || tz.split('/').some((p) => p === '..' || p === '.' || p === '')) {
    return { steps: [], problems: [`/timezone: ${JSON.stringify(tz)} is not a time zone name`] };
  }
  return { steps: [{ action: 'set-timezone', timezone: tz }], problems: [] };
}
