// atomic version [--json]
// The client's version and the agent's (/version), as `docker version` shows them. When the agent
// cannot be reached the client part is still printed, then the error (exit 1).
import { arch, platform } from 'node:os';
import { VERSION } from '../../lib/version.js';
import { CLIENT_API_VERSION } from '../../adapters/agent-client/agent-client.js';
import { connectAgent, wantsJson, type AgentOptions } from './agent-common.js';

interface ServerVersion {
  readonly Version: string;
  readonly ApiVersion: string;
  readonly MinAPIVersion?: string;
  readonly Os: string;
  readonly Arch: string;
  readonly KernelVersion?: string;
  readonly GoVersion?: string;
}

export async function run(opts: AgentOptions & { json?: boolean; format?: string }): Promise<void> {
  const json = wantsJson(opts);
  const client = { Version: VERSION, ApiVersion: CLIENT_API_VERSION, NodeVersion: process.version, Os: platform(), Arch: arch() };
  const agent = await connectAgent(opts);
  let server: ServerVersion | undefined;
  let failure: unknown;
  try {
    server = await agent.json<ServerVersion>('GET', '/version');
  } catch (e) {
    failure = e;
  }
  if (json) process.stdout.write(JSON.stringify({ Client: client, Server: server ?? null }, null, 2) + '\n');
  else {
    const lines = ['Client:', ` Version:          ${client.Version}`, ` API version:      ${client.ApiVersion}`, ` Node version:     ${client.NodeVersion}`, ` OS/Arch:          ${client.Os}/${client.Arch}`];
    if (server !== undefined) {
      lines.push('', 'Server: atomicd', ` Version:          ${server.Version}`, ` API version:      ${server.ApiVersion} (minimum version ${server.MinAPIVersion ?? '?'})`);
      lines.push(` OS/Arch:          ${server.Os}/${server.Arch}`, ` Kernel version:   ${server.KernelVersion ?? ''}`, ` Runtime:          ${server.GoVersion ?? ''}`);
    }
    process.stdout.write(lines.join('\n') + '\n');
  }
  if (failure !== undefined) throw failure;
}
