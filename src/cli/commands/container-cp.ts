// atomic cp [-a] [-L] CONTAINER:SRC DST|-   and   atomic cp [-a] [-L] SRC|- CONTAINER:DST
// docker cp: copy between a container and here through the agent's archive endpoints. The
// destination rules are the docker CLI's: an existing directory receives the source under its
// own name; otherwise the source gets the destination's name (its parent must exist); "-" is a
// tar on standard output or input; a source ending in "/." copies a directory's content. Local
// files are read and written with the same scoped code the agent uses in containers.
import { lstat, mkdir, realpath } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AgentClient } from '../../adapters/agent-client/agent-client.js';
import { archiveContainerPath, extractIntoContainer, type ContainerPathStat } from '../../adapters/rootfs/container-path.js';
import { GO_MODE_DIR, GO_MODE_SYMLINK, hasGoModeBit } from '../../formats/docker/go-file-mode.js';
import { FailedPrecondition, InvalidArgument, NotFound } from '../../lib/errors.js';
import { humanSize } from '../../lib/human-units.js';
import { containerPath, withAgent, type ContainerOptions } from './container-common.js';

export interface CpOptions extends ContainerOptions {
  readonly archive?: boolean;
  readonly followLink?: boolean;
}

/** docker's splitCpArg: CONTAINER:PATH unless the argument is a local path (absolute, or ./ first). */
export function splitCpArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const i = arg.indexOf(':');
  if (i <= 0 || arg.slice(0, i).includes('/')) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

const NO_LIMIT = Number.MAX_SAFE_INTEGER;

export async function run(src: string, dst: string, opts: CpOptions): Promise<void> {
  const from = splitCpArg(src);
  const to = splitCpArg(dst);
  if (from.container !== undefined && to.container !== undefined) throw new InvalidArgument('copying between containers is not supported', { subject: src });
  if (from.container === undefined && to.container === undefined) throw new InvalidArgument('must specify at least one container source', { subject: src });
  await withAgent(opts, async (client) => {
    if (from.container !== undefined) await fromContainer(client, from.container, from.path, to.path, opts);
    else await toContainer(client, from.path, to.container as string, to.path, opts);
  });
}

function decodeStat(header: string | string[] | undefined): ContainerPathStat {
  const text = Array.isArray(header) ? header[0] : header;
  return JSON.parse(Buffer.from(text ?? '', 'base64').toString('utf8')) as ContainerPathStat;
}

async function statIn(client: AgentClient, container: string, path: string): Promise<ContainerPathStat | undefined> {
  try {
    const r = await client.request('HEAD', containerPath(container, '/archive'), { query: { path } });
    return decodeStat(r.headers['x-docker-container-path-stat']);
  } catch (e) {
    if (e instanceof NotFound) return undefined;
    throw e;
  }
}

async function* counting(source: AsyncIterable<Buffer>, n: { bytes: number }): AsyncGenerator<Buffer> {
  for await (const c of source) {
    n.bytes += c.length;
    yield c;
  }
}

async function fromContainer(client: AgentClient, container: string, path: string, dst: string, opts: CpOptions): Promise<void> {
  let source = path;
  if (opts.followLink === true) {
    const st = await statIn(client, container, path);
    if (st !== undefined && hasGoModeBit(st.mode, GO_MODE_SYMLINK)) source = st.linkTarget;
  }
  const res = await client.open('GET', containerPath(container, '/archive'), { query: { path: source } });
  const stat = decodeStat(res.headers['x-docker-container-path-stat']);
  if (dst === '-') {
    await pipeline(res.body, process.stdout);
    return;
  }
  const target = resolve(dst);
  const here = await lstat(target).catch(() => undefined);
  const n = { bytes: 0 };
  const what = `${container}:${path}`;
  const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const body = counting(res.body as AsyncIterable<Buffer>, n);
  const srcIsDir = hasGoModeBit(stat.mode, GO_MODE_DIR);
  if (source.endsWith('/.')) {
    await mkdir(target, { recursive: true });
    await extractIntoContainer('/', target, body, { maxBytes: NO_LIMIT, what, owner });
  } else if (here?.isDirectory() === true) {
    await extractIntoContainer('/', target, body, { maxBytes: NO_LIMIT, what, owner });
  } else {
    if (here !== undefined && srcIsDir) throw new FailedPrecondition(`cannot copy a directory to a file: ${dst}`, { subject: dst });
    if (dst.endsWith('/')) throw new NotFound(`destination directory ${dst} does not exist`, { subject: dst });
    const name = stat.name === '/' ? '.' : stat.name;
    await extractIntoContainer('/', dirname(target), body, { maxBytes: NO_LIMIT, what, owner, rebase: { from: name, to: basename(target) } });
  }
  process.stderr.write(`Successfully copied ${humanSize(n.bytes)} to ${target}\n`);
}

async function toContainer(client: AgentClient, src: string, container: string, path: string, opts: CpOptions): Promise<void> {
  const query = { noOverwriteDirNonDir: 'true', ...(opts.archive === true ? { copyUIDGID: 'true' } : {}) };
  if (src === '-') {
    await client.request('PUT', containerPath(container, '/archive'), { query: { path, ...query }, upload: process.stdin });
    return;
  }
  const local = resolve(src);
  // -L: the link's target is copied, under the link's name.
  const followed = opts.followLink === true ? await realpath(local) : local;
  const dstStat = await statIn(client, container, path);
  let dir: string;
  let rootName: string | undefined;
  if (src.endsWith('/.')) {
    dir = path;
    rootName = '.';
  } else if (dstStat !== undefined && hasGoModeBit(dstStat.mode, GO_MODE_DIR)) {
    dir = path;
  } else {
    if (path.endsWith('/')) throw new NotFound(`destination directory ${container}:${path} does not exist`, { subject: path });
    dir = dirname(path.replace(/\/+$/, '') || '/');
    rootName = basename(path);
  }
  if (rootName === undefined && followed !== local) rootName = basename(local);
  const archived = await archiveContainerPath('/', followed, rootName === undefined ? {} : { rootName });
  const n = { bytes: 0 };
  await client.request('PUT', containerPath(container, '/archive'), { query: { path: dir, ...query }, upload: Readable.from(counting(archived.tar as AsyncIterable<Buffer>, n)) });
  process.stderr.write(`Successfully copied ${humanSize(n.bytes)} to ${container}:${path}\n`);
}
