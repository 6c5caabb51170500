// atomic volume rm [-f] NAME...
// Remove volumes and their data; prints each name removed. A volume in use or missing is reported
// and the others still go; the exit status is then 1, as with `docker volume rm`.
import { formatError } from '../report-error.js';
import { connectAgent, type AgentOptions } from './agent-common.js';

export async function run(names: readonly string[], opts: AgentOptions & { force?: boolean; debug?: boolean }): Promise<void> {
  const client = await connectAgent(opts);
  let failed = false;
  for (const n of names) {
    try {
      await client.request('DELETE', `/volumes/${encodeURIComponent(n)}`, { query: { force: opts.force === true ? '1' : undefined } });
      process.stdout.write(`${n}\n`);
    } catch (e) {
      failed = true;
      process.stderr.write(formatError(e, opts.debug === true) + '\n');
    }
  }
  if (failed) process.exitCode = 1;
}
