// atomic info [--json]
// What the agent says about itself (/info): containers, images, storage, runtimes, kernel; the
// client's own facts first, as `docker info` shows them.
import { VERSION } from '../../lib/version.js';
import { formatEndpoint } from '../../adapters/agent-client/agent-host.js';
import { connectAgent, wantsJson, type AgentOptions } from './agent-common.js';
import { bytesSize } from '../../lib/human-units.js';

type Info = Record<string, unknown>;

export async function run(opts: AgentOptions & { json?: boolean; format?: string }): Promise<void> {
  const json = wantsJson(opts);
  const agent = await connectAgent(opts);
  const info = await agent.json<Info>('GET', '/info');
  const client = { Version: VERSION, Host: formatEndpoint(agent.endpoint) };
  if (json) {
    process.stdout.write(JSON.stringify({ Client: client, Server: info }, null, 2) + '\n');
    return;
  }
  const s = (k: string): string => (info[k] === undefined || info[k] === null ? '' : String(info[k]));
  const runtimes = Object.keys((info.Runtimes ?? {}) as Record<string, unknown>).join(' ');
  const lines = [
    'Client:',
    ` Version:    ${client.Version}`,
    ` Host:       ${client.Host}`,
    '',
    'Server:',
    ` Containers: ${s('Containers')}`,
    `  Running: ${s('ContainersRunning')}`,
    `  Paused: ${s('ContainersPaused')}`,
    `  Stopped: ${s('ContainersStopped')}`,
    ` Images: ${s('Images')}`,
    ` Server Version: ${s('ServerVersion')}`,
    ` Storage Driver: ${s('Driver')}`,
    ` Cgroup Driver: ${s('CgroupDriver')}`,
    ` Runtimes: ${runtimes}`,
    ` Default Runtime: ${s('DefaultRuntime')}`,
    ` Kernel Version: ${s('KernelVersion')}`,
    ` Operating System: ${s('OperatingSystem')}`,
    ` OSType: ${s('OSType')}`,
    ` Architecture: ${s('Architecture')}`,
    ` CPUs: ${s('NCPU')}`,
    ` Total Memory: ${typeof info.MemTotal === 'number' ? bytesSize(info.MemTotal) : ''}`,
    ` Name: ${s('Name')}`,
    ` ID: ${s('ID')}`,
    ` Docker Root Dir: ${s('DockerRootDir')}`,
  ];
  const warnings = Array.isArray(info.Warnings) ? (info.Warnings as unknown[]).map(String) : [];
  process.stdout.write(lines.join('\n') + '\n' + warnings.map((w) => `WARNING: ${w}\n`).join(''));
}

