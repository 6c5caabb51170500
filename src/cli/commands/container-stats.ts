// atomic stats [--no-stream] [-a] [--json] [CONTAINER...]
// Resource use per container, computed from the API's stats JSON as the docker CLI does (CPU % =
// cpu delta / system delta × online CPUs × 100; memory without the inactive page cache). With
// --no-stream one table; otherwise the table is redrawn every second until Ctrl-C. Without
// names: the running containers (all with -a).
import type { AgentClient } from '../../adapters/agent-client/agent-client.js';
import { formatTable } from './agent-common.js';
import { containerPath, endedByUs, interruptSignal, statsCells, statsRow, withAgent, STATS_HEADER, type ContainerOptions, type StatsJSON } from './container-common.js';

export interface StatsOptions extends ContainerOptions {
  /** commander's --no-stream */
  readonly stream?: boolean;
  readonly all?: boolean;
  readonly json?: boolean;
}

async function targets(client: AgentClient, names: readonly string[], all: boolean): Promise<string[]> {
  if (names.length > 0) return [...names];
  const list = await client.json<{ Id: string }[]>('GET', '/containers/json', { query: { all: all ? '1' : undefined } });
  return list.map((c) => c.Id);
}

export async function run(names: readonly string[], opts: StatsOptions): Promise<void> {
  await withAgent(opts, async (client) => {
    const ids = await targets(client, names, opts.all === true);
    if (opts.stream === false) {
      // One sample each, all at once (the agent takes a second per container to fill precpu_stats).
      const samples = await Promise.all(ids.map((id) => client.json<StatsJSON>('GET', containerPath(id, '/stats'), { query: { stream: '0' } })));
      if (opts.json === true) process.stdout.write(JSON.stringify(samples.map(statsRow), null, 2) + '\n');
      else process.stdout.write(formatTable([...STATS_HEADER], samples.map((s) => statsCells(statsRow(s)))));
      return;
    }
    const interrupt = interruptSignal();
    const latest = new Map<string, StatsJSON>();
    const readers = ids.map(async (id) => {
      const res = await client.open('GET', containerPath(id, '/stats'), { query: { stream: '1' }, signal: interrupt.signal });
      let buffered = '';
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        buffered += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line !== '') latest.set(id, JSON.parse(line) as StatsJSON);
        }
      }
    });
    const draw = (): void => {
      const rows = ids.filter((id) => latest.has(id)).map((id) => statsCells(statsRow(latest.get(id) as StatsJSON)));
      // A terminal gets the table redrawn in place (clear screen, home); a pipe gets one table per tick.
      if (process.stdout.isTTY === true) process.stdout.write('\x1b[2J\x1b[H');
      process.stdout.write(formatTable([...STATS_HEADER], rows));
    };
    const timer = setInterval(draw, 1000);
    try {
      await Promise.all(readers);
    } catch (e) {
      if (!endedByUs(e, interrupt.signal)) throw e;
    } finally {
      clearInterval(timer);
      interrupt.off();
    }
  });
}
