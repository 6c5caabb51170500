// What every benchmark needs: the median of its runs, rounding for the results file, and one timed
// run of a command (which must succeed: a failed run is not a time).
import { spawnSync } from 'node:child_process';

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

/** Milliseconds of one run of `argv`, output discarded. */
export function timeOnce(argv: readonly string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1) as string[], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}
