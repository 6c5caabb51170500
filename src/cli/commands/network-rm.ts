// atomic network rm NETWORK...
// Remove networks; prints each one removed. One in use or missing is reported and the others
// still go; the exit status is then 1, as with `docker network rm`.
import { formatError } from '../report-error.js';
import { connectAgent, type AgentOptions } from './agent-common.js';

export async function run(names: readonly string[], opts: AgentOptions & { debug?: boolean }): Promise<void> {
  const client = await connectAgent(opts);
  let failed = false;
  for (const n of names) {
    try {
      await client.request('DELETE', `/networks/${encodeURIComponent(n)}`);
      process.stdout.write(`${n}\n`);
    } catch (e) {
      failed = true;
      process.stderr.write(formatError(e, opts.debug === true) + '\n');
    }
  }
  if (failed) process.exitCode = 1;
}
