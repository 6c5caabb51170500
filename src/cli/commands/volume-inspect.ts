// atomic volume inspect NAME...
// The volumes as a JSON array (Docker's Volume objects). A name that is not found is reported and
// the others still print; the exit status is then 1, as with `docker volume inspect`.
import { formatError } from '../report-error.js';
import { connectAgent, type AgentOptions } from './agent-common.js';

export async function run(names: readonly string[], opts: AgentOptions & { debug?: boolean }): Promise<void> {
  const client = await connectAgent(opts);
  const found: unknown[] = [];
  let failed = false;
  for (const n of names) {
    try {
      found.push(await client.json('GET', `/volumes/${encodeURIComponent(n)}`));
    } catch (e) {
      failed = true;
      process.stderr.write(formatError(e, opts.debug === true) + '\n');
    }
  }
  process.stdout.write(JSON.stringify(found, null, 4) + '\n');
  if (failed) process.exitCode = 1;
}
