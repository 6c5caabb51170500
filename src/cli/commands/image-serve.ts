// atomic image serve REPO [--listen HOST:PORT]: serve an ostree archive repository (the one
// `atomic image build` commits to) over HTTP, as the update source of the hosts built from it.
// Loopback by default: serving to other machines is a choice the user makes with --listen.
import { serveRepo } from '../../adapters/repo-server/repo-server.js';
import { InvalidArgument } from '../../lib/errors.js';
import { withInterrupt } from './host-common.js';

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || !(port >= 0 && port <= 65535)) throw new InvalidArgument(`--listen ${text}: expected HOST:PORT (e.g. 127.0.0.1:8080 or 0.0.0.0:8080)`, { subject: '--listen' });
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '127.0.0.1' : host, port };
}

export async function run(repo: string, opts: { listen?: string; quiet?: boolean }): Promise<void> {
  const { host, port } = parseListen(opts.listen ?? '127.0.0.1:8080');
  await withInterrupt(async (signal) => {
    const server = await serveRepo({
      repoPath: repo,
      host,
      port,
      ...(opts.quiet === true ? {} : { onRequest: (m: string, p: string, s: number) => process.stderr.write(`${m} ${p} ${s}\n`) }),
    });
    process.stdout.write(`serving ${repo} at ${server.url} (Ctrl-C stops)\n`);
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    await server.close();
  });
}
