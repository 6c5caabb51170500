// atomic run [flags] IMAGE [COMMAND [ARG...]]   and   atomic create [flags] IMAGE [COMMAND...]
// As `docker run`: create the container (a missing image is pulled, with the progress on stderr,
// and the create tried again, as the docker CLI does on "No such image"), register a wait for
// its next exit BEFORE starting it (so a fast exit is not missed), start it, then, unless -d,
// copy its output (stdout to stdout, stderr to stderr) until it exits and exit with its code.
// `create` stops after the create and prints the ID.
//
// The agent has no attach endpoint yet, so the output is read by following the container's logs
// from the start; that is why a foreground `--rm` is done here and not by the agent (AutoRemove):
// a container that exits at once could be removed before its logs are read. With -d, --rm is
// HostConfig.AutoRemove and the agent removes the container when it exits.
//
// With -i or -t the output comes over an attach (Docker's hijacked connection) opened before the
// start, as `docker run` does: our stdin goes to the container (-i; its end closes the container's
// stdin, StdinOnce), the local terminal is in raw mode with -it and its size follows SIGWINCH, and
// the detach keys (--detach-keys, default ctrl-p,ctrl-q) leave the container running.
//
// Ctrl-C without -d stops following and leaves the container running (docker would proxy the
// signal to the container; we do not, to keep `atomic run` a viewer of the container's life). The
// exit status is then 130 and a foreground --rm is not done: `atomic rm -f` it.
import { readFile } from 'node:fs/promises';
import type { AgentClient } from '../../adapters/agent-client/agent-client.js';
import { familiarString, parseNormalizedReference, withDefaultTag, type ImageReference } from '../../formats/oci/reference.js';
import { runFlagsToCreateBody, type CreateBody, type RunFlags } from '../../core/containers/run-flags.js';
import { InvalidArgument, NotFound, fromSystemError } from '../../lib/errors.js';
import { parseDetachKeys } from '../../core/containers/detach-keys.js';
import { streamAttached } from './attached-stream.js';
import { containerPath, demultiplex, endedByUs, interruptSignal, withAgent, type ContainerOptions } from './container-common.js';

export interface RunOptions extends ContainerOptions, Omit<RunFlags, 'envFiles' | 'tty'> {
  readonly detach?: boolean;
  readonly name?: string;
  readonly envFile?: readonly string[];
  readonly interactive?: boolean;
  readonly tty?: boolean;
  readonly detachKeys?: string;
  /** docker's --pull: missing (default) pulls on "No such image", always pulls first, never does not pull. */
  readonly pull?: 'missing' | 'always' | 'never';
}

/** docker run's exit status when the container could not be created or started (docs: "Exit status"). */
export const EXIT_RUN_FAILED = 125;
/** 128 + SIGINT: we stopped following on Ctrl-C. */
const EXIT_INTERRUPTED = 130;

async function createBody(image: string, command: readonly string[], opts: RunOptions): Promise<CreateBody> {
  if (opts.detachKeys !== undefined) parseDetachKeys(opts.detachKeys, '--detach-keys');
  const envFiles = [];
  for (const path of opts.envFile ?? []) {
    const text = await readFile(path, 'utf8').catch((e: unknown) => {
      throw fromSystemError(e, path, 'reading --env-file');
    });
    envFiles.push({ path, text });
  }
  const body = runFlagsToCreateBody(image, command, { ...opts, envFiles }, (k) => process.env[k]);
  if (opts.interactive !== true) return body;
  // docker run -i: stdin kept open; attached (no -d), it is closed when our stdin ends.
  const attached = opts.detach !== true;
  return { ...body, OpenStdin: true, StdinOnce: attached };
}

/** The image reference to pull, or undefined for something that is no name (an image ID). */
function pullableReference(image: string): ImageReference | undefined {
  try {
    return withDefaultTag(parseNormalizedReference(image));
  } catch {
    return undefined;
  }
}

async function pullImage(client: AgentClient, ref: ImageReference): Promise<void> {
  const { pullWithProgress } = await import('./pull.js');
  await pullWithProgress(client, ref, process.stderr);
}

/**
 * POST /containers/create; with --pull missing a 404 (no such image) pulls the image, showing
 * the progress on stderr, and creates again; --pull always pulls first; --pull never does not.
 */
async function createContainer(client: AgentClient, body: CreateBody, name: string | undefined, pull: RunOptions['pull'] = 'missing'): Promise<string> {
  const create = (): Promise<{ Id: string; Warnings?: string[] | null }> =>
    client.json('POST', '/containers/create', { body, ...(name === undefined ? {} : { query: { name } }) });
  const ref = pullableReference(body.Image ?? '');
  if (pull === 'always' && ref !== undefined) await pullImage(client, ref);
  let created: { Id: string; Warnings?: string[] | null };
  try {
    created = await create();
  } catch (e) {
    // Not a name we could pull (an image ID), or pulling is not wanted: the daemon's answer stands.
    if (!(e instanceof NotFound) || ref === undefined || pull !== 'missing') throw e;
    process.stderr.write(`Unable to find image '${familiarString(ref)}' locally\n`);
    await pullImage(client, ref);
    created = await create();
  }
  for (const w of created.Warnings ?? []) process.stderr.write(`WARNING: ${w}\n`);
  return created.Id;
}

export async function create(image: string, command: readonly string[], opts: RunOptions): Promise<void> {
  // docker create -i: stdin open, but no first attach closes it (StdinOnce is run's).
  const body = { ...(await createBody(image, command, opts)), ...(opts.interactive === true ? { StdinOnce: false } : {}) };
  await withAgent(opts, async (client) => {
    process.stdout.write(`${await createContainer(client, body, opts.name, opts.pull)}\n`);
  }, EXIT_RUN_FAILED);
}

export async function run(image: string, command: readonly string[], opts: RunOptions): Promise<void> {
  let body = await createBody(image, command, opts);
  const detach = opts.detach === true;
  // As docker: checked before anything is created.
  if (!detach && opts.tty === true && opts.interactive === true && process.stdin.isTTY !== true) {
    throw new InvalidArgument('the input device is not a TTY: drop -t, or run from a terminal', { subject: '--tty' });
  }
  const removeHere = !detach && opts.rm === true;
  if (removeHere) body = { ...body, HostConfig: { ...body.HostConfig, AutoRemove: false } };
  await withAgent(opts, async (client) => {
    const id = await createContainer(client, body, opts.name, opts.pull);
    if (detach) {
      await client.request('POST', containerPath(id, '/start'));
      process.stdout.write(`${id}\n`);
      return;
    }
    if (opts.interactive === true || opts.tty === true) {
      await runAttached(client, id, opts, removeHere);
      return;
    }
    const interrupt = interruptSignal();
    try {
      // The agent answers the headers once the waiter is registered; only then is the container started.
      const wait = await client.open('POST', containerPath(id, '/wait'), { query: { condition: 'next-exit' }, signal: interrupt.signal });
      try {
        await client.request('POST', containerPath(id, '/start'));
      } catch (e) {
        wait.body.destroy();
        if (removeHere) await client.request('DELETE', containerPath(id), { query: { force: '1', v: '1' } }).catch(() => undefined);
        throw e;
      }
      try {
        const logs = await client.open('GET', containerPath(id, '/logs'), { query: { follow: '1', stdout: '1', stderr: '1' }, signal: interrupt.signal });
        await demultiplex(logs.body, logs.headers, false);
        const chunks: Buffer[] = [];
        for await (const c of wait.body as AsyncIterable<Buffer>) chunks.push(c);
        const result = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { StatusCode: number; Error?: { Message?: string } | null };
        if (result.Error?.Message !== undefined && result.Error.Message !== '') process.stderr.write(`atomic: ${result.Error.Message}\n`);
        if (removeHere) await client.request('DELETE', containerPath(id), { query: { force: '1', v: '1' } });
        process.exitCode = result.StatusCode;
      } catch (e) {
        if (!endedByUs(e, interrupt.signal)) throw e;
        wait.body.destroy();
        process.stderr.write(`atomic: stopped following ${id.slice(0, 12)}; it keeps running${removeHere ? ' and is not removed' : ''}\n`);
        process.exitCode = EXIT_INTERRUPTED;
      }
    } finally {
      interrupt.off();
    }
  }, EXIT_RUN_FAILED);
}

/** run -i / -t: attach first, then wait, start, and stream until the container's output ends. */
async function runAttached(client: AgentClient, id: string, opts: RunOptions, removeHere: boolean): Promise<void> {
  const tty = opts.tty === true;
  const stdin = opts.interactive === true;
  const { socket, contentType } = await client.hijack('POST', containerPath(id, '/attach'), {
    query: { stream: '1', stdout: '1', stderr: '1', stdin: stdin ? '1' : '0', ...(opts.detachKeys !== undefined ? { detachKeys: opts.detachKeys } : {}) },
  });
  const wait = await client.open('POST', containerPath(id, '/wait'), { query: { condition: 'next-exit' } });
  try {
    await client.request('POST', containerPath(id, '/start'));
  } catch (e) {
    socket.destroy();
    wait.body.destroy();
    if (removeHere) await client.request('DELETE', containerPath(id), { query: { force: '1', v: '1' } }).catch(() => undefined);
    throw e;
  }
  const end = await streamAttached(socket, contentType, {
    tty, stdin, ...(opts.detachKeys !== undefined ? { detachKeys: opts.detachKeys } : {}),
    resize: (rows, cols) => client.request('POST', containerPath(id, '/resize'), { query: { h: String(rows), w: String(cols) } }).then(() => undefined),
  });
  if (end === 'detached') {
    wait.body.destroy();
    process.stderr.write(`atomic: detached from ${id.slice(0, 12)}; it keeps running${removeHere ? ' and is not removed' : ''}\n`);
    return;
  }
  const chunks: Buffer[] = [];
  for await (const c of wait.body as AsyncIterable<Buffer>) chunks.push(c);
  const result = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { StatusCode: number; Error?: { Message?: string } | null };
  if (result.Error?.Message !== undefined && result.Error.Message !== '') process.stderr.write(`atomic: ${result.Error.Message}\n`);
  if (removeHere) await client.request('DELETE', containerPath(id), { query: { force: '1', v: '1' } });
  process.exitCode = result.StatusCode;
}
