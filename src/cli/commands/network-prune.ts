// atomic network prune [-f] [--filter label=K[=V]|label!=K[=V]]...
// Remove user-defined networks that no container uses. Asks first on a terminal; elsewhere -f is
// required, as with volume prune.
import { createInterface } from 'node:readline/promises';
import { FailedPrecondition } from '../../lib/errors.js';
import { connectAgent, filtersJson, type AgentOptions } from './agent-common.js';

export interface NetworkPruneOptions extends AgentOptions {
  readonly force?: boolean;
  readonly filter?: string[];
  readonly json?: boolean;
}

export async function run(opts: NetworkPruneOptions): Promise<void> {
  if (opts.force !== true) {
    if (process.stdin.isTTY !== true) throw new FailedPrecondition('network prune removes networks: pass -f (--force) when not asking on a terminal');
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question('WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ');
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) return;
  }
  const client = await connectAgent(opts);
  const q = filtersJson(opts.filter);
  const r = await client.json<{ NetworksDeleted: string[] | null }>('POST', '/networks/prune', { query: { ...(q === undefined ? {} : { filters: q }) } });
  const deleted = r.NetworksDeleted ?? [];
  if (opts.json === true) process.stdout.write(JSON.stringify({ networksDeleted: deleted }, null, 2) + '\n');
  else if (deleted.length > 0) process.stdout.write(`Deleted Networks:\n${deleted.join('\n')}\n`);
}
