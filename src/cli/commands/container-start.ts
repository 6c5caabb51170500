// atomic start CONTAINER...
// Start stopped containers, printing each name as given, as `docker start` does (one already
// running is no error: the agent answers 304).
import { containerPath, forEachContainer, type ContainerOptions } from './container-common.js';

export async function run(names: readonly string[], opts: ContainerOptions): Promise<void> {
  await forEachContainer(names, opts, async (client, name) => {
    await client.request('POST', containerPath(name, '/start'));
  });
}
