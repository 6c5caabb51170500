// atomic host rollback | pin INDEX | unpin INDEX | cleanup [--rollback] | kargs [--append K=V]...
import { InvalidArgument } from '../../lib/errors.js';
import { openHost, short, withInterrupt, type HostCommandOptions } from './host-common.js';

export async function rollback(opts: HostCommandOptions): Promise<void> {
  await withInterrupt(async (signal) => {
    const d = await (await openHost(opts, signal)).rollback();
    print(opts, { default: d }, `Default deployment is now ${d.stateroot} ${short(d.csum)}.${d.deployserial}; reboot to use it.`);
  });
}

export async function pin(indexText: string, pinned: boolean, opts: HostCommandOptions): Promise<void> {
  const index = Number(indexText);
  if (!/^\d+$/.test(indexText)) throw new InvalidArgument(`${JSON.stringify(indexText)} is not a deployment index (see atomic host status)`);
  await withInterrupt(async (signal) => {
    const d = await (await openHost(opts, signal)).setPinned(index, pinned);
    print(opts, { deployment: d }, `Deployment ${index} (${short(d.csum)}) is ${pinned ? 'pinned' : 'no longer pinned'}.`);
  });
}

export async function cleanup(opts: HostCommandOptions & { rollback?: boolean }): Promise<void> {
  await withInterrupt(async (signal) => {
    const r = await (await openHost(opts, signal)).cleanup({ rollback: opts.rollback === true });
    const removed = r.removedDeployment === undefined ? '' : `Removed the rollback deployment ${short(r.removedDeployment.csum)}. `;
    print(opts, r, `${removed}Pruned ${r.objectsPruned} objects, ${(r.prunedBytes / 1048576).toFixed(1)} MiB freed.`);
  });
}

export async function kargs(opts: HostCommandOptions & { append?: string[]; delete?: string[]; replace?: string[] }): Promise<void> {
  await withInterrupt(async (signal) => {
    const args = await (await openHost(opts, signal)).kargs({ append: opts.append ?? [], delete: opts.delete ?? [], replace: opts.replace ?? [] });
    print(opts, { kargs: args }, args.join(' '));
  });
}

function print(opts: HostCommandOptions, json: unknown, text: string): void {
  process.stdout.write((opts.json === true ? JSON.stringify(json) : text) + '\n');
}
