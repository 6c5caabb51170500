// atomic host remote add NAME URL [--gpg-import FILE] [--no-gpg-verify] [--ed25519-key B64] [--ed25519-file F]
// atomic host remote list [--json]      atomic host remote delete NAME
import { openHost, withInterrupt, type HostCommandOptions } from './host-common.js';

export interface RemoteAddOptions extends HostCommandOptions {
  readonly gpgVerify: boolean;
  readonly gpgImport?: string;
  readonly ed25519Key?: string;
  readonly ed25519File?: string;
}

export async function add(name: string, url: string, opts: RemoteAddOptions): Promise<void> {
  await withInterrupt(async (signal) => {
    await (await openHost(opts, signal)).remoteAdd(name, url, {
      gpgVerify: opts.gpgVerify,
      ...(opts.gpgImport === undefined ? {} : { gpgImport: opts.gpgImport }),
      ...(opts.ed25519Key === undefined ? {} : { ed25519Key: opts.ed25519Key }),
      ...(opts.ed25519File === undefined ? {} : { ed25519File: opts.ed25519File }),
    });
  });
}

export async function list(opts: HostCommandOptions): Promise<void> {
  await withInterrupt(async (signal) => {
    const remotes = await (await openHost(opts, signal)).remoteList();
    if (opts.json === true) process.stdout.write(JSON.stringify(remotes) + '\n');
    else for (const r of remotes) process.stdout.write(`${r.name} ${r.url}${r.gpgVerify ? ' gpg-verify' : ''}${r.ed25519 ? ' ed25519' : ''}\n`);
  });
}

export async function remove(name: string, opts: HostCommandOptions): Promise<void> {
  await withInterrupt(async (signal) => (await openHost(opts, signal)).remoteDelete(name));
}
