// atomic network ls [-q] [--no-trunc] [-f name=X|id=X|driver=D|type=custom|builtin|label=K[=V]]... [--json]
// Networks as `docker network ls` lists them: NETWORK ID, NAME, DRIVER, SCOPE.
import { connectAgent, filtersJson, formatTable, wantsJson, type AgentOptions } from './agent-common.js';

export interface NetworkLsOptions extends AgentOptions {
  readonly quiet?: boolean;
  readonly trunc?: boolean;
  readonly filter?: string[];
  readonly json?: boolean;
  readonly format?: string;
}

interface NetworkSummary {
  readonly Id: string;
  readonly Name: string;
  readonly Driver: string;
  readonly Scope: string;
}

export async function run(opts: NetworkLsOptions): Promise<void> {
  const client = await connectAgent(opts);
  const q = filtersJson(opts.filter);
  const list = await client.json<NetworkSummary[]>('GET', '/networks', { query: { ...(q === undefined ? {} : { filters: q }) } });
  // docker sorts by name.
  const sorted = [...list].sort((a, b) => a.Name.localeCompare(b.Name));
  const id = (n: NetworkSummary): string => (opts.trunc === false ? n.Id : n.Id.slice(0, 12));
  if (wantsJson(opts)) process.stdout.write(JSON.stringify(sorted, null, 2) + '\n');
  else if (opts.quiet === true) process.stdout.write(sorted.map((n) => `${id(n)}\n`).join(''));
  else process.stdout.write(formatTable(['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], sorted.map((n) => [id(n), n.Name, n.Driver, n.Scope])));
}
