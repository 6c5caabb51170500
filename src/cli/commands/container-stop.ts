// atomic stop [-t SECONDS] CONTAINER...
// Stop running containers: the stop signal, then SIGKILL after the timeout (the container's own
// StopTimeout, else 10 s; -1 waits forever), printing each name as `docker stop` does.
import { parseIntFlag } from '../../core/containers/run-flags.js';
import { containerPath, forEachContainer, type ContainerOptions } from './container-common.js';

export interface StopOptions extends ContainerOptions {
  readonly time?: string;
}

/** -t/--time as the API's ?t= (validated here, so a typo is a usage error before anything stops). */
export function stopQuery(opts: StopOptions): Record<string, string> {
  const q: Record<string, string> = {};
  if (opts.time !== undefined) q.t = String(parseIntFlag('--time', opts.time, -1));
  return q;
}

export async function run(names: readonly string[], opts: StopOptions): Promise<void> {
  const query = stopQuery(opts);
  await forEachContainer(names, opts, async (client, name) => {
    await client.request('POST', containerPath(name, '/stop'), { query });
  });
}
