// atomic exec [-d] [-e K=V] [--env-file F] [-u USER] [-w DIR] [--privileged] [-t] CONTAINER CMD...
// Run a command in a running container, print its output (stdout to stdout, stderr to stderr)
// and exit with its exit code, as `docker exec` does. The agent runs the command to its end and
// then sends the output (no hijacked connection yet), so interactive use (-i) is refused.
import { readFile } from 'node:fs/promises';
import { parseEnvFile } from '../../core/containers/run-flags.js';
import { InvalidArgument, fromSystemError } from '../../lib/errors.js';
import { containerPath, demultiplex, withAgent, type ContainerOptions } from './container-common.js';

export interface ExecOptions extends ContainerOptions {
  readonly detach?: boolean;
  readonly env?: readonly string[];
  readonly envFile?: readonly string[];
  readonly user?: string;
  readonly workdir?: string;
  readonly privileged?: boolean;
  readonly interactive?: boolean;
  readonly tty?: boolean;
}

export async function run(container: string, command: readonly string[], opts: ExecOptions): Promise<void> {
  if (opts.interactive === true) {
    throw new InvalidArgument('interactive exec (-i, -it) is not supported by atomicd yet: it needs a hijacked connection; run the command without -i', { subject: '--interactive' });
  }
  if (command.length === 0) throw new InvalidArgument('exec needs a command to run', { subject: 'COMMAND' });
  const env: string[] = [];
  for (const path of opts.envFile ?? []) {
    const text = await readFile(path, 'utf8').catch((e: unknown) => {
      throw fromSystemError(e, path, 'reading --env-file');
    });
    env.push(...parseEnvFile(path, text, (k) => process.env[k]));
  }
  for (const e of opts.env ?? []) {
    if (e.includes('=')) env.push(e);
    else if (process.env[e] !== undefined) env.push(`${e}=${process.env[e]}`);
  }
  await withAgent(opts, async (client) => {
    const { Id } = await client.json<{ Id: string }>('POST', containerPath(container, '/exec'), {
      body: {
        AttachStdin: false, AttachStdout: opts.detach !== true, AttachStderr: opts.detach !== true, Tty: opts.tty === true, Cmd: command,
        ...(env.length > 0 ? { Env: env } : {}), ...(opts.user !== undefined ? { User: opts.user } : {}),
        ...(opts.workdir !== undefined ? { WorkingDir: opts.workdir } : {}), Privileged: opts.privileged === true,
      },
    });
    if (opts.detach === true) {
      await client.request('POST', `/exec/${Id}/start`, { body: { Detach: true, Tty: opts.tty === true } });
      return;
    }
    const res = await client.open('POST', `/exec/${Id}/start`, { body: { Detach: false, Tty: opts.tty === true } });
    await demultiplex(res.body, res.headers, opts.tty === true);
    const info = await client.json<{ ExitCode: number | null; Running: boolean }>('GET', `/exec/${Id}/json`);
    process.exitCode = info.ExitCode ?? 126;
  });
}
