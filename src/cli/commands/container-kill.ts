// atomic kill [-s SIGNAL] CONTAINER...
// Send a signal (default SIGKILL; a name with or without SIG, or a number) to each container's
// main process, printing each name as `docker kill` does.
import { InvalidArgument } from '../../lib/errors.js';
import { containerPath, forEachContainer, type ContainerOptions } from './container-common.js';

export interface KillOptions extends ContainerOptions {
  readonly signal?: string;
}

export async function run(names: readonly string[], opts: KillOptions): Promise<void> {
  const signal = opts.signal ?? 'KILL';
  if (!/^(SIG)?[A-Z0-9+-]+$/i.test(signal)) throw new InvalidArgument(`invalid signal ${JSON.stringify(signal)}: a name (HUP, SIGTERM) or a number`, { subject: '--signal' });
  await forEachContainer(names, opts, async (client, name) => {
    await client.request('POST', containerPath(name, '/kill'), { query: { signal } });
  });
}
