// atomic inspect [-f TEMPLATE] CONTAINER...
// The agent's Docker-shaped container objects as one JSON array (4-space indent, as docker
// prints it), or with -f one line per container from a minimal Go template ({{.State.Status}}).
// Containers that do not exist are reported on stderr; the others are still printed; exit 1.
import { formatError } from '../report-error.js';
import { containerPath, parseTemplate, renderTemplate, withAgent, EXIT_DAEMON_ERROR, type ContainerOptions } from './container-common.js';

export interface InspectOptions extends ContainerOptions {
  readonly format?: string;
}

export async function run(names: readonly string[], opts: InspectOptions): Promise<void> {
  const template = opts.format === undefined || opts.format === 'json' ? undefined : parseTemplate(opts.format);
  await withAgent(opts, async (client) => {
    const found: unknown[] = [];
    let failed = false;
    for (const name of names) {
      try {
        found.push(await client.json<unknown>('GET', containerPath(name, '/json')));
      } catch (e) {
        failed = true;
        process.stderr.write(formatError(e, opts.debug === true) + '\n');
      }
    }
    if (template === undefined) process.stdout.write(JSON.stringify(found, null, 4) + '\n');
    else for (const c of found) process.stdout.write(renderTemplate(template, c) + '\n');
    if (failed) process.exitCode = EXIT_DAEMON_ERROR;
  });
}
