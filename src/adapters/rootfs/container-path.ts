// Files of a container's root filesystem for the Engine API's archive endpoints (`docker cp`):
// stat a path, stream it as a tar, extract a tar into a directory. Every path is resolved inside
// the root like a chroot would (Docker's symlink scoping, moby pkg/symlink FollowSymlinkInScope):
// an absolute symlink or '..' in the container stays inside the container's root, so a link to
// /etc/shadow means the container's /etc/shadow, never the host's. The last component is not
// followed unless the path ends in '/' or '/.' (a symlink is copied as a symlink), as dockerd's
// container.ResolvePath does.
//
// Extraction refuses archive entries that would leave the target ('..', absolute names, hard
// links out of it), creates missing parent directories 0755 as Docker's untar does, never follows
// a symlink of the archive (they are created as they are), and opens files with O_NOFOLLOW.
// Known limit: a process inside a running container could swap a directory for a symlink
// between our resolution and the open (Docker froze the container for that, CVE-2018-15664).
import { constants, type BigIntStats, type Stats } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, readdir, readlink, rm, stat, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { goFileMode } from '../../formats/docker/go-file-mode.js';
import { archiveMemberPath } from '../../formats/oci/docker-archive.js';
import { encodeTarHeader, tarPadding, TAR_TRAILER } from '../../formats/tar/tar-header.js';
import { readTarStream, type TarStreamEntry } from '../../formats/tar/tar-stream.js';
import { consumeDecompressed } from '../process/decompress-stream.js';
import { AtomicError, Conflict, InvalidArgument, NotFound, ResourceExhausted, fromSystemError } from '../../lib/errors.js';
import { makeNode } from '../image-store/special-files.js';

/** Docker's ContainerPathStat: what X-Docker-Container-Path-Stat carries (base64 JSON). */
export interface ContainerPathStat {
  readonly name: string;
  readonly size: number;
  /** Go os.FileMode bits. */
  readonly mode: number;
  /** RFC 3339 with nanoseconds. */
  readonly mtime: string;
  /** For a symlink: where it leads, resolved inside the container, absolute. */
  readonly linkTarget: string;
}

const MAX_SYMLINK_HOPS = 40;

export interface ResolvedPath {
  /** The path on the host (below the root). */
  readonly host: string;
  /** The same, as a path in the container ("/etc/passwd"). */
  readonly container: string;
}

/** `path` cleaned as Docker does (relative = from /), with its trailing '/' or '/.' kept in mind. */
function splitContainerPath(path: string): { parts: string[]; followLast: boolean } {
  return { parts: path.split('/').filter((p) => p !== '' && p !== '.'), followLast: /(^|\/)\.?$/.test(path) };
}

/**
 * Resolve `path` inside `root` (symlinks followed within the root, '..' never above it); the last
 * component followed only when `followLast`. With `create`, missing directories are made (0755).
 */
export async function resolveScoped(root: string, path: string, opts: { followLast?: boolean; create?: boolean } = {}): Promise<ResolvedPath> {
  const split = splitContainerPath(path);
  const followLast = opts.followLast ?? split.followLast;
  let parts = split.parts;
  const done: string[] = [];
  for (let hops = 0; parts.length > 0; ) {
    const part = parts.shift() as string;
    if (part === '..') {
      done.pop();
      continue;
    }
    const here = join(root, ...done, part);
    const isLast = parts.length === 0;
    let st;
    try {
      st = await lstat(here);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fromSystemError(e, `/${[...done, part].join('/')}`, 'resolving a path in the container');
      if (opts.create === true) {
        await mkdir(here, 0o755).catch((err: unknown) => {
          throw fromSystemError(err, `/${[...done, part].join('/')}`, 'creating a directory in the container');
        });
      }
      done.push(part);
      continue;
    }
    if (st.isSymbolicLink() && (!isLast || followLast)) {
      if (++hops > MAX_SYMLINK_HOPS) throw new InvalidArgument(`${path}: too many levels of symbolic links`, { subject: path });
      const target = await readlink(here);
      if (target.startsWith('/')) done.length = 0;
      parts = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...parts];
      continue;
    }
    done.push(part);
  }
  return { host: join(root, ...done), container: `/${done.join('/')}` };
}

/**
 * lstat of a resolved path; the root itself is followed: /proc/PID/root, a running container's
 * root, is a (magic) symlink on the host.
 */
function lstatResolved(r: ResolvedPath): Promise<Stats>;
function lstatResolved(r: ResolvedPath, bigint: true): Promise<BigIntStats>;
function lstatResolved(r: ResolvedPath, bigint?: true): Promise<Stats | BigIntStats> {
  if (r.container === '/') return bigint === true ? stat(r.host, { bigint: true }) : stat(r.host);
  return bigint === true ? lstat(r.host, { bigint: true }) : lstat(r.host);
}

/** Go's RFC3339Nano of a time in ns since the epoch (UTC, trailing zeros of the fraction dropped). */
export function rfc3339Nano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  const frac = (((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${frac === '' ? '' : `.${frac}`}Z`;
}

function baseName(path: string): string {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0) return '/';
  return parts[parts.length - 1]!;
}

/** stat of a container path; NotFound when it does not exist. */
export async function statContainerPath(root: string, path: string): Promise<{ stat: ContainerPathStat; resolved: ResolvedPath; st: BigIntStats }> {
  const resolved = await resolveScoped(root, path);
  let st: BigIntStats;
  try {
    st = await lstatResolved(resolved, true);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') throw new NotFound(`${path}: no such file or directory`, { subject: path, cause: e });
    throw fromSystemError(e, path, 'reading a file of the container');
  }
  let linkTarget = '';
  if (st.isSymbolicLink()) linkTarget = (await resolveScoped(root, resolved.container, { followLast: true })).container;
  if (/\/\.?$/.test(path) && path !== '/' && !st.isDirectory()) throw new InvalidArgument(`${path}: not a directory`, { subject: path });
  return {
    stat: { name: baseName(path), size: Number(st.size), mode: goFileMode(Number(st.mode)), mtime: rfc3339Nano(st.mtimeNs), linkTarget },
    resolved,
    st,
  };
}

/**
 * The tar stream of a container path, as GET /containers/{id}/archive sends it: entries named
 * after the requested name (`hostname`, `etc/passwd`), or `./…` for a path ending in '/.'.
 */
export async function archiveContainerPath(root: string, path: string, opts: { rootName?: string } = {}): Promise<{ stat: ContainerPathStat; tar: AsyncIterable<Buffer> }> {
  const { stat, resolved } = await statContainerPath(root, path);
  // rootName: the docker CLI's rebase, copying SRC to a DST of another name.
  const rootName = opts.rootName ?? (path.endsWith('/.') ? '.' : stat.name === '/' ? '.' : stat.name);
  return { stat, tar: tarTree(resolved.host, rootName, resolved.container === '/') };
}

async function* tarTree(hostPath: string, rootName: string, follow: boolean): AsyncGenerator<Buffer> {
  const links = new Map<string, string>();
  yield* tarEntry(hostPath, rootName, links, follow);
  yield TAR_TRAILER;
}

async function* tarEntry(host: string, name: string, links: Map<string, string>, follow = false): AsyncGenerator<Buffer> {
  let st;
  try {
    st = follow ? await stat(host) : await lstat(host);
  } catch (e) {
    // Gone while we walked: what tar does with a vanished file (skip it).
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw fromSystemError(e, host, 'reading a file of the container');
  }
  const base = { path: name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs };
  if (st.isDirectory()) {
    yield encodeTarHeader({ ...base, kind: 'directory' });
    const names = (await readdir(host).catch(() => [] as string[])).sort();
    for (const n of names) yield* tarEntry(join(host, n), name === '.' ? `./${n}` : `${name}/${n}`, links);
    return;
  }
  if (st.isSymbolicLink()) {
    yield encodeTarHeader({ ...base, kind: 'symlink', linkPath: await readlink(host) });
    return;
  }
  if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
    const kind = st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char-device' : 'block-device';
    yield encodeTarHeader({ ...base, kind, devMajor: Math.floor(st.rdev / 256) & 0xfff, devMinor: (st.rdev & 0xff) | ((Math.floor(st.rdev / 4096) & 0xfff00)) });
    return;
  }
  if (!st.isFile()) return; // sockets: tar has no type for them
  if (st.nlink > 1) {
    const key = `${st.dev}:${st.ino}`;
    const first = links.get(key);
    if (first !== undefined) {
      yield encodeTarHeader({ ...base, kind: 'hardlink', linkPath: first });
      return;
    }
    links.set(key, name);
  }
  const fh = await open(host, constants.O_RDONLY | constants.O_NOFOLLOW).catch((e: unknown) => {
    throw fromSystemError(e, host, 'opening a file of the container');
  });
  try {
    const size = st.size;
    yield encodeTarHeader({ ...base, kind: 'file', sizeBytes: size });
    let left = size;
    const buf = Buffer.allocUnsafe(256 * 1024);
    while (left > 0) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, left), null);
      if (bytesRead === 0) break;
      left -= bytesRead;
      yield Buffer.from(buf.subarray(0, bytesRead));
    }
    // A file that shrank while read: the header promised `size` bytes.
    if (left > 0) yield Buffer.alloc(left);
    yield tarPadding(size);
  } finally {
    await fh.close();
  }
}

export interface ExtractOptions {
  /** Refuse to replace a directory with a non-directory or the other way round (the docker CLI sets it). */
  readonly noOverwriteDirNonDir?: boolean;
  /** Owner of every entry (copyUIDGID: the container user's); default the archive's. */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /** Bytes of request body accepted. */
  readonly maxBytes: number;
  readonly what: string;
  /** Rename the archive's top entry (and what is below it) from `from` to `to`: `docker cp c:/a ./b`. */
  readonly rebase?: { readonly from: string; readonly to: string };
}

async function* capped(source: AsyncIterable<Uint8Array>, maxBytes: number, what: string): AsyncGenerator<Uint8Array> {
  let n = 0;
  for await (const c of source) {
    n += c.length;
    if (n > maxBytes) throw new ResourceExhausted(`${what}: the archive is over ${maxBytes} bytes`);
    yield c;
  }
}

/**
 * Extract the tar `source` into the directory `dirPath` of the container. The directory must
 * exist (NotFound) and be a directory (InvalidArgument "extraction point is not a directory").
 */
export async function extractIntoContainer(root: string, dirPath: string, source: AsyncIterable<Uint8Array>, opts: ExtractOptions): Promise<{ entries: number }> {
  const target = await resolveScoped(root, dirPath, { followLast: true });
  const st = await lstatResolved(target).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') throw new NotFound(`${dirPath}: no such file or directory`, { subject: dirPath, cause: e });
    throw fromSystemError(e, dirPath, 'reading a directory of the container');
  });
  if (!st.isDirectory()) throw new InvalidArgument('extraction point is not a directory');
  const dirs: { host: string; mode: number; mtimeMs: number }[] = [];
  let entries = 0;
  await consumeDecompressed(source, { what: opts.what }, async (data) => {
    for await (const e of readTarStream(capped(data, opts.maxBytes, opts.what), { what: opts.what })) {
      entries++;
      await extractEntry(root, target.container, e, opts, dirs);
    }
  });
  // Directory modes and times last: a read-only directory would refuse its content.
  for (const d of dirs.reverse()) {
    await chmod(d.host, d.mode).catch(() => undefined);
    await lutimes(d.host, d.mtimeMs / 1000, d.mtimeMs / 1000).catch(() => undefined);
  }
  return { entries };
}

async function extractEntry(root: string, base: string, e: TarStreamEntry, opts: ExtractOptions, dirs: { host: string; mode: number; mtimeMs: number }[]): Promise<void> {
  const at = `${opts.what}: byte ${e.headerOffset}`;
  const rebased = (name: string): string => {
    const r = archiveMemberPath(name, at);
    const b = opts.rebase;
    return b !== undefined && (r === b.from || r.startsWith(`${b.from}/`)) ? archiveMemberPath(b.to + r.slice(b.from.length), at) : r;
  };
  const rel = rebased(e.path);
  if (rel === '') return; // the archive root ("./") is the extraction point itself
  const containerPath = `${base === '/' ? '' : base}/${rel}`;
  const slash = containerPath.lastIndexOf('/');
  const parent = await resolveScoped(root, containerPath.slice(0, slash) || '/', { followLast: true, create: true });
  const name = containerPath.slice(slash + 1);
  const host = join(parent.host, name);
  const shown = `${parent.container === '/' ? '' : parent.container}/${name}`;
  const existing = await lstat(host).catch(() => undefined);
  if (existing !== undefined) {
    const isDir = e.kind === 'directory';
    if (existing.isDirectory() && isDir) {
      dirs.push({ host, mode: e.mode, mtimeMs: e.mtimeMs });
      await owner(host, e, opts);
      return;
    }
    if (opts.noOverwriteDirNonDir === true && existing.isDirectory() && !isDir) throw new Conflict(`cannot overwrite directory ${JSON.stringify(shown)} with non-directory ${JSON.stringify(e.path)}`, { subject: shown });
    if (opts.noOverwriteDirNonDir === true && !existing.isDirectory() && isDir) throw new Conflict(`cannot overwrite non-directory ${JSON.stringify(shown)} with directory ${JSON.stringify(e.path)}`, { subject: shown });
    await (existing.isDirectory() ? rm(host, { recursive: true, force: true }) : unlink(host)).catch((err: unknown) => {
      throw fromSystemError(err, shown, 'replacing a file in the container');
    });
  }
  const fsOp = async <T>(fn: () => Promise<T>, doing: string): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw err instanceof AtomicError ? err : fromSystemError(err, shown, `${at}: ${doing}`);
    }
  };
  switch (e.kind) {
    case 'directory':
      await fsOp(() => mkdir(host, 0o700), 'creating a directory');
      await owner(host, e, opts);
      dirs.push({ host, mode: e.mode, mtimeMs: e.mtimeMs });
      return;
    case 'file': {
      const fh = await fsOp(() => open(host, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600), 'creating a file');
      try {
        for await (const chunk of e.body) await fh.write(chunk);
        const o = opts.owner ?? { uid: e.uid, gid: e.gid };
        // chown first: it clears setuid/setgid, which chmod then sets.
        await fh.chown(o.uid, o.gid);
        await fh.chmod(e.mode);
      } finally {
        await fh.close();
      }
      break;
    }
    case 'symlink':
      if (e.linkPath === '' || e.linkPath.includes('\0')) throw new InvalidArgument(`${at}: symlink ${JSON.stringify(e.path)} has an empty or invalid target`);
      // Stored as it is; a symlink is never followed while extracting.
      await fsOp(() => symlink(e.linkPath, host), 'creating a symlink');
      await owner(host, e, opts);
      break;
    case 'hardlink': {
      // The target is a name in the archive, so it must lie below the extraction point.
      const targetRel = rebased(e.linkPath);
      if (targetRel === '') throw new InvalidArgument(`${at}: hard link ${JSON.stringify(e.path)} points at the extraction point itself`);
      const targetPath = `${base === '/' ? '' : base}/${targetRel}`;
      const cut = targetPath.lastIndexOf('/');
      const targetParent = await resolveScoped(root, targetPath.slice(0, cut) || '/', { followLast: true });
      await fsOp(() => link(join(targetParent.host, targetPath.slice(cut + 1)), host), 'creating a hard link');
      return;
    }
    case 'char-device':
    case 'block-device':
    case 'fifo':
      await makeNode(host, e.kind, e.devMajor, e.devMinor, e.mode);
      await owner(host, e, opts);
      await fsOp(() => chmod(host, e.mode), 'setting the mode');
      break;
  }
  await fsOp(() => lutimes(host, e.mtimeMs / 1000, e.mtimeMs / 1000), 'setting the time');
}

async function owner(host: string, e: TarStreamEntry, opts: ExtractOptions): Promise<void> {
  const o = opts.owner ?? { uid: e.uid, gid: e.gid };
  await lchown(host, o.uid, o.gid).catch((err: unknown) => {
    throw fromSystemError(err, host, 'setting the owner');
  });
}
