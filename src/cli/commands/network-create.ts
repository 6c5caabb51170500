// atomic network create [-d bridge] [--subnet CIDR] [--gateway IP] [--internal] [-o K=V]... [--label K=V]... NAME
// Create a user-defined bridge network and print its ID, as `docker network create` does.
import { InvalidArgument } from '../../lib/errors.js';
import { connectAgent, wantsJson, type AgentOptions } from './agent-common.js';
import { keyValues } from './volume-create.js';

export interface NetworkCreateOptions extends AgentOptions {
  readonly driver?: string;
  readonly subnet?: string;
  readonly gateway?: string;
  readonly internal?: boolean;
  readonly opt?: string[];
  readonly label?: string[];
  readonly json?: boolean;
}

/** The Engine API NetworkCreateRequest for the flags. */
export function networkCreateBody(name: string, opts: NetworkCreateOptions): Record<string, unknown> {
  if (opts.gateway !== undefined && opts.subnet === undefined) throw new InvalidArgument('--gateway needs --subnet', { subject: '--gateway' });
  return {
    Name: name,
    Driver: opts.driver ?? 'bridge',
    Internal: opts.internal === true,
    IPAM: { Driver: 'default', Config: opts.subnet === undefined ? [] : [{ Subnet: opts.subnet, ...(opts.gateway === undefined ? {} : { Gateway: opts.gateway }) }] },
    Options: keyValues(opts.opt, '--opt', false),
    Labels: keyValues(opts.label, '--label', true),
  };
}

export async function run(name: string, opts: NetworkCreateOptions): Promise<void> {
  const body = networkCreateBody(name, opts);
  const client = await connectAgent(opts);
  const r = await client.json<{ Id: string; Warning?: string }>('POST', '/networks/create', { body });
  if (r.Warning !== undefined && r.Warning !== '') process.stderr.write(`WARNING: ${r.Warning}\n`);
  process.stdout.write(wantsJson(opts) ? JSON.stringify(r, null, 2) + '\n' : `${r.Id}\n`);
}
