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
import type { Stats } from 'node:fs';
import { requireFs } from '../../lib/builtin.js';
import { InvalidArgument, NotFound, PermissionDenied, ResourceExhausted, fromSystemError } from '../../lib/errors.js';
import { tempSuffix } from '../../lib/temp-name.js';

// The calls below are synchronous on purpose: a provisioning pass is one sequence of small
// operations (a lookup opens every component of a path), and through fs/promises each would be a
// thread-pool round trip and an event-loop turn (thousands per pass, bench/: provision). The
// methods stay async for their callers.

const { closeSync, constants, fchmodSync, fchownSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } = requireFs();
const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;

/** Linux's MAXSYMLINKS. */
const MAX_LINKS = 40;
/** Files we read back (account databases, authorized_keys, /etc/hosts) are small; refuse giants. */
const MAX_READ_BYTES = 64 * 1024 * 1024;

function errnoOf(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

/** A directory file descriptor. */
type Fd = number;

function fdPath(fd: Fd, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

function closeQuietly(fd: Fd): void {
  try {
    closeSync(fd);
  } catch {
    // Closing a descriptor we opened fails only if it is already closed.
  }
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
  readonly dir: Fd;
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
  /**
   * fsync the directory after the rename (default). false: the caller will syncDir() the
   * directory writeFile returns, once for several files written into it.
   */
  readonly syncDir?: boolean;
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
      st = statSync(root);
    } catch (e) {
      throw fromSystemError(e, root, `root ${root}`);
    }
    if (!st.isDirectory()) throw new InvalidArgument(`root ${root} is not a directory`, { subject: root });
    return new RootDir(root);
  }

  private openRoot(): Fd {
    try {
      return openSync(this.root, O_RDONLY | O_DIRECTORY);
    } catch (e) {
      throw fromSystemError(e, this.root, `opening the root ${this.root}`);
    }
  }

  /**
   * Walk `components` from the root to a directory, creating missing ones (0755, root-owned)
   * when `create`; `..` only comes from symlink targets here.
   */
  private walk(components: readonly string[], create: boolean, display: string, links: { count: number }): { dir: Fd; path: string[] } {
    const queue = [...components];
    const stack: Fd[] = [this.openRoot()];
    const names: string[] = [];
    const closeAll = (): void => {
      for (const fd of stack) closeQuietly(fd);
    };
    try {
      while (queue.length > 0) {
        const c = queue.shift() ?? '';
        if (c === '' || c === '.') continue;
        if (c === '..') {
          if (stack.length === 1) throw new PermissionDenied(`${display}: a symbolic link on the way points above the root`, { subject: display });
          closeSync(stack.pop() as Fd);
          names.pop();
          continue;
        }
        const top = stack[stack.length - 1] as Fd;
        let h: Fd | undefined;
        try {
          h = openSync(fdPath(top, c), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        } catch (e) {
          const code = errnoOf(e);
          if (code === 'ENOENT' && create) {
            h = this.makeDir(top, c, { mode: 0o755, uid: 0, gid: 0 }, display);
          } else if (code === 'ELOOP' || code === 'ENOTDIR') {
            const st = lstatSync(fdPath(top, c));
            if (!st.isSymbolicLink()) throw new InvalidArgument(`${display}: /${[...names, c].join('/')} is not a directory`, { subject: display });
            if (++links.count > MAX_LINKS) throw new InvalidArgument(`${display}: too many levels of symbolic links`, { subject: display });
            const target = readlinkSync(fdPath(top, c));
            if (target.startsWith('/')) {
              // Absolute: from the root again, as inside a chroot.
              while (stack.length > 1) closeSync(stack.pop() as Fd);
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
      const dir = stack.pop() as Fd;
      closeAll();
      return { dir, path: names };
    } catch (e) {
      closeAll();
      throw e;
    }
  }

  /**
   * mkdir at `parent/name` (an existing directory is fine), then fix owner and mode on it
   * (umask and setgid parents aside). A symlink or a file at the name is refused.
   */
  private makeDir(parent: Fd, name: string, opts: DirOptions, display: string): Fd {
    try {
      mkdirSync(fdPath(parent, name), opts.mode);
    } catch (e) {
      if (errnoOf(e) !== 'EEXIST') throw fromSystemError(e, display, `${display}: creating ${name}`);
    }
    let h: Fd;
    try {
      h = openSync(fdPath(parent, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    } catch (e) {
      let st: Stats | undefined;
      try {
        st = lstatSync(fdPath(parent, name));
      } catch {
        // Reported below as the open's error.
      }
      if (st?.isSymbolicLink() === true) throw new PermissionDenied(`${display}: ${name} is a symbolic link; refusing to use it as a directory`, { subject: display });
      throw fromSystemError(e, display, `${display}: opening the directory ${name}`);
    }
    try {
      fchownSync(h, opts.uid, opts.gid);
      fchmodSync(h, opts.mode);
    } catch (e) {
      closeSync(h);
      throw fromSystemError(e, display, `${display}: setting owner and mode of ${name}`);
    }
    return h;
  }

  /**
   * The parent directory of `path` and its final name. With `followFinal`, a final symlink is
   * followed (in-root rules) until the name is not a symlink.
   */
  private parentOf(path: string, opts: { create: boolean; followFinal: boolean }): ParentDir {
    let parts = requestedComponents(path);
    if (parts.length === 0) throw new InvalidArgument(`${path}: the root itself is not a file`, { subject: path });
    const links = { count: 0 };
    for (;;) {
      const name = parts[parts.length - 1] as string;
      const { dir, path: resolved } = this.walk(parts.slice(0, -1), opts.create, path, links);
      if (!opts.followFinal) return { dir, dirPath: `/${resolved.join('/')}`, name };
      let st: Stats | undefined;
      try {
        st = lstatSync(fdPath(dir, name));
      } catch (e) {
        if (errnoOf(e) !== 'ENOENT') {
          closeSync(dir);
          throw fromSystemError(e, path, path);
        }
      }
      if (st === undefined || !st.isSymbolicLink()) return { dir, dirPath: `/${resolved.join('/')}`, name };
      if (++links.count > MAX_LINKS) {
        closeSync(dir);
        throw new InvalidArgument(`${path}: too many levels of symbolic links`, { subject: path });
      }
      const target = readlinkSync(fdPath(dir, name));
      closeSync(dir);
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
      p = this.parentOf(path, { create: false, followFinal: follow });
    } catch (e) {
      if (e instanceof NotFound) return undefined;
      throw e;
    }
    try {
      return lstatSync(fdPath(p.dir, p.name));
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return undefined;
      throw fromSystemError(e, path, path);
    } finally {
      closeSync(p.dir);
    }
  }

  /** The content of an in-root regular file, or undefined when it does not exist. */
  async readFile(path: string, opts: { followFinal?: boolean } = {}): Promise<Uint8Array | undefined> {
    let p: ParentDir;
    try {
      p = this.parentOf(path, { create: false, followFinal: opts.followFinal ?? true });
    } catch (e) {
      if (e instanceof NotFound) return undefined;
      throw e;
    }
    try {
      return readAt(p.dir, p.name, path);
    } finally {
      closeSync(p.dir);
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
  /** Returns the in-root path of the directory written into (symlinks resolved). */
  async writeFile(path: string, data: Uint8Array, opts: WriteOptions): Promise<string> {
    const p = this.parentOf(path, { create: true, followFinal: false });
    try {
      let content = data;
      if (opts.append === true) {
        const old = readAt(p.dir, p.name, path);
        if (old !== undefined) content = Buffer.concat([old, data]);
      }
      const temp = `.${p.name}.${tempSuffix()}.atomicd-tmp`;
      let h: Fd;
      try {
        h = openSync(fdPath(p.dir, temp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
      } catch (e) {
        throw fromSystemError(e, path, `${path}: creating a temp file`);
      }
      let open = true;
      try {
        writeFileSync(h, content);
        // chown before chmod: chown clears set-id bits.
        fchownSync(h, opts.uid, opts.gid);
        fchmodSync(h, opts.mode);
        fsyncSync(h);
        open = false;
        closeSync(h);
        renameSync(fdPath(p.dir, temp), fdPath(p.dir, p.name));
        if (opts.syncDir ?? true) fsyncSync(p.dir);
      } catch (e) {
        if (open) closeQuietly(h);
        rmSync(fdPath(p.dir, temp), { force: true });
        throw fromSystemError(e, path, `writing ${path}`);
      }
      return p.dirPath;
    } finally {
      closeSync(p.dir);
    }
  }

  /** fsync an in-root directory (one writeFile returned): makes the renames in it durable. */
  async syncDir(dirPath: string): Promise<void> {
    const parts = requestedComponents(dirPath);
    const { dir } = this.walk(parts, false, dirPath, { count: 0 });
    try {
      fsyncSync(dir);
    } catch (e) {
      throw fromSystemError(e, dirPath, `syncing ${dirPath}`);
    } finally {
      closeSync(dir);
    }
  }

  /** Make `target` a symlink at `path` (atomically replacing what is there). */
  async symlink(path: string, target: string): Promise<void> {
    const p = this.parentOf(path, { create: true, followFinal: false });
    const temp = `.${p.name}.${tempSuffix()}.atomicd-tmp`;
    try {
      symlinkSync(target, fdPath(p.dir, temp));
      renameSync(fdPath(p.dir, temp), fdPath(p.dir, p.name));
      fsyncSync(p.dir);
    } catch (e) {
      try {
        rmSync(fdPath(p.dir, temp), { force: true });
      } catch {
        // The error that matters is the one below.
      }
      throw fromSystemError(e, path, `linking ${path}`);
    } finally {
      closeSync(p.dir);
    }
  }

  /**
   * Make sure `path` is a directory with this owner and mode, creating it (and missing parents,
   * 0755 root-owned) if needed. A symlink at `path` is refused.
   */
  async ensureDir(path: string, opts: DirOptions): Promise<void> {
    const p = this.parentOf(path, { create: true, followFinal: false });
    try {
      closeSync(this.makeDir(p.dir, p.name, opts, path));
    } finally {
      closeSync(p.dir);
    }
  }

  /** Names in an in-root directory (symlinks followed in-root), or undefined when it does not exist. */
  async list(path: string): Promise<string[] | undefined> {
    const st = await this.stat(path);
    if (st === undefined) return undefined;
    if (!st.isDirectory()) throw new InvalidArgument(`${path} is not a directory`, { subject: path });
    const p = this.parentOf(path, { create: false, followFinal: true });
    try {
      const h = openSync(fdPath(p.dir, p.name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      try {
        return readdirSync(fdPath(h));
      } finally {
        closeSync(h);
      }
    } catch (e) {
      throw fromSystemError(e, path, `listing ${path}`);
    } finally {
      closeSync(p.dir);
    }
  }
}

function readAt(dir: Fd, name: string, display: string): Uint8Array | undefined {
  let h: Fd;
  try {
    // O_NONBLOCK: a FIFO planted at the name must not hang us; it is refused below.
    h = openSync(fdPath(dir, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new PermissionDenied(`${display} is a symbolic link; refusing to read through it`, { subject: display });
    throw fromSystemError(e, display, `reading ${display}`);
  }
  try {
    const st = fstatSync(h);
    if (!st.isFile()) throw new InvalidArgument(`${display} is not a regular file`, { subject: display });
    if (st.size > MAX_READ_BYTES) throw new ResourceExhausted(`${display} is larger than ${MAX_READ_BYTES} bytes`, { subject: display });
    return readFileSync(h);
  } finally {
    closeSync(h);
  }
}
