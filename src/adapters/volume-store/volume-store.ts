// Named volumes of atomicd, the way Docker's "local" volume driver keeps them
// (moby volume/local/local.go): one directory per volume under the store root,
//
//   <root>/<name>/_data          what containers mount
//   <root>/<name>/volume.json    driver, labels, options, creation time
//
// A volume appears and disappears in one rename: it is built under a dot-named temp directory
// (never listed, since dot names fail the name rule) and renamed into place, and removed by
// renaming it aside before deleting its files. So a crash never leaves a volume half-made, and
// a concurrent create of the same name yields exactly one volume.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Conflict, DataLoss, InvalidArgument, NotFound, fromSystemError } from '../../lib/errors.js';
import { writeFileAtomically, syncDir } from '../../lib/atomic-file.js';

/** Docker's rule for volume names (moby volume/local: validName). */
export const VOLUME_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
/** The label Docker puts on volumes it made for a container's anonymous mounts; prune's default removes only these. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
/** Options the local driver understands (moby volume/local: validOpts); they describe a mount made at first use. */
const LOCAL_OPTIONS: ReadonlySet<string> = new Set(['type', 'device', 'o', 'size']);

export interface Volume {
  readonly name: string;
  readonly driver: 'local';
  /** The directory containers mount. */
  readonly mountpoint: string;
  /** RFC 3339. */
  readonly createdAt: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly options: Readonly<Record<string, string>>;
  readonly anonymous: boolean;
}

export interface CreateVolumeOptions {
  /** Omitted: a random 64-hex name, as Docker gives. */
  readonly name?: string;
  /** Only "local". */
  readonly driver?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly options?: Readonly<Record<string, string>>;
  /** A volume made for a container's anonymous mount (labelled as Docker does). */
  readonly anonymous?: boolean;
}

export interface VolumeFilters {
  /** true: used by no container; false: used by at least one. */
  readonly dangling?: boolean;
  /** Substring matches on the name, any of them (Docker's name filter). */
  readonly name?: readonly string[];
  /** `key` or `key=value`, all of them. */
  readonly label?: readonly string[];
  /** `label!=` filters: `key` or `key=value`, none of them. */
  readonly labelNot?: readonly string[];
  /** Driver names, any of them. */
  readonly driver?: readonly string[];
}

export interface PruneResult {
  readonly volumesDeleted: readonly string[];
  readonly spaceReclaimedBytes: number;
}

/** The containers (IDs) that mount a volume; the container engine supplies it. */
export type VolumeUsage = (name: string) => readonly string[];

export interface VolumeStoreOptions {
  readonly root: string;
  /** Default: nothing uses any volume (no container engine yet). */
  readonly usedBy?: VolumeUsage;
}

interface VolumeDocument {
  readonly schemaVersion: 1;
  readonly driver: 'local';
  readonly createdAt: string;
  readonly labels: Record<string, string>;
  readonly options: Record<string, string>;
}

const METADATA = 'volume.json';

export class VolumeStore {
  readonly root: string;
  private readonly usedBy: VolumeUsage;
  private prepared: Promise<void> | undefined;

  constructor(opts: VolumeStoreOptions) {
    this.root = opts.root;
    this.usedBy = opts.usedBy ?? (() => []);
  }

  /**
   * Create a volume. Creating a name that exists returns the existing volume unchanged, as Docker
   * does (compose and scripts rely on create being idempotent).
   */
  async create(opts: CreateVolumeOptions = {}): Promise<Volume> {
    await this.prepare();
    const driver = opts.driver === undefined || opts.driver === '' ? 'local' : opts.driver;
    const name = opts.name === undefined || opts.name === '' ? randomBytes(32).toString('hex') : opts.name;
    checkName(name, 'create');
    if (driver !== 'local') throw new NotFound(`create ${name}: error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    const options = { ...(opts.options ?? {}) };
    checkOptions(name, options);
    const labels = { ...(opts.labels ?? {}), ...(opts.anonymous === true ? { [ANONYMOUS_LABEL]: '' } : {}) };
    for (const [k, v] of [...Object.entries(labels), ...Object.entries(options)]) {
      if (typeof v !== 'string') throw new InvalidArgument(`create ${name}: the value of ${JSON.stringify(k)} must be a string`);
    }
    const existing = await this.find(name);
    if (existing !== undefined) return existing;
    const temp = join(this.root, `.create-${randomBytes(6).toString('hex')}`);
    // CreatedAt is RFC 3339 to the second, as Docker shows it.
    const createdAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const doc: VolumeDocument = { schemaVersion: 1, driver: 'local', createdAt, labels, options };
    try {
      await mkdir(join(temp, '_data'), { recursive: true, mode: 0o755 });
      // The root of the volume as Docker makes it: a directory only root can enter, _data open.
      await writeFileAtomically(join(temp, METADATA), `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
      await rename(temp, this.volumeDir(name));
      await syncDir(this.root);
    } catch (e) {
      await rm(temp, { recursive: true, force: true }).catch(() => undefined);
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        // Another create of the same name won the race: the same answer as if it had come first.
        const winner = await this.find(name);
        if (winner !== undefined) return winner;
      }
      throw fromSystemError(e, name, 'creating the volume');
    }
    return this.inspect(name);
  }

  async inspect(name: string): Promise<Volume> {
    await this.prepare();
    const v = VOLUME_NAME_PATTERN.test(name) ? await this.find(name) : undefined;
    if (v === undefined) throw new NotFound(`get ${name}: no such volume`);
    return v;
  }

  /** The volumes matching `filters`, by name; a volume whose metadata is damaged fails the listing (DataLoss). */
  async list(filters: VolumeFilters = {}): Promise<Volume[]> {
    const { volumes, damaged } = await this.scan(filters);
    if (damaged[0] !== undefined) throw damaged[0];
    return volumes;
  }

  /**
   * Like list, but damaged volumes are reported beside the good ones instead of failing it: the
   * API's volume list answers with the good ones and a warning per damaged one (its Warnings).
   */
  async scan(filters: VolumeFilters = {}): Promise<{ volumes: Volume[]; damaged: DataLoss[] }> {
    await this.prepare();
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (e) {
      throw fromSystemError(e, this.root, 'listing volumes');
    }
    const volumes: Volume[] = [];
    const damaged: DataLoss[] = [];
    for (const n of names.sort()) {
      if (!VOLUME_NAME_PATTERN.test(n)) continue;
      let v: Volume | undefined;
      try {
        v = await this.find(n);
      } catch (e) {
        if (e instanceof DataLoss) {
          damaged.push(e);
          continue;
        }
        throw e;
      }
      if (v !== undefined && this.matches(v, filters)) volumes.push(v);
    }
    return { volumes, damaged };
  }

  /** The containers using the volume (empty when unused). */
  usage(name: string): readonly string[] {
    return this.usedBy(name);
  }

  /**
   * Remove a volume and its data. In use: Conflict naming the containers. Missing: NotFound, or
   * nothing with `force` (Docker's `volume rm -f`).
   */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.prepare();
    const v = VOLUME_NAME_PATTERN.test(name) ? await this.find(name) : undefined;
    if (v === undefined) {
      if (opts.force === true) return;
      throw new NotFound(`get ${name}: no such volume`);
    }
    const users = this.usedBy(name);
    // Go's %v of a []string: `[a b]`.
    if (users.length > 0) throw new Conflict(`remove ${name}: volume is in use - [${users.join(' ')}]`);
    const trash = join(this.root, `.remove-${randomBytes(6).toString('hex')}`);
    try {
      await rename(this.volumeDir(name), trash);
      await syncDir(this.root);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && opts.force === true) return;
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFound(`get ${name}: no such volume`, { cause: e });
      throw fromSystemError(e, name, 'removing the volume');
    }
    await rm(trash, { recursive: true, force: true }).catch((e: unknown) => {
      throw fromSystemError(e, trash, 'deleting the files of a removed volume');
    });
  }

  /**
   * Remove unused volumes: anonymous ones only, or every unused one with `all` (API 1.42+
   * semantics); `label` filters narrow it further.
   */
  async prune(opts: { all?: boolean; label?: readonly string[]; labelNot?: readonly string[] } = {}): Promise<PruneResult> {
    // Damaged volumes are not pruned: their data is left for someone to look at.
    const { volumes: candidates } = await this.scan({ dangling: true, ...(opts.label === undefined ? {} : { label: opts.label }), ...(opts.labelNot === undefined ? {} : { labelNot: opts.labelNot }) });
    const deleted: string[] = [];
    let bytes = 0;
    for (const v of candidates) {
      if (opts.all !== true && !v.anonymous) continue;
      const size = await treeSize(v.mountpoint);
      try {
        await this.remove(v.name);
      } catch (e) {
        // Taken into use or removed since the listing: not ours to prune any more.
        if (e instanceof Conflict || e instanceof NotFound) continue;
        throw e;
      }
      deleted.push(v.name);
      bytes += size;
    }
    return { volumesDeleted: deleted, spaceReclaimedBytes: bytes };
  }

  /** Bytes of file content in the volume (Docker's UsageData.Size). */
  async sizeBytes(name: string): Promise<number> {
    return treeSize((await this.inspect(name)).mountpoint);
  }

  private matches(v: Volume, f: VolumeFilters): boolean {
    if (f.dangling !== undefined && (this.usedBy(v.name).length === 0) !== f.dangling) return false;
    if (f.name !== undefined && f.name.length > 0 && !f.name.some((n) => v.name.includes(n))) return false;
    if (f.driver !== undefined && f.driver.length > 0 && !f.driver.includes(v.driver)) return false;
    const has = (l: string): boolean => {
      const eq = l.indexOf('=');
      return eq < 0 ? l in v.labels : v.labels[l.slice(0, eq)] === l.slice(eq + 1);
    };
    if (f.label !== undefined && !f.label.every(has)) return false;
    if (f.labelNot !== undefined && f.labelNot.some(has)) return false;
    return true;
  }

  /** Where the data of volume `name` is (or would be): `<root>/<name>/_data`, as dockerd's local driver lays it out. */
  mountpointOf(name: string): string {
    return join(this.volumeDir(name), '_data');
  }

  private volumeDir(name: string): string {
    return join(this.root, name);
  }

  /** The volume, or undefined when there is no directory of that name. */
  private async find(name: string): Promise<Volume | undefined> {
    const dir = this.volumeDir(name);
    let text: string;
    try {
      const st = await lstat(dir);
      if (!st.isDirectory()) throw new DataLoss(`the volume store holds a ${st.isSymbolicLink() ? 'symbolic link' : 'file'} named ${name} where a volume directory belongs`, { subject: dir });
      text = await readFile(join(dir, METADATA), 'utf8');
    } catch (e) {
      if (e instanceof DataLoss) throw e;
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        if (!(await isDir(dir))) return undefined;
        throw new DataLoss(`volume ${name} has no ${METADATA}`, { subject: dir, cause: e });
      }
      throw fromSystemError(e, join(dir, METADATA), 'reading the volume metadata');
    }
    let doc: Partial<VolumeDocument>;
    try {
      doc = JSON.parse(text) as Partial<VolumeDocument>;
    } catch (e) {
      throw new DataLoss('the volume metadata is not JSON', { subject: join(dir, METADATA), cause: e });
    }
    if (doc.schemaVersion !== 1 || doc.driver !== 'local' || typeof doc.createdAt !== 'string') {
      throw new DataLoss('the volume metadata has an unknown format', { subject: join(dir, METADATA) });
    }
    const labels = { ...(doc.labels ?? {}) };
    return {
      name,
      driver: 'local',
      mountpoint: this.mountpointOf(name),
      createdAt: doc.createdAt,
      labels,
      options: { ...(doc.options ?? {}) },
      anonymous: ANONYMOUS_LABEL in labels,
    };
  }

  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      try {
        await mkdir(this.root, { recursive: true, mode: 0o701 });
      } catch (e) {
        throw fromSystemError(e, this.root, 'creating the volume store');
      }
      // Leftovers of creates and removes a crash interrupted.
      for (const n of await readdir(this.root).catch(() => [] as string[])) {
        if (n.startsWith('.create-') || n.startsWith('.remove-')) await rm(join(this.root, n), { recursive: true, force: true }).catch(() => undefined);
      }
    })();
    const p = this.prepared;
    p.catch(() => {
      this.prepared = undefined;
    });
    return p;
  }
}

/** Docker's message for a name that breaks the rule, naming the rule. */
export function checkName(name: string, doing: string): void {
  if (VOLUME_NAME_PATTERN.test(name) && name.length <= 255) return;
  if (name.length > 255) throw new InvalidArgument(`${doing} ${name.slice(0, 32)}...: a volume name is at most 255 characters`);
  throw new InvalidArgument(
    `${doing} ${name}: ${JSON.stringify(name)} includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed (and at least two characters). If you intended to pass a host directory, use absolute path`,
  );
}

function checkOptions(name: string, options: Record<string, string>): void {
  for (const k of Object.keys(options)) {
    if (!LOCAL_OPTIONS.has(k)) throw new InvalidArgument(`create ${name}: invalid option: ${JSON.stringify(k)}`);
  }
  // local.go: a mount needs both what to mount and how.
  if (options.type !== undefined && options.device === undefined) throw new InvalidArgument(`create ${name}: missing required option: "device"`);
  if (options.device !== undefined && options.type === undefined) throw new InvalidArgument(`create ${name}: missing required option: "type"`);
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Bytes of regular files under dir, not following symbolic links; unreadable parts count 0. */
async function treeSize(dir: string): Promise<number> {
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) total += await lstat(p).then((s) => s.size, () => 0);
    }
  };
  await walk(dir);
  return total;
}
