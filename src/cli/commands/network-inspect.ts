// atomic network inspect NETWORK...
// The networks as a JSON array (Docker's NetworkResource). A network that is not found is
// reported and the others still print; the exit status is then 1, as with `docker network inspect`.
import { formatError } from '../report-error.js';
import { connectAgent, type AgentOptions } from './agent-common.js';

export async function run(names: readonly string[], opts: AgentOptions & { debug?: boolean }): Promise<void> {
  const client = await connectAgent(opts);
  const found: unknown[] = [];
  let failed = false;
  for (const n of names) {
    try {
      found.push(await client.json('GET', `/networks/${encodeURIComponent(n)}`));
    } catch (e) {
      failed = true;
      process.stderr.write(formatError(e, opts.debug === true) + '\n');
    }
  }
  process.stdout.write(JSON.stringify(found, null, 4) + '\n');
  if (failed) process.exitCode = 1;
}
