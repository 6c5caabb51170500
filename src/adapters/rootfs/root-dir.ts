// File operations confined to a root tree (the target of `atomicd --root DIR`, or an image being
// provisioned). Every path is an absolute path *inside* the root, resolved here component by
// component through directory file descriptors, so nothing is ever read or written outside it:
//
//   - `..` in a requested path is refused (cloud-init would normalize it with os.path.abspath;
//     for a root tree it can only be a mistake or an attack).
//   - Symbolic links in the middle of a path are followed the way chroot(2) would see them, like
//     openat2's RESOLVE_IN_ROOT: an absolute target starts again at the root (so `/var/run ->
//     /run` means ROOT/run, never the host's /run), a relative target continues from the link's
//     directory. A relative target whose `..` climbs above the root is refused (chroot would
//     clamp it at `/`; such a link was made for another tree). At most 40 links per lookup.
//   - The final component is opened with O_NOFOLLOW. Writes replace it (temp + rename), so a
//     symlink there is replaced, never written through. Reads that follow a final symlink do so
//     with the same in-root rules.
//
// Linux has openat(2) but Node does not expose it; a path through /proc/self/fd/N names the
// directory behind descriptor N, so each lookup step is relative to an already-checked
// directory and a concurrent symlink swap of a parent cannot redirect it.
import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, readlink, rename, rm, stat, symlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { InvalidArgument, NotFound, PermissionDenied, ResourceExhausted, fromSystemError } from '../../lib/errors.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;

/** Linux's MAXSYMLINKS. */
const MAX_LINKS = 40;
/** Files we read back (account databases, authorized_keys, /etc/hosts) are small; refuse giants. */
const MAX_READ_BYTES = 64 * 1024 * 1024;

function errnoOf(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

function fdPath(h: FileHandle, name?: string): string {
  return name === undefined ? `/proc/self/fd/${h.fd}` : `/proc/self/fd/${h.fd}/${name}`;
}

/** Components of a requested in-root path; `..` is refused. */
function requestedComponents(path: string): string[] {
  if (!path.startsWith('/')) throw new InvalidArgument(`${path}: not an absolute path inside the root`, { subject: path });
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new PermissionDenied(`${path}: refusing a path with '..' (it could leave the root)`, { subject: path });
  return parts;
}

/** Where a lookup ended: the directory holding the final component, and that component. */
interface ParentDir {
  readonly dir: FileHandle;
  /** The directory's resolved in-root path (no symlinks left in it). */
  readonly dirPath: string;
  readonly name: string;
}

export interface WriteOptions {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Keep the old content in front of the new (still written as a new file and renamed). */
  readonly append?: boolean;
}

export interface DirOptions {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export class RootDir {
  private constructor(readonly root: string) {}

  /** A root tree that exists and is a directory. */
  static async open(root: string): Promise<RootDir> {
    let st: Stats;
    try {
      st = await stat(root);
    } catch (e) {
      throw fromSystemError(e, root, `root ${root}`);
    }
    if (!st.isDirectory()) throw new InvalidArgument(`root ${root} is not a directory`, { subject: root });
    return new RootDir(root);
  }

  private async openRoot(): Promise<FileHandle> {
    try {
      return await open(this.root, O_RDONLY | O_DIRECTORY);
    } catch (e) {
      throw fromSystemError(e, this.root, `opening the root ${this.root}`);
    }
  }

  /**
   * Walk `components` from the root to a directory, creating missing ones (0755, root-owned)
   * when `create`; `..` only comes from symlink targets here.
   */
  private async walk(components: readonly string[], create: boolean, display: string, links: { count: number }): Promise<{ dir: FileHandle; path: string[] }> {
    const queue = [...components];
    const stack: FileHandle[] = [await this.openRoot()];
    const names: string[] = [];
    const closeAll = async (): Promise<void> => {
      await Promise.all(stack.map((h) => h.close().catch(() => undefined)));
    };
    try {
      while (queue.length > 0) {
        const c = queue.shift() ?? '';
        if (c === '' || c === '.') continue;
        if (c === '..') {
          if (stack.length === 1) throw new PermissionDenied(`${display}: a symbolic link on the way points above the root`, { subject: display });
          await stack.pop()?.close();
          names.pop();
          continue;
        }
        const top = stack[stack.length - 1] as FileHandle;
        let h: FileHandle | undefined;
        try {
          h = await open(fdPath(top, c), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        } catch (e) {
          const code = errnoOf(e);
          if (code === 'ENOENT' && create) {
            h = await this.makeDir(top, c, { mode: 0o755, uid: 0, gid: 0 }, display);
          } else if (code === 'ELOOP' || code === 'ENOTDIR') {
            const st = await lstat(fdPath(top, c));
            if (!st.isSymbolicLink()) throw new InvalidArgument(`${display}: /${[...names, c].join('/')} is not a directory`, { subject: display });
            if (++links.count > MAX_LINKS) throw new InvalidArgument(`${display}: too many levels of symbolic links`, { subject: display });
            const target = await readlink(fdPath(top, c));
            if (target.startsWith('/')) {
              // Absolute: from the root again, as inside a chroot.
              while (stack.length > 1) await stack.pop()?.close();
              names.length = 0;
            }
            queue.unshift(...target.split('/'));
            continue;
          } else {
            throw fromSystemError(e, display, `${display}: /${[...names, c].join('/')}`);
          }
        }
        stack.push(h);
        names.push(c);
      }
      const dir = stack.pop() as FileHandle;
      await closeAll();
      return { dir, path: names };
    } catch (e) {
      await closeAll();
      throw e;
    }
  }

  /**
   * mkdir at `parent/name` (an existing directory is fine), then fix owner and mode on it
   * (umask and setgid parents aside). A symlink or a file at the name is refused.
   */
  private async makeDir(parent: FileHandle, name: string, opts: DirOptions, display: string): Promise<FileHandle> {
    try {
      await mkdir(fdPath(parent, name), opts.mode);
    } catch (e) {
      if (errnoOf(e) !== 'EEXIST') throw fromSystemError(e, display, `${display}: creating ${name}`);
    }
    let h: FileHandle;
    try {
      h = await open(fdPath(parent, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    } catch (e) {
      const st = await lstat(fdPath(parent, name)).catch(() => undefined);
      if (st?.isSymbolicLink() === true) throw new PermissionDenied(`${display}: ${name} is a symbolic link; refusing to use it as a directory`, { subject: display });
      throw fromSystemError(e, display, `${display}: opening the directory ${name}`);
    }
    try {
      await h.chown(opts.uid, opts.gid);
      await h.chmod(opts.mode);
    } catch (e) {
      await h.close();
      throw fromSystemError(e, display, `${display}: setting owner and mode of ${name}`);
    }
    return h;
  }

  /**
   * The parent directory of `path` and its final name. With `followFinal`, a final symlink is
   * followed (in-root rules) until the name is not a symlink.
   */
  private async parentOf(path: string, opts: { create: boolean; followFinal: boolean }): Promise<ParentDir> {
    let parts = requestedComponents(path);
    if (parts.length === 0) throw new InvalidArgument(`${path}: the root itself is not a file`, { subject: path });
    const links = { count: 0 };
    for (;;) {
      const name = parts[parts.length - 1] as string;
      const { dir, path: resolved } = await this.walk(parts.slice(0, -1), opts.create, path, links);
      if (!opts.followFinal) return { dir, dirPath: `/${resolved.join('/')}`, name };
      let st: Stats | undefined;
      try {
        st = await lstat(fdPath(dir, name));
      } catch (e) {
        if (errnoOf(e) !== 'ENOENT') {
          await dir.close();
          throw fromSystemError(e, path, path);
        }
      }
      if (st === undefined || !st.isSymbolicLink()) return { dir, dirPath: `/${resolved.join('/')}`, name };
      if (++links.count > MAX_LINKS) {
        await dir.close();
        throw new InvalidArgument(`${path}: too many levels of symbolic links`, { subject: path });
      }
      const target = await readlink(fdPath(dir, name));
      await dir.close();
      // `resolved` has no symlinks left, so `..` in the target can be taken lexically.
      const next = target.startsWith('/') ? [] : [...resolved];
      for (const p of target.split('/')) {
        if (p === '' || p === '.') continue;
        if (p === '..') {
          if (next.length === 0) throw new PermissionDenied(`${path}: its symbolic link points above the root`, { subject: path });
          next.pop();
        } else next.push(p);
      }
      if (next.length === 0) throw new InvalidArgument(`${path}: its symbolic link points at the root directory`, { subject: path });
      parts = next;
    }
  }

  /** lstat of an in-root path (the final component not followed); undefined when it does not exist. */
  async lstat(path: string): Promise<Stats | undefined> {
    return this.statAt(path, false);
  }

  /** stat of an in-root path, symlinks followed inside the root; undefined when it does not exist. */
  async stat(path: string): Promise<Stats | undefined> {
    return this.statAt(path, true);
  }

  private async statAt(path: string, follow: boolean): Promise<Stats | undefined> {
    let p: ParentDir;
    try {
      p = await this.parentOf(path, { create: false, followFinal: follow });
    } catch (e) {
      if (e instanceof NotFound) return undefined;
      throw e;
    }
    try {
      return await lstat(fdPath(p.dir, p.name));
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return undefined;
      throw fromSystemError(e, path, path);
    } finally {
      await p.dir.close();
    }
  }

  /** The content of an in-root regular file, or undefined when it does not exist. */
  async readFile(path: string, opts: { followFinal?: boolean } = {}): Promise<Uint8Array | undefined> {
    let p: ParentDir;
    try {
      p = await this.parentOf(path, { create: false, followFinal: opts.followFinal ?? true });
    } catch (e) {
      if (e instanceof NotFound) return undefined;
      throw e;
    }
    try {
      return await readAt(p.dir, p.name, path);
    } finally {
      await p.dir.close();
    }
  }

  /** Text of an in-root file (UTF-8), or undefined when it does not exist. */
  async readText(path: string, opts: { followFinal?: boolean } = {}): Promise<string | undefined> {
    const data = await this.readFile(path, opts);
    return data === undefined ? undefined : Buffer.from(data).toString('utf8');
  }

  /**
   * Write a file atomically: a temp file beside it, owner and mode set, fsynced, renamed over
   * the final name (a symlink there is replaced), the directory fsynced. Missing parent
   * directories are created 0755 and root-owned.
   */
  async writeFile(path: string, data: Uint8Array, opts: WriteOptions): Promise<void> {
    const p = await this.parentOf(path, { create: true, followFinal: false });
    try {
      let content = data;
      if (opts.append === true) {
        const old = await readAt(p.dir, p.name, path);
        if (old !== undefined) content = Buffer.concat([old, data]);
      }
      const temp = `.${p.name}.${randomBytes(6).toString('hex')}.atomicd-tmp`;
      let h: FileHandle;
      try {
        h = await open(fdPath(p.dir, temp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
      } catch (e) {
        throw fromSystemError(e, path, `${path}: creating a temp file`);
      }
      try {
        await h.writeFile(content);
        // chown before chmod: chown clears set-id bits.
        await h.chown(opts.uid, opts.gid);
        await h.chmod(opts.mode);
        await h.sync();
        await h.close();
        await rename(fdPath(p.dir, temp), fdPath(p.dir, p.name));
        await p.dir.sync();
      } catch (e) {
        await h.close().catch(() => undefined);
        await rm(fdPath(p.dir, temp), { force: true }).catch(() => undefined);
        throw fromSystemError(e, path, `writing ${path}`);
      }
    } finally {
      await p.dir.close();
    }
  }

  /** Make `target` a symlink at `path` (atomically replacing what is there). */
  async symlink(path: string, target: string): Promise<void> {
    const p = await this.parentOf(path, { create: true, followFinal: false });
    const temp = `.${p.name}.${randomBytes(6).toString('hex')}.atomicd-tmp`;
    try {
      await symlink(target, fdPath(p.dir, temp));
      await rename(fdPath(p.dir, temp), fdPath(p.dir, p.name));
      await p.dir.sync();
    } catch (e) {
      await rm(fdPath(p.dir, temp), { force: true }).catch(() => undefined);
      throw fromSystemError(e, path, `linking ${path}`);
    } finally {
      await p.dir.close();
    }
  }

  /**
   * Make sure `path` is a directory with this owner and mode, creating it (and missing parents,
   * 0755 root-owned) if needed. A symlink at `path` is refused.
   */
  async ensureDir(path: string, opts: DirOptions): Promise<void> {
    const p = await this.parentOf(path, { create: true, followFinal: false });
    try {
      const h = await this.makeDir(p.dir, p.name, opts, path);
      await h.close();
    } finally {
      await p.dir.close();
    }
  }

  /** Names in an in-root directory (symlinks followed in-root), or undefined when it does not exist. */
  async list(path: string): Promise<string[] | undefined> {
    const st = await this.stat(path);
    if (st === undefined) return undefined;
    if (!st.isDirectory()) throw new InvalidArgument(`${path} is not a directory`, { subject: path });
    const p = await this.parentOf(path, { create: false, followFinal: true });
    try {
      const h = await open(fdPath(p.dir, p.name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      try {
        return await readdir(fdPath(h));
      } finally {
        await h.close();
      }
    } catch (e) {
      throw fromSystemError(e, path, `listing ${path}`);
    } finally {
      await p.dir.close();
    }
  }
}

async function readAt(dir: FileHandle, name: string, display: string): Promise<Uint8Array | undefined> {
  let h: FileHandle;
  try {
    // O_NONBLOCK: a FIFO planted at the name must not hang us; it is refused below.
    h = await open(fdPath(dir, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new PermissionDenied(`${display} is a symbolic link; refusing to read through it`, { subject: display });
    throw fromSystemError(e, display, `reading ${display}`);
  }
  try {
    const st = await h.stat();
    if (!st.isFile()) throw new InvalidArgument(`${display} is not a regular file`, { subject: display });
    if (st.size > MAX_READ_BYTES) throw new ResourceExhausted(`${display} is larger than ${MAX_READ_BYTES} bytes`, { subject: display });
    return await h.readFile();
  } finally {
    await h.close();
  }
}
