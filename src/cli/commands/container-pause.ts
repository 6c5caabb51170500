// atomic pause|unpause CONTAINER...
// Freeze (the cgroup freezer) or thaw every process of each container, printing each name as
// `docker pause` does.
import { containerPath, forEachContainer, type ContainerOptions } from './container-common.js';

export async function pause(names: readonly string[], opts: ContainerOptions): Promise<void> {
  await forEachContainer(names, opts, async (client, name) => {
    await client.request('POST', containerPath(name, '/pause'));
  });
}

export async function unpause(names: readonly string[], opts: ContainerOptions): Promise<void> {
  await forEachContainer(names, opts, async (client, name) => {
    await client.request('POST', containerPath(name, '/unpause'));
  });
}
