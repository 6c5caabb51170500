// atomic logs [-f] [-t] [--since T] [--until T] [-n|--tail N] CONTAINER
// A container's output as `docker logs` shows it: its stdout on our stdout, its stderr on our
// stderr. --since/--until take a duration (10m: ten minutes ago), an RFC 3339 date or Unix
// seconds; like the docker CLI we send Unix timestamps. With -f, until the container exits or
// Ctrl-C.
import { InvalidArgument } from '../../lib/errors.js';
import { containerPath, demultiplex, endedByUs, interruptSignal, timestampFlag, withAgent, type ContainerOptions } from './container-common.js';

export interface LogsOptions extends ContainerOptions {
  readonly follow?: boolean;
  readonly timestamps?: boolean;
  readonly since?: string;
  readonly until?: string;
  readonly tail?: string;
}

export async function run(container: string, opts: LogsOptions): Promise<void> {
  const now = Date.now();
  const tail = opts.tail ?? 'all';
  if (tail !== 'all' && !/^\d+$/.test(tail)) throw new InvalidArgument(`invalid value ${JSON.stringify(tail)}: a number of lines or "all"`, { subject: '--tail' });
  const query = {
    follow: opts.follow === true ? '1' : undefined,
    timestamps: opts.timestamps === true ? '1' : undefined,
    since: opts.since === undefined ? undefined : timestampFlag('--since', opts.since, now),
    until: opts.until === undefined ? undefined : timestampFlag('--until', opts.until, now),
    tail,
    stdout: '1',
    stderr: '1',
  };
  await withAgent(opts, async (client) => {
    const interrupt = interruptSignal();
    try {
      const res = await client.open('GET', containerPath(container, '/logs'), { query, signal: interrupt.signal });
      await demultiplex(res.body, res.headers, undefined);
    } catch (e) {
      if (!endedByUs(e, interrupt.signal)) throw e;
    } finally {
      interrupt.off();
    }
  });
}
