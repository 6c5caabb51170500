// atomic rmi [-f] IMAGE...
// Remove images, as `docker rmi`: for each name, what was untagged and what deleted; a name that
// fails is reported and the others still go, and the exit status is 1 if any failed.
import { formatError } from '../report-error.js';
import { connectAgent, pathName, type AgentOptions } from './agent-common.js';

export interface RmiOptions extends AgentOptions {
  readonly force?: boolean;
  readonly debug?: boolean;
  readonly json?: boolean;
}

type DeleteItem = { readonly Untagged?: string; readonly Deleted?: string };

export async function run(names: readonly string[], opts: RmiOptions): Promise<void> {
  const client = await connectAgent(opts);
  let failed = false;
  const all: DeleteItem[] = [];
  for (const name of names) {
    try {
      const items = await client.json<DeleteItem[]>('DELETE', `/images/${pathName(name)}`, { query: { force: opts.force === true ? '1' : undefined } });
      all.push(...items);
      if (opts.json === true) continue;
      for (const i of items) {
        if (i.Untagged !== undefined) process.stdout.write(`Untagged: ${i.Untagged}\n`);
        if (i.Deleted !== undefined) process.stdout.write(`Deleted: ${i.Deleted}\n`);
      }
    } catch (e) {
      failed = true;
      process.stderr.write(formatError(e, opts.debug === true) + '\n');
    }
  }
  if (opts.json === true) process.stdout.write(JSON.stringify(all, null, 2) + '\n');
  // Like docker rmi: one failed name makes the whole command fail, whatever the reason.
  if (failed) process.exitCode = 1;
}
