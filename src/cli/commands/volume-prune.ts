// atomic volume prune [-a] [-f] [--filter label=K[=V]]... [--json]
// Remove volumes no container uses: anonymous ones, or all of them with -a (Docker API 1.42+).
// Asks first on a terminal; elsewhere -f is required, so a script never deletes data by accident.
import { createInterface } from 'node:readline/promises';
import { FailedPrecondition } from '../../lib/errors.js';
import { connectAgent, filtersJson, type AgentOptions } from './agent-common.js';
import { humanSize } from '../../lib/human-units.js';

export interface VolumePruneOptions extends AgentOptions {
  readonly all?: boolean;
  readonly force?: boolean;
  readonly filter?: string[];
  readonly json?: boolean;
}

export async function run(opts: VolumePruneOptions): Promise<void> {
  if (opts.force !== true) {
    if (process.stdin.isTTY !== true) throw new FailedPrecondition('volume prune deletes data: pass -f (--force) when not asking on a terminal');
    const what = opts.all === true ? 'all local volumes' : 'anonymous local volumes';
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question(`WARNING! This will remove ${what} not used by at least one container.\nAre you sure you want to continue? [y/N] `);
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) return;
  }
  const client = await connectAgent(opts);
  const q = filtersJson([...(opts.filter ?? []), ...(opts.all === true ? ['all=true'] : [])]);
  const r = await client.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', { query: { ...(q === undefined ? {} : { filters: q }) } });
  const deleted = r.VolumesDeleted ?? [];
  if (opts.json === true) {
    process.stdout.write(JSON.stringify({ volumesDeleted: deleted, spaceReclaimedBytes: r.SpaceReclaimed }, null, 2) + '\n');
    return;
  }
  if (deleted.length > 0) process.stdout.write(`Deleted Volumes:\n${deleted.join('\n')}\n\n`);
  process.stdout.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
}
