// atomic exec [-d] [-i] [-t] [--detach-keys K] [-e K=V] [--env-file F] [-u USER] [-w DIR] [--privileged] CONTAINER CMD...
// Run a command in a running container, print its output (stdout to stdout, stderr to stderr)
// while it runs and exit with its exit code, as `docker exec` does: over an upgraded connection,
// with our stdin as the command's (-i), the local terminal raw and its size sent (-it).
import { readFile } from 'node:fs/promises';
import { parseEnvFile } from '../../core/containers/run-flags.js';
import { InvalidArgument, fromSystemError } from '../../lib/errors.js';
import { parseDetachKeys } from '../../core/containers/detach-keys.js';
import { streamAttached } from './attached-stream.js';
import { containerPath, withAgent, type ContainerOptions } from './container-common.js';

export interface ExecOptions extends ContainerOptions {
  readonly detach?: boolean;
  readonly env?: readonly string[];
  readonly envFile?: readonly string[];
  readonly user?: string;
  readonly workdir?: string;
  readonly privileged?: boolean;
  readonly interactive?: boolean;
  readonly tty?: boolean;
  readonly detachKeys?: string;
}

export async function run(container: string, command: readonly string[], opts: ExecOptions): Promise<void> {
  const tty = opts.tty === true;
  const stdin = opts.interactive === true && opts.detach !== true;
  if (opts.detachKeys !== undefined) parseDetachKeys(opts.detachKeys, '--detach-keys');
  if (tty && stdin && process.stdin.isTTY !== true) throw new InvalidArgument('the input device is not a TTY: drop -t, or run from a terminal', { subject: '--tty' });
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
        AttachStdin: stdin, AttachStdout: opts.detach !== true, AttachStderr: opts.detach !== true, Tty: tty, Cmd: command,
        ...(opts.detachKeys !== undefined ? { DetachKeys: opts.detachKeys } : {}),
        ...(tty && process.stdout.isTTY === true ? { ConsoleSize: [process.stdout.rows, process.stdout.columns] } : {}),
        ...(env.length > 0 ? { Env: env } : {}), ...(opts.user !== undefined ? { User: opts.user } : {}),
        ...(opts.workdir !== undefined ? { WorkingDir: opts.workdir } : {}), Privileged: opts.privileged === true,
      },
    });
    if (opts.detach === true) {
      await client.request('POST', `/exec/${Id}/start`, { body: { Detach: true, Tty: opts.tty === true } });
      return;
    }
    const { socket, contentType } = await client.hijack('POST', `/exec/${Id}/start`, { body: { Detach: false, Tty: tty } });
    const end = await streamAttached(socket, contentType, {
      tty, stdin, ...(opts.detachKeys !== undefined ? { detachKeys: opts.detachKeys } : {}),
      resize: (rows, cols) => client.request('POST', `/exec/${Id}/resize`, { query: { h: String(rows), w: String(cols) } }).then(() => undefined),
    });
    if (end === 'detached') return;
    const info = await client.json<{ ExitCode: number | null; Running: boolean }>('GET', `/exec/${Id}/json`);
    process.exitCode = info.ExitCode ?? 126;
  });
}
