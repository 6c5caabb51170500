// atomic container prune [-f] [--filter until=|label=|label!=]...
// Remove every stopped container. Asks first on a terminal; elsewhere -f is required.
import { createInterface } from 'node:readline/promises';
import { FailedPrecondition } from '../../lib/errors.js';
import { humanSize } from '../../lib/human-units.js';
import { connectAgent, filtersJson, type AgentOptions } from './agent-common.js';

export interface ContainerPruneOptions extends AgentOptions {
  readonly force?: boolean;
  readonly filter?: string[];
  readonly json?: boolean;
}

export async function run(opts: ContainerPruneOptions): Promise<void> {
  if (opts.force !== true) {
    if (process.stdin.isTTY !== true) throw new FailedPrecondition('container prune removes containers: pass -f (--force) when not asking on a terminal');
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question('WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) return;
  }
  const client = await connectAgent(opts);
  const q = filtersJson(opts.filter ?? []);
  const r = await client.json<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/containers/prune', { query: { ...(q === undefined ? {} : { filters: q }) } });
  const deleted = r.ContainersDeleted ?? [];
  if (opts.json === true) {
    process.stdout.write(JSON.stringify({ containersDeleted: deleted, spaceReclaimedBytes: r.SpaceReclaimed }, null, 2) + '\n');
    return;
  }
  if (deleted.length > 0) process.stdout.write(`Deleted Containers:\n${deleted.join('\n')}\n\n`);
  process.stdout.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
}
