// atomicd run [--state-dir DIR] [--socket PATH] [--runtime crun|runc] [--exec-root DIR]
//             [--bridge NAME|none] [--bip CIDR] [--icc=false]
//             [--tcp HOST:PORT --tls-cert F --tls-key F --tls-ca F] [--insecure-tcp HOST:PORT]
// The long-running agent: serves the Docker-compatible Engine API until SIGTERM/SIGINT.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidArgument, fromSystemError, isAtomicError } from '../../lib/errors.js';
import { validateBridgeName } from '../../core/containers/network-create-request.js';
import { parseCommandArgs } from '../command-args.js';
import type { LogLevel } from '../log-levels.js';

const USAGE = `usage: atomicd run [options]

Serve the Docker-compatible Engine API (the docker CLI and SDKs work with DOCKER_HOST=unix://SOCKET).

options:
  --state-dir DIR        all agent state (default /var/lib/atomicd)
  --socket PATH          Unix socket, mode 0660, root-owned (default /run/atomic/atomic.sock)
  --runtime NAME         crun (default) or runc
  --tcp HOST:PORT        also serve TCP with mutual TLS (convention: port 2376); needs the three below
  --tls-cert FILE        the server's certificate (PEM)
  --tls-key FILE         its private key (PEM)
  --tls-ca FILE          CA whose client certificates are accepted (PEM)
  --insecure-tcp HOST:PORT  serve plain TCP without TLS (port 2375): anyone reaching it controls the host
  --cloud-dir DIR        where provisioning hands over the declared containers (default /var/lib/atomicd/cloud)
  --cgroup-parent PATH   parent cgroup of the containers (default /atomic)
  --exec-root DIR        runtime files a reboot clears: network namespaces (default /run/atomic)
  --bridge NAME|none     device of the default bridge network (default atomic0); none: no bridge
                         networking at all (no bridges, no iptables rules), containers get network none
  --bip CIDR             subnet of the default bridge network (default: the first free of 172.17.0.0/16...)
  --icc=false            no traffic between containers on the default bridge network
  --insecure-registry HOST:PORT  pull from this registry over plain HTTP (repeatable; loopback ones always may)
  --monitor PATH         the per-container monitor (default: native/monitor/atomic-monitor of this package)
  -h, --help             print this help
`;

export const DEFAULT_SOCKET = '/run/atomic/atomic.sock';
export const DEFAULT_STATE_DIR = '/var/lib/atomicd';
/** provision's IN_ROOT_CLOUD_DIR: where the declared containers are handed over. */
export const DEFAULT_CLOUD_DIR = '/var/lib/atomicd/cloud';

function hostPort(text: string, flag: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(text);
  const port = Number(m?.[2]);
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535 || m[1] === '') throw new InvalidArgument(`${flag} ${JSON.stringify(text)}: expected HOST:PORT`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

export async function run(args: readonly string[], level: LogLevel): Promise<number> {
  const parsed = parseCommandArgs('run', USAGE, args, {
    'state-dir': { type: 'string' },
    socket: { type: 'string' },
    runtime: { type: 'string' },
    tcp: { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'tls-ca': { type: 'string' },
    'insecure-tcp': { type: 'string' },
    'cloud-dir': { type: 'string' },
    'cgroup-parent': { type: 'string' },
    'exec-root': { type: 'string' },
    bridge: { type: 'string' },
    bip: { type: 'string' },
    icc: { type: 'string' },
    'insecure-registry': { type: 'string', multiple: true },
    monitor: { type: 'string' },
  });
  if (typeof parsed === 'number') return parsed;
  const v = parsed;
  const [{ createLogger }, { startApiServer }, { composeAgent }] = await Promise.all([
    import('../logger.js'),
    import('../api/server.js'),
    import('./compose-agent.js'),
  ]);
  const log = createLogger({ level });
  try {
    const runtime = (v.runtime as string | undefined) ?? 'crun';
    if (runtime !== 'crun' && runtime !== 'runc') throw new InvalidArgument(`--runtime ${JSON.stringify(runtime)}: crun or runc`);
    const stateDir = resolve((v['state-dir'] as string | undefined) ?? DEFAULT_STATE_DIR);
    const tlsFlags = ['tls-cert', 'tls-key', 'tls-ca'].filter((f) => v[f] !== undefined);
    if (v.tcp !== undefined && tlsFlags.length !== 3) throw new InvalidArgument('--tcp serves mutual TLS only: give --tls-cert, --tls-key and --tls-ca (or --insecure-tcp, deliberately)');
    if (v.tcp === undefined && tlsFlags.length > 0) throw new InvalidArgument(`--${tlsFlags[0]} goes with --tcp HOST:PORT`);
    const cgroupParent = v['cgroup-parent'] as string | undefined;
    const monitorPath = v.monitor as string | undefined;
    const execRoot = v['exec-root'] as string | undefined;
    const bridge = v.bridge as string | undefined;
    if (bridge !== undefined && bridge !== 'none') validateBridgeName(bridge);
    const bip = v.bip as string | undefined;
    if (bip !== undefined && bridge === 'none') throw new InvalidArgument('--bip has no meaning with --bridge none');
    const iccText = v.icc as string | undefined;
    if (iccText !== undefined && iccText !== 'true' && iccText !== 'false') throw new InvalidArgument(`--icc=${JSON.stringify(iccText)}: true or false`);
    const insecure = (v['insecure-registry'] as string[] | undefined) ?? [];
    for (const r of insecure) if (!/^[A-Za-z0-9.-]+(?::\d+)?$|^\[[0-9a-fA-F:]+\](?::\d+)?$/.test(r)) throw new InvalidArgument(`--insecure-registry ${JSON.stringify(r)}: expected HOST[:PORT]`);
    const agent = await composeAgent({
      stateDir,
      insecureRegistries: insecure,
      runtime,
      cloudDir: resolve((v['cloud-dir'] as string | undefined) ?? DEFAULT_CLOUD_DIR),
      log,
      ...(cgroupParent === undefined ? {} : { cgroupParent }),
      ...(monitorPath === undefined ? {} : { monitorPath: resolve(monitorPath) }),
      ...(execRoot === undefined ? {} : { execRoot: resolve(execRoot) }),
      ...(bridge === undefined ? {} : { bridge }),
      ...(bip === undefined ? {} : { defaultSubnet: bip }),
      ...(iccText === undefined ? {} : { icc: iccText === 'true' }),
    });
    const router = agent.router;
    const servers = [await startApiServer(router, { kind: 'unix', path: resolve((v.socket as string | undefined) ?? DEFAULT_SOCKET) }, log)];
    if (typeof v.tcp === 'string') {
      const read = async (flag: string): Promise<Buffer> => {
        const file = v[flag] as string;
        return readFile(file).catch((e: unknown) => {
          throw fromSystemError(e, file, `reading --${flag}`);
        });
      };
      servers.push(await startApiServer(router, { kind: 'tls', ...hostPort(v.tcp, '--tcp'), cert: await read('tls-cert'), key: await read('tls-key'), ca: await read('tls-ca') }, log));
    }
    if (typeof v['insecure-tcp'] === 'string') servers.push(await startApiServer(router, { kind: 'insecure-tcp', ...hostPort(v['insecure-tcp'], '--insecure-tcp') }, log));
    log.info({ stateDir, runtime, listen: servers.map((s) => s.address) }, 'atomicd running');
    await new Promise<void>((done) => {
      process.once('SIGTERM', done);
      process.once('SIGINT', done);
    });
    log.info('stopping');
    await Promise.all(servers.map((s) => s.close()));
    await agent.close();
    return 0;
  } catch (e) {
    const subject = isAtomicError(e) && e.subject !== undefined ? `${e.subject}: ` : '';
    process.stderr.write(`atomicd run: ${subject}${e instanceof Error ? e.message : String(e)}\n`);
    log.error({ err: e }, 'atomicd run failed');
    return isAtomicError(e) && e.code === 'InvalidArgument' ? 2 : 1;
  }
}
