// atomic volume ls [-q] [-f dangling=true|name=X|label=K[=V]|driver=D]... [--json]
// Volumes as `docker volume ls` lists them: DRIVER and VOLUME NAME.
import { connectAgent, filtersJson, formatTable, wantsJson, type AgentOptions } from './agent-common.js';

export interface VolumeLsOptions extends AgentOptions {
  readonly quiet?: boolean;
  readonly filter?: string[];
  readonly json?: boolean;
  readonly format?: string;
}

export async function run(opts: VolumeLsOptions): Promise<void> {
  const json = wantsJson(opts);
  const client = await connectAgent(opts);
  const q = filtersJson(opts.filter);
  const r = await client.json<{ Volumes: { Name: string; Driver: string }[] | null; Warnings?: string[] | null }>('GET', '/volumes', { query: { ...(q === undefined ? {} : { filters: q }) } });
  const volumes = r.Volumes ?? [];
  for (const w of r.Warnings ?? []) process.stderr.write(`WARNING: ${w}\n`);
  if (json) process.stdout.write(JSON.stringify(volumes, null, 2) + '\n');
  else if (opts.quiet === true) process.stdout.write(volumes.map((v) => `${v.Name}\n`).join(''));
  else process.stdout.write(formatTable(['DRIVER', 'VOLUME NAME'], volumes.map((v) => [v.Driver, v.Name])));
}
