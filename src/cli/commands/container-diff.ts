// atomic diff CONTAINER
// What the container changed in its root filesystem, one `KIND PATH` line each as `docker diff`
// prints them (A added, C changed, D deleted).
import { changeLetter, type ChangeEntry } from '../../core/containers/container-changes.js';
import { containerPath, withAgent, type ContainerOptions } from './container-common.js';

export interface DiffOptions extends ContainerOptions {
  readonly json?: boolean;
}

export async function run(name: string, opts: DiffOptions): Promise<void> {
  await withAgent(opts, async (client) => {
    const changes = (await client.json<ChangeEntry[] | null>('GET', containerPath(name, '/changes'))) ?? [];
    if (opts.json === true) process.stdout.write(JSON.stringify(changes, null, 2) + '\n');
    else process.stdout.write(changes.map((c) => `${changeLetter(c.Kind)} ${c.Path}\n`).join(''));
  });
}
