// A read-only HTTP server for an ostree archive repository: what hosts built from an image pull
// their updates from (`atomic host remote add NAME http://HOST:PORT/`). An archive repo is plain
// files (config, refs/, objects/, deltas/, summary), so static GET/HEAD is all libostree needs.
//
// Only files inside the repository are served: the request path is decoded, normalised and must
// stay under the root with no symlink leading out (realpath), and only regular files are sent.
// Anything else is 404; methods other than GET and HEAD are 405.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, sep } from 'node:path';
import { fromSystemError, InvalidArgument } from '../../lib/errors.js';

export interface RepoServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface RepoServerOptions {
  readonly repoPath: string;
  readonly host?: string;
  readonly port?: number;
  /** Called for each request answered, for an access log. */
  readonly onRequest?: (method: string, path: string, status: number) => void;
}

/** The file a request path names inside `root`, or undefined when it is outside or not a file. */
export async function resolveInside(root: string, urlPath: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split('?')[0] ?? '/');
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const parts = decoded.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) return undefined;
  try {
    const real = await realpath(join(root, ...parts));
    if (real !== root && !real.startsWith(root + sep)) return undefined;
    return (await stat(real)).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

export async function serveRepo(opts: RepoServerOptions): Promise<RepoServer> {
  let root: string;
  try {
    root = await realpath(opts.repoPath);
  } catch (e) {
    throw fromSystemError(e, opts.repoPath, 'opening the repository');
  }
  const config = await stat(join(root, 'config')).catch(() => undefined);
  if (config?.isFile() !== true) throw new InvalidArgument(`${opts.repoPath} is not an ostree repository (no config file)`, { subject: opts.repoPath });

  const server: Server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const answer = (status: number): void => {
      opts.onRequest?.(method, path, status);
      res.writeHead(status, { 'content-length': 0 }).end();
    };
    if (method !== 'GET' && method !== 'HEAD') return answer(405);
    void resolveInside(root, path).then(async (file) => {
      if (file === undefined) return answer(404);
      const st = await stat(file);
      opts.onRequest?.(method, path, 200);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': st.size, 'last-modified': st.mtime.toUTCString() });
      if (method === 'HEAD') return void res.end();
      createReadStream(file)
        .on('error', () => res.destroy())
        .pipe(res);
    }, () => answer(500));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(fromSystemError(e, `${opts.host ?? '127.0.0.1'}:${opts.port ?? 0}`, 'listening')));
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve);
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}/`,
    port: addr.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
