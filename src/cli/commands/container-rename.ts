// atomic rename CONTAINER NEW_NAME
// As `docker rename`: nothing is printed on success.
import { containerPath, withAgent, type ContainerOptions } from './container-common.js';

export async function run(container: string, newName: string, opts: ContainerOptions): Promise<void> {
  await withAgent(opts, async (client) => {
    await client.request('POST', containerPath(container, '/rename'), { query: { name: newName } });
  });
}
