// Unpack one layer tar into an empty directory that becomes an overlayfs lower directory on its
// own (the layer is not applied on top of its parents, so one unpacked diff serves every image
// that has it). Whiteouts are therefore turned into overlayfs's form (kernel
// Documentation/filesystems/overlayfs.rst "whiteouts and opaque directories"): `.wh.NAME` becomes
// a character device 0/0 named NAME, `.wh..wh..opq` the xattr trusted.overlay.opaque=y on its
// directory, as containerd's overlay applier and Docker's overlay2 driver do.
//
// Nothing in the layer may reach outside the directory. Names are checked (layer-path.ts), and
// every parent of an entry must be a directory this unpack created itself: the table of what was
// created is the resolution, so a symlink in the layer (`x -> /etc`, `a -> ..`) is never walked
// through, as openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) would refuse. The directory is fresh
// and private to this unpack, so the table cannot go stale; files are still opened with
// O_CREAT | O_EXCL | O_NOFOLLOW as a second guard. Hard links must point at an earlier entry of
// the same layer.
import { constants } from 'node:fs';
import { chmod, lchown, link, lutimes, mkdir, open, rm, symlink, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { AtomicError, InvalidArgument, PermissionDenied, fromSystemError } from '../../lib/errors.js';
import { abortReason } from '../../lib/backoff.js';
import type { TarStreamEntry } from '../../formats/tar/tar-stream.js';
import { classifyLayerPath, hardlinkTargetParts } from '../../formats/oci/layer-path.js';
import { makeNode, setXattrs, type XattrItem } from './special-files.js';

export interface UnpackOptions {
  /** Names the layer in messages: `layer sha256:…`. */
  readonly what: string;
  readonly signal?: AbortSignal;
  /** chown entries to the uid/gid of the tar (only root can). Default: when running as root. */
  readonly sameOwner?: boolean;
}

export interface UnpackStats {
  readonly entries: number;
  /** Bytes of file content written: the size of the diff on disk, roughly. */
  readonly contentBytes: number;
  readonly whiteouts: number;
  readonly opaqueDirs: number;
  /** Device nodes left out because creating them is not permitted here. */
  readonly devicesSkipped: number;
  /** Extended attributes left out: SELinux labels (they belong to the host's policy), user.* ones on symlinks and nodes (the kernel has none there). */
  readonly xattrsSkipped: number;
}

type Created = 'dir' | 'file' | 'symlink' | 'node' | 'whiteout';

interface DirMeta {
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number | undefined;
}

const OVERLAY_OPAQUE = 'trusted.overlay.opaque';
const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const WRITE_BATCH_BYTES = 1024 * 1024;

/** Unpack `entries` into `root` (an empty directory). Refusals are InvalidArgument naming the entry. */
export async function unpackLayer(entries: AsyncIterable<TarStreamEntry>, root: string, opts: UnpackOptions): Promise<UnpackStats> {
  const u = new Unpacker(root, opts);
  for await (const entry of entries) {
    if (opts.signal?.aborted === true) throw abortReason(opts.signal, opts.what);
    await u.apply(entry);
  }
  await u.finish();
  return u.stats;
}

class Unpacker {
  private readonly created = new Map<string, Created>([['', 'dir']]);
  private readonly dirs = new Map<string, DirMeta>([['', { mode: 0o755, uid: 0, gid: 0, mtimeMs: undefined }]]);
  private readonly opaque = new Set<string>();
  private readonly xattrs: XattrItem[] = [];
  private readonly sameOwner: boolean;
  readonly stats = { entries: 0, contentBytes: 0, whiteouts: 0, opaqueDirs: 0, devicesSkipped: 0, xattrsSkipped: 0 };

  constructor(
    private readonly root: string,
    private readonly opts: UnpackOptions,
  ) {
    this.sameOwner = opts.sameOwner ?? process.getuid?.() === 0;
  }

  private abs(key: string): string {
    return key === '' ? this.root : join(this.root, key);
  }

  async apply(e: TarStreamEntry): Promise<void> {
    const at = `${this.opts.what}: byte ${e.headerOffset}`;
    this.stats.entries++;
    const lp = classifyLayerPath(e.path, at);
    switch (lp.kind) {
      case 'aufs-metadata':
        return;
      case 'opaque': {
        if (e.kind === 'directory') throw new InvalidArgument(`${at}: entry ${JSON.stringify(e.path)}: an opaque marker must not be a directory`);
        const dir = await this.ensureDir(lp.dirParts, e.path, at);
        this.opaque.add(dir);
        this.stats.opaqueDirs++;
        return;
      }
      case 'whiteout': {
        if (e.kind === 'directory') throw new InvalidArgument(`${at}: entry ${JSON.stringify(e.path)}: a whiteout must not be a directory`);
        const dir = await this.ensureDir(lp.dirParts, e.path, at);
        const key = dir === '' ? lp.name : `${dir}/${lp.name}`;
        // layer.md: a whiteout only hides the layers below; an entry of the same name in this
        // layer stays, and in overlayfs that entry already hides the name below.
        if (this.created.has(key)) return;
        try {
          await makeNode(this.abs(key), 'char-device', 0, 0, 0, this.opts.signal);
        } catch (err) {
          if (err instanceof PermissionDenied) throw new PermissionDenied(`${at}: the whiteout ${JSON.stringify(e.path)} needs a 0/0 character device, which only root can create`, { cause: err });
          throw err;
        }
        this.created.set(key, 'whiteout');
        this.stats.whiteouts++;
        return;
      }
      case 'entry':
        await this.entry(lp.parts, e, at);
        return;
    }
  }

  /** Make sure every component of `parts` is a directory created by this unpack; returns its key. */
  private async ensureDir(parts: readonly string[], entryPath: string, at: string): Promise<string> {
    let key = '';
    for (const part of parts) {
      key = key === '' ? part : `${key}/${part}`;
      const kind = this.created.get(key);
      if (kind === 'dir') continue;
      if (kind !== undefined) {
        throw new InvalidArgument(`${at}: entry ${JSON.stringify(entryPath)} goes through ${JSON.stringify(key)}, which is a ${describe(kind)} in this layer, not a directory (refused: it could lead outside the layer)`);
      }
      // Tar files may omit parent directories; Docker creates them 0755 root-owned.
      await this.fs(() => mkdir(this.abs(key), 0o700), key, 'creating a parent directory');
      this.created.set(key, 'dir');
      this.dirs.set(key, { mode: 0o755, uid: 0, gid: 0, mtimeMs: undefined });
    }
    return key;
  }

  private async entry(parts: readonly string[], e: TarStreamEntry, at: string): Promise<void> {
    if (parts.length === 0) {
      if (e.kind !== 'directory') throw new InvalidArgument(`${at}: entry ${JSON.stringify(e.path)} would replace the layer root with a ${e.kind}`);
      this.dirs.set('', { mode: e.mode, uid: e.uid, gid: e.gid, mtimeMs: e.mtimeMs });
      this.collectXattrs('', e, at);
      return;
    }
    const parent = await this.ensureDir(parts.slice(0, -1), e.path, at);
    const name = parts[parts.length - 1]!;
    const key = parent === '' ? name : `${parent}/${name}`;
    const abs = this.abs(key);
    const existing = this.created.get(key);
    if (existing !== undefined) {
      if (existing === 'dir' && e.kind === 'directory') {
        // A directory listed twice: the later header's attributes win (Docker keeps the directory).
        this.dirs.set(key, { mode: e.mode, uid: e.uid, gid: e.gid, mtimeMs: e.mtimeMs });
        this.collectXattrs(key, e, at);
        return;
      }
      await this.remove(key, existing);
    }
    switch (e.kind) {
      case 'directory':
        await this.fs(() => mkdir(abs, 0o700), key, 'creating a directory');
        this.created.set(key, 'dir');
        this.dirs.set(key, { mode: e.mode, uid: e.uid, gid: e.gid, mtimeMs: e.mtimeMs });
        break;
      case 'file':
        await this.writeFile(key, e);
        this.created.set(key, 'file');
        break;
      case 'symlink':
        if (e.linkPath === '' || e.linkPath.includes('\0')) throw new InvalidArgument(`${at}: symlink ${JSON.stringify(e.path)} has an empty or invalid target`);
        // The target is stored as is and never followed while unpacking.
        await this.fs(() => symlink(e.linkPath, abs), key, 'creating a symlink');
        this.created.set(key, 'symlink');
        if (this.sameOwner) await this.fs(() => lchown(abs, e.uid, e.gid), key, 'setting the owner');
        await this.fs(() => lutimes(abs, e.mtimeMs / 1000, e.mtimeMs / 1000), key, 'setting the time');
        break;
      case 'hardlink': {
        const targetParts = hardlinkTargetParts(e.linkPath, at);
        const targetKey = targetParts.join('/');
        const target = this.created.get(targetKey);
        if (target === undefined) {
          throw new InvalidArgument(`${at}: hard link ${JSON.stringify(e.path)} points at ${JSON.stringify(e.linkPath)}, which is not an earlier entry of this layer`);
        }
        if (target === 'dir' || target === 'whiteout') throw new InvalidArgument(`${at}: hard link ${JSON.stringify(e.path)} points at a ${describe(target)}`);
        // link(2) does not follow a symlink target (no AT_SYMLINK_FOLLOW): it links the symlink itself.
        await this.fs(() => link(this.abs(targetKey), abs), key, 'creating a hard link');
        this.created.set(key, target);
        break;
      }
      case 'char-device':
      case 'block-device':
      case 'fifo':
        try {
          await makeNode(abs, e.kind, e.devMajor, e.devMinor, 0o600, this.opts.signal);
        } catch (err) {
          // Rootless Docker and Podman leave device nodes out of images the same way.
          if (err instanceof PermissionDenied && e.kind !== 'fifo') {
            this.stats.devicesSkipped++;
            return;
          }
          throw err;
        }
        this.created.set(key, 'node');
        if (this.sameOwner) await this.fs(() => lchown(abs, e.uid, e.gid), key, 'setting the owner');
        await this.fs(() => chmod(abs, e.mode), key, 'setting the mode');
        await this.fs(() => lutimes(abs, e.mtimeMs / 1000, e.mtimeMs / 1000), key, 'setting the time');
        break;
    }
    this.collectXattrs(key, e, at);
  }

  private async writeFile(key: string, e: TarStreamEntry): Promise<void> {
    const abs = this.abs(key);
    let handle: FileHandle;
    try {
      handle = await open(abs, WRITE_FLAGS, 0o600);
    } catch (err) {
      throw fromSystemError(err, abs, 'creating a file of the layer');
    }
    try {
      let batch: Buffer[] = [];
      let batchBytes = 0;
      for await (const chunk of e.body) {
        batch.push(chunk);
        batchBytes += chunk.length;
        if (batchBytes >= WRITE_BATCH_BYTES) {
          await writeAll(handle, batch);
          this.stats.contentBytes += batchBytes;
          batch = [];
          batchBytes = 0;
        }
      }
      if (batchBytes > 0) await writeAll(handle, batch);
      this.stats.contentBytes += batchBytes;
      // chown first: it clears setuid/setgid, which chmod then sets.
      if (this.sameOwner) await handle.chown(e.uid, e.gid);
      await handle.chmod(e.mode);
    } catch (err) {
      throw err instanceof AtomicError ? err : fromSystemError(err, abs, 'writing a file of the layer');
    } finally {
      await handle.close().catch(() => undefined);
    }
    await this.fs(() => lutimes(abs, e.mtimeMs / 1000, e.mtimeMs / 1000), key, 'setting the time');
  }

  private collectXattrs(key: string, e: TarStreamEntry, at: string): void {
    const kind = this.created.get(key);
    for (const [name, value] of e.xattrs) {
      // overlayfs reads its own xattrs (opaque, redirect, metacopy, origin) from lower layers: a
      // layer that sets them could redirect lookups anywhere in the stack.
      if (/^(trusted|user)\.overlay\./.test(name)) throw new InvalidArgument(`${at}: entry ${JSON.stringify(e.path)} sets the overlayfs attribute ${name}`);
      // Names are C strings: setfattr would cut `security.selinux\0x` at the NUL and set the label
      // that the check below means to leave out.
      if (name.includes('\0')) throw new InvalidArgument(`${at}: entry ${JSON.stringify(e.path)} has an extended attribute name with a NUL byte: ${JSON.stringify(name)}`);
      if (name === 'security.selinux') {
        this.stats.xattrsSkipped++;
        continue;
      }
      // xattr(7): user.* attributes exist only on regular files and directories; the kernel
      // refuses them on symlinks and device nodes (EPERM), and Docker skips what it cannot set.
      if (name.startsWith('user.') && kind !== 'file' && kind !== 'dir') {
        this.stats.xattrsSkipped++;
        continue;
      }
      this.xattrs.push({ path: key === '' ? '.' : key, name, value });
    }
  }

  private async remove(key: string, kind: Created): Promise<void> {
    const abs = this.abs(key);
    if (kind === 'dir') {
      await this.fs(() => rm(abs, { recursive: true, force: true }), key, 'replacing a directory');
      const prefix = `${key}/`;
      for (const k of [...this.created.keys()]) if (k === key || k.startsWith(prefix)) this.created.delete(k);
      for (const k of [...this.dirs.keys()]) if (k === key || k.startsWith(prefix)) this.dirs.delete(k);
      for (const k of [...this.opaque]) if (k === key || k.startsWith(prefix)) this.opaque.delete(k);
    } else {
      await this.fs(() => unlink(abs), key, 'replacing an entry');
      this.created.delete(key);
    }
    for (let i = this.xattrs.length - 1; i >= 0; i--) {
      const p = this.xattrs[i]!.path;
      if (p === key || p.startsWith(`${key}/`)) this.xattrs.splice(i, 1);
    }
  }

  /** Directory attributes last (a read-only directory would refuse its children), then times. */
  async finish(): Promise<void> {
    const keys = [...this.dirs.keys()];
    for (const key of keys) {
      const m = this.dirs.get(key)!;
      if (this.sameOwner) await this.fs(() => lchown(this.abs(key), m.uid, m.gid), key, 'setting the owner');
      await this.fs(() => chmod(this.abs(key), m.mode), key, 'setting the mode');
    }
    await setXattrs(
      this.root,
      [...this.opaque].map((key) => ({ path: key, name: OVERLAY_OPAQUE, value: Buffer.from('y') })),
      this.opts.signal,
    );
    await setXattrs(this.root, this.xattrs, this.opts.signal);
    // Deepest first: creating nothing more below, the times stay as set.
    keys.sort((a, b) => depth(b) - depth(a));
    for (const key of keys) {
      const m = this.dirs.get(key)!;
      if (m.mtimeMs !== undefined) await this.fs(() => lutimes(this.abs(key), m.mtimeMs! / 1000, m.mtimeMs! / 1000), key, 'setting the time');
    }
  }

  private async fs<T>(fn: () => Promise<T>, key: string, doing: string): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw fromSystemError(e, this.abs(key), `${this.opts.what}: ${doing} (${key === '' ? '/' : key})`);
    }
  }
}

async function writeAll(handle: FileHandle, chunks: Buffer[]): Promise<void> {
  let pending = chunks;
  while (pending.length > 0) {
    const total = pending.reduce((n, c) => n + c.length, 0);
    const { bytesWritten } = await handle.writev(pending);
    if (bytesWritten === total) return;
    // A short write: continue after what was written.
    let skip = bytesWritten;
    const rest: Buffer[] = [];
    for (const c of pending) {
      if (skip >= c.length) skip -= c.length;
      else {
        rest.push(skip > 0 ? c.subarray(skip) : c);
        skip = 0;
      }
    }
    pending = rest;
  }
}

function depth(key: string): number {
  return key === '' ? 0 : key.split('/').length;
}

function describe(kind: Created): string {
  switch (kind) {
    case 'dir':
      return 'directory';
    case 'file':
      return 'file';
    case 'symlink':
      return 'symlink';
    case 'node':
      return 'device node';
    case 'whiteout':
      return 'whiteout';
  }
}
