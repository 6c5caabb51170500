// atomic restart [-t SECONDS] CONTAINER...
// Stop (as `atomic stop`) and start again, printing each name as `docker restart` does.
import { containerPath, forEachContainer } from './container-common.js';
import { stopQuery, type StopOptions } from './container-stop.js';

export async function run(names: readonly string[], opts: StopOptions): Promise<void> {
  const query = stopQuery(opts);
  await forEachContainer(names, opts, async (client, name) => {
    await client.request('POST', containerPath(name, '/restart'), { query });
  });
}
