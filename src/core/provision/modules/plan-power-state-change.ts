// cc_power_state_change (config key `power_state`): recorded, never executed while applying to
// a root tree; whoever owns the machine's power acts on it after the final stage.
import { isPlainObject } from '../../cloud-config/merge-cloud-config.js';
import type { ModuleInput, ModulePlan } from '../module-input.js';
import type { PowerStateRequest } from '../steps.js';

/** Distro.shutdown_options_map. */
const SHUTDOWN_OPTIONS = { halt: '-H', poweroff: '-P', reboot: '-r' } as const;

export function planPowerStateChange(input: ModuleInput): ModulePlan {
  const p = input.config['power_state'];
  if (p === undefined || p === null) return { steps: [], problems: [] };
  const no = (message: string): ModulePlan => ({ steps: [], problems: [`/power_state${message}; not performing the power state change`] });
  if (!isPlainObject(p)) return no(': expected a mapping');
  const mode = p['mode'];
  if (mode !== 'halt' && mode !== 'poweroff' && mode !== 'reboot') return no(`/mode: must be one of halt, poweroff, reboot, found ${JSON.stringify(mode ?? null)}`);
  // distro.shutdown_command: 'now', or a number of minutes written +N.
  const rawDelay = p['delay'] ?? 'now';
  let delay: 'now' | number;
  if (rawDelay === 'now') delay = 'now';
  else if (typeof rawDelay === 'number' && Number.isInteger(rawDelay)) delay = rawDelay;
  else if (typeof rawDelay === 'string' && /^\s*[+-]?\d+\s*$/.test(rawDelay)) delay = parseInt(rawDelay, 10);
  else return no(`/delay: must be 'now' or '+m' (minutes), found ${JSON.stringify(rawDelay)}`);
  const rawTimeout = p['timeout'] ?? 30;
  const timeoutSeconds = typeof rawTimeout === 'number' ? rawTimeout : typeof rawTimeout === 'string' ? Number(rawTimeout) : NaN;
  if (!Number.isFinite(timeoutSeconds)) return no(`/timeout: failed to convert ${JSON.stringify(rawTimeout)} to a number`);
  const rawCondition = p['condition'] ?? true;
  if (rawCondition === false) return { steps: [], problems: [] };
  let condition: PowerStateRequest['condition'];
  if (rawCondition === true) condition = true;
  else if (typeof rawCondition === 'string') condition = rawCondition;
  else if (Array.isArray(rawCondition)) condition = rawCondition.map((c) => String(c));
  else return no('/condition: must be a boolean, a string or a list');
  const message = typeof p['message'] === 'string' && p['message'] !== '' ? p['message'] : undefined;
  const command = ['shutdown', SHUTDOWN_OPTIONS[mode], delay === 'now' ? 'now' : `+${delay}`, ...(message === undefined ? [] : [message])];
  const data: PowerStateRequest = { mode, delay, timeoutSeconds, condition, command, ...(message === undefined ? {} : { message }) };
  return { steps: [{ action: 'record', what: 'power-state', data }], problems: [] };
}
