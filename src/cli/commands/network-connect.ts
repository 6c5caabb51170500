// atomic network connect [--ip IPV4] [--alias NAME]... NETWORK CONTAINER
// atomic network disconnect [-f] NETWORK CONTAINER
// A running container joins (leaves) the network at once; a stopped one at its next start.
import { connectAgent, type AgentOptions } from './agent-common.js';

export interface NetworkConnectOptions extends AgentOptions {
  readonly ip?: string;
  readonly alias?: string[];
}

export async function run(network: string, container: string, opts: NetworkConnectOptions): Promise<void> {
  const client = await connectAgent(opts);
  const body = {
    Container: container,
    EndpointConfig: { Aliases: opts.alias ?? [], ...(opts.ip === undefined ? {} : { IPAMConfig: { IPv4Address: opts.ip } }) },
  };
  await client.request('POST', `/networks/${encodeURIComponent(network)}/connect`, { body });
}

export async function disconnect(network: string, container: string, opts: AgentOptions & { force?: boolean }): Promise<void> {
  const client = await connectAgent(opts);
  await client.request('POST', `/networks/${encodeURIComponent(network)}/disconnect`, { body: { Container: container, Force: opts.force === true } });
}
