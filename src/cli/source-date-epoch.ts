import { InvalidArgument } from '../lib/errors.js';

/** SOURCE_DATE_EPOCH (reproducible-builds.org): whole seconds since the epoch, or unset. */
export function sourceDateEpoch(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,12}$/.test(raw)) throw new InvalidArgument(`SOURCE_DATE_EPOCH=${raw}: expected whole seconds since 1970-01-01`);
  return Number(raw);
}
