// atomic rm [-f] [-v] CONTAINER...
// Remove containers (-f: running ones too, killed first; -v: their anonymous volumes), printing
// each name as `docker rm` does.
import { containerPath, forEachContainer, type ContainerOptions } from './container-common.js';

export interface RmOptions extends ContainerOptions {
  readonly force?: boolean;
  readonly volumes?: boolean;
}

export async function run(names: readonly string[], opts: RmOptions): Promise<void> {
  const query = { force: opts.force === true ? '1' : undefined, v: opts.volumes === true ? '1' : undefined };
  await forEachContainer(names, opts, async (client, name) => {
    await client.request('DELETE', containerPath(name), { query });
  });
}
