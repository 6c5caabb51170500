// /_ping, /version, /info: what every docker command asks first. Field names and types are the
// Engine API's (docs.docker.com/reference/api/engine, "System").
import { arch, cpus, hostname, release, totalmem } from 'node:os';
import { VERSION } from '../../../lib/version.js';
import { API_VERSION, MIN_API_VERSION } from '../api-version.js';
import type { Router } from '../router.js';

export interface SystemInfo {
  readonly stateDir: string;
  readonly runtimes: readonly string[];
  readonly defaultRuntime: string;
  /** Counted when /info is asked (not kept up to date on every change). */
  readonly counts: () => Promise<{ containers: number; running: number; paused: number; stopped: number; images: number }>;
}

const GO_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };

export function systemRoutes(router: Router, info: SystemInfo): void {
  // The CLI reads the headers of HEAD /_ping to negotiate; the body is the plain text OK.
  const ping = (ctx: Parameters<Parameters<Router['add']>[2]>[0]): 'handled' => {
    ctx.res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache', 'Content-Length': 2 });
    ctx.res.end(ctx.req.method === 'HEAD' ? undefined : 'OK');
    return 'handled';
  };
  router.add('GET', '/_ping', ping);
  router.add('HEAD', '/_ping', ping);
  router.add('GET', '/version', () => ({
    json: {
      Platform: { Name: 'atomicd' },
      Components: [{ Name: 'Engine', Version: VERSION, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: GO_ARCH[arch()] ?? arch() } }],
      Version: VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: '',
      GoVersion: `node ${process.version}`,
      Os: 'linux',
      Arch: GO_ARCH[arch()] ?? arch(),
      KernelVersion: release(),
      BuildTime: '',
    },
  }));
  router.add('GET', '/info', async () => {
    const c = await info.counts();
    return {
      json: {
        ID: hostname(),
        Containers: c.containers,
        ContainersRunning: c.running,
        ContainersPaused: c.paused,
        ContainersStopped: c.stopped,
        Images: c.images,
        Driver: 'overlay2',
        DockerRootDir: info.stateDir,
        Name: hostname(),
        ServerVersion: VERSION,
        OperatingSystem: 'atomic',
        OSType: 'linux',
        Architecture: arch() === 'x64' ? 'x86_64' : arch(),
        KernelVersion: release(),
        NCPU: cpus().length,
        MemTotal: totalmem(),
        CgroupDriver: 'cgroupfs',
        DefaultRuntime: info.defaultRuntime,
        Runtimes: Object.fromEntries(info.runtimes.map((r) => [r, { path: r }])),
        SecurityOptions: ['name=seccomp,profile=builtin'],
        Warnings: [],
      },
    };
  });
}
