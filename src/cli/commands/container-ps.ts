// atomic ps [-a] [-q] [-n N] [-l] [-f KEY=VALUE]... [--no-trunc] [--json]
// List containers as `docker ps` does: CONTAINER ID, IMAGE, COMMAND (quoted, cut to 20 with …),
// CREATED ("N minutes ago"), STATUS (the agent's "Up 5 seconds" / "Exited (0) 3 seconds ago"),
// PORTS and NAMES; filters are the API's (name, label, status, ancestor, id).
import { filtersJson, formatTable, wantsJson, type AgentOptions } from './agent-common.js';
import { ellipsis, formatPorts, shortId, withAgent, type ContainerOptions, type PortJSON } from './container-common.js';
import { parseIntFlag } from '../../core/containers/run-flags.js';
import { humanDuration } from '../../lib/human-units.js';

export interface PsOptions extends ContainerOptions, AgentOptions {
  readonly all?: boolean;
  readonly quiet?: boolean;
  readonly last?: string;
  readonly latest?: boolean;
  readonly filter?: readonly string[];
  /** commander's --no-trunc */
  readonly trunc?: boolean;
  readonly json?: boolean;
  readonly format?: string;
}

export interface ContainerSummary {
  readonly Id: string;
  readonly Names?: readonly string[] | null;
  readonly Image: string;
  readonly Command: string;
  readonly Created: number;
  readonly Status: string;
  readonly Ports?: readonly PortJSON[] | null;
}

export function psRows(list: readonly ContainerSummary[], o: { trunc: boolean; nowMs: number }): string[][] {
  return list.map((c) => [
    o.trunc ? shortId(c.Id) : c.Id,
    o.trunc && /^sha256:[0-9a-f]{64}$/.test(c.Image) ? shortId(c.Image) : c.Image,
    JSON.stringify(o.trunc ? ellipsis(c.Command, 20) : c.Command),
    `${humanDuration(Math.max(0, o.nowMs - c.Created * 1000))} ago`,
    c.Status,
    formatPorts(c.Ports),
    (c.Names ?? []).map((n) => n.replace(/^\//, '')).join(','),
  ]);
}

export async function run(opts: PsOptions): Promise<void> {
  const json = wantsJson(opts);
  const filters = filtersJson(opts.filter);
  const limit = opts.latest === true ? 1 : opts.last === undefined ? undefined : parseIntFlag('--last', opts.last, -1);
  await withAgent(opts, async (client) => {
    const list = await client.json<ContainerSummary[]>('GET', '/containers/json', {
      query: { all: opts.all === true || (limit !== undefined && limit > 0) ? '1' : undefined, filters, limit: limit !== undefined && limit > 0 ? limit : undefined },
    });
    const trunc = opts.trunc !== false;
    if (json) process.stdout.write(JSON.stringify(list, null, 2) + '\n');
    else if (opts.quiet === true) for (const c of list) process.stdout.write(`${trunc ? shortId(c.Id) : c.Id}\n`);
    else process.stdout.write(formatTable(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], psRows(list, { trunc, nowMs: Date.now() })));
  });
}
