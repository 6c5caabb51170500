// `docker top`: the host's `ps` output cut down to the container's processes, as dockerd does
// (daemon/top_unix.go parsePSOutput): the first line gives the titles, the PID column is found by
// name, and each row is split on blanks with the last column (the command) keeping its spaces.
import { InvalidArgument } from '../../lib/errors.js';

export interface TopResult {
  readonly Titles: string[];
  readonly Processes: string[][];
}

/** Docker's default `ps` arguments for top. */
export const DEFAULT_PS_ARGS = '-ef';

/** ps_args as argv; Docker refuses arguments that would make ps print something else entirely. */
export function psArgs(text: string | null | undefined): string[] {
  const t = (text ?? '').trim();
  const args = t === '' ? [DEFAULT_PS_ARGS] : t.split(/\s+/);
  for (const a of args) {
    // Only options: no command substitution happens (no shell), but a file name would be read.
    if (!/^-{0,2}[A-Za-z0-9,=:%_+-]*$/.test(a)) throw new InvalidArgument(`ps_args: ${JSON.stringify(a)} is not a ps option`, { subject: 'ps_args' });
  }
  return args;
}

export function parsePsOutput(output: string, pids: readonly number[]): TopResult {
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  const titles = (lines[0] ?? '').trim().split(/\s+/).filter((t) => t !== '');
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new InvalidArgument(`Couldn't find PID field in ps output`, { subject: 'ps_args' });
  const wanted = new Set(pids);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    const pid = Number(fields[pidIndex]);
    if (!Number.isInteger(pid) || !wanted.has(pid)) continue;
    const row = fields.slice(0, titles.length - 1);
    row.push(fields.slice(titles.length - 1).join(' '));
    processes.push(row);
  }
  return { Titles: titles, Processes: processes };
}
