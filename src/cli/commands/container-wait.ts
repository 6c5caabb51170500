// atomic wait CONTAINER...
// Block until each container stops, then print its exit code, as `docker wait` does.
import { formatError } from '../report-error.js';
import { containerPath, withAgent, EXIT_DAEMON_ERROR, type ContainerOptions } from './container-common.js';

export async function run(names: readonly string[], opts: ContainerOptions): Promise<void> {
  await withAgent(opts, async (client) => {
    let failed = false;
    // All waits at once, the codes printed in the order given (docker waits in parallel too).
    const results = await Promise.allSettled(
      names.map((name) => client.json<{ StatusCode: number; Error?: { Message?: string } | null }>('POST', containerPath(name, '/wait'), { query: { condition: 'not-running' } })),
    );
    for (const r of results) {
      if (r.status === 'fulfilled') {
        if (r.value.Error?.Message !== undefined && r.value.Error.Message !== '') process.stderr.write(`atomic: ${r.value.Error.Message}\n`);
        process.stdout.write(`${r.value.StatusCode}\n`);
      } else {
        failed = true;
        process.stderr.write(formatError(r.reason, opts.debug === true) + '\n');
      }
    }
    if (failed) process.exitCode = EXIT_DAEMON_ERROR;
  });
}
