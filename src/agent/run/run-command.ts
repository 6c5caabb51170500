// atomicd run [--state-dir DIR] [--socket PATH] [--runtime crun|runc]
//             [--tcp HOST:PORT --tls-cert F --tls-key F --tls-ca F] [--insecure-tcp HOST:PORT]
// The long-running agent: serves the Docker-compatible Engine API until SIGTERM/SIGINT.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InvalidArgument, fromSystemError, isAtomicError } from '../../lib/errors.js';
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
  -h, --help             print this help
`;

export const DEFAULT_SOCKET = '/run/atomic/atomic.sock';
export const DEFAULT_STATE_DIR = '/var/lib/atomicd';

function hostPort(text: string, flag: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(text);
  const port = Number(m?.[2]);
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535 || m[1] === '') throw new InvalidArgument(`${flag} ${JSON.stringify(text)}: expected HOST:PORT`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

export async function run(args: readonly string[], level: LogLevel): Promise<number> {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseArgs({
      args: [...args],
      options: {
        'state-dir': { type: 'string' },
        socket: { type: 'string' },
        runtime: { type: 'string' },
        tcp: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-ca': { type: 'string' },
        'insecure-tcp': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (e) {
    process.stderr.write(`atomicd run: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return 2;
  }
  if (v.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [{ createLogger }, { Router }, { startApiServer }, { systemRoutes }, { imageRoutes }, { volumeRoutes }, { ImageStore }, { VolumeStore }] = await Promise.all([
    import('../logger.js'),
    import('../api/router.js'),
    import('../api/server.js'),
    import('../api/compat/system.js'),
    import('../api/compat/images.js'),
    import('../api/compat/volumes.js'),
    import('../../adapters/image-store/image-store.js'),
    import('../../adapters/volume-store/volume-store.js'),
  ]);
  const log = createLogger({ level });
  try {
    const runtime = (v.runtime as string | undefined) ?? 'crun';
    if (runtime !== 'crun' && runtime !== 'runc') throw new InvalidArgument(`--runtime ${JSON.stringify(runtime)}: crun or runc`);
    const stateDir = resolve((v['state-dir'] as string | undefined) ?? DEFAULT_STATE_DIR);
    const tlsFlags = ['tls-cert', 'tls-key', 'tls-ca'].filter((f) => v[f] !== undefined);
    if (v.tcp !== undefined && tlsFlags.length !== 3) throw new InvalidArgument('--tcp serves mutual TLS only: give --tls-cert, --tls-key and --tls-ca (or --insecure-tcp, deliberately)');
    if (v.tcp === undefined && tlsFlags.length > 0) throw new InvalidArgument(`--${tlsFlags[0]} goes with --tcp HOST:PORT`);
    const router = new Router();
    const images = new ImageStore({ root: join(stateDir, 'images') });
    // /info answers synchronously: the image count is kept here, refreshed whenever the image
    // routes change the store.
    let imageCount = 0;
    const refreshImageCount = (): void => {
      images.list().then((l) => (imageCount = l.length), (e: unknown) => log.warn({ err: e }, 'cannot count images'));
    };
    refreshImageCount();
    systemRoutes(router, {
      stateDir,
      runtimes: ['crun', 'runc'],
      defaultRuntime: runtime,
      // The container engine is not composed into the agent yet: it has no containers.
      counts: () => ({ containers: 0, running: 0, paused: 0, stopped: 0, images: imageCount }),
    });
    // The container engine is constructed here once it exists; until then nothing uses images or
    // volumes. It gets `images` and `volumes`, and its answers go into the two hooks below
    // (imageInUse for rmi/prune, usedBy for volume rm/prune/dangling).
    const volumes = new VolumeStore({ root: join(stateDir, 'volumes'), usedBy: () => [] });
    imageRoutes(router, images, { imageInUse: () => undefined, onChange: refreshImageCount });
    volumeRoutes(router, volumes);
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
    return 0;
  } catch (e) {
    const subject = isAtomicError(e) && e.subject !== undefined ? `${e.subject}: ` : '';
    process.stderr.write(`atomicd run: ${subject}${e instanceof Error ? e.message : String(e)}\n`);
    log.error({ err: e }, 'atomicd run failed');
    return isAtomicError(e) && e.code === 'InvalidArgument' ? 2 : 1;
  }
}
