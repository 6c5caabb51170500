// The persisted container records: one directory per container under <stateDir>/containers/<id>/
// holding config.v2.json (dockerd's file name) beside what the monitor writes there (pid files,
// exit.json, <id>-json.log) and the bundle. Each write is atomic (temp, fsync, rename, fsync dir),
// so a crash of the agent leaves either the old or the new record, never half of one.
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerConfig, ContainerSpec, HostConfig } from '../../core/containers/container-spec.js';
import type { ContainerState } from '../../core/containers/container-state.js';
import { writeFileAtomically } from '../../lib/atomic-file.js';
import { DataLoss, fromSystemError } from '../../lib/errors.js';

export interface ContainerRecord {
  readonly schemaVersion: 1;
  /** 64 hex digits. */
  readonly id: string;
  /** With the leading "/". */
  readonly name: string;
  /** RFC 3339. */
  readonly created: string;
  /** The image's ID (sha256:...). */
  readonly imageId: string;
  /** Config.Image as the create request gave it. */
  readonly imageRef: string;
  /** The create request's Config (Image included), as received. */
  readonly config: ContainerConfig;
  /** The checked HostConfig (resource defaults applied); the spec carries the same. */
  readonly hostConfig: HostConfig;
  /** The image config merged with the request: what runs. */
  readonly spec: ContainerSpec;
  readonly state: ContainerState;
  readonly restartCount: number;
  /** Docker's HasBeenManuallyStopped: set by stop, cleared by start. */
  readonly manuallyStopped: boolean;
  /** Docker's HasBeenStartedBefore: only such containers are restarted when the agent starts. */
  readonly startedBefore: boolean;
}

const RECORD_FILE = 'config.v2.json';
const ID_RE = /^[a-f0-9]{64}$/;

export class ContainerStore {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'containers');
  }

  containerDir(id: string): string {
    return join(this.dir, id);
  }

  async save(r: ContainerRecord): Promise<void> {
    const dir = this.containerDir(r.id);
    await mkdir(dir, { recursive: true, mode: 0o711 });
    await writeFileAtomically(join(dir, RECORD_FILE), `${JSON.stringify(r, null, 1)}\n`);
  }

  /**
   * Every record. A directory without a record is a create that died before its first write and
   * is removed; a record that does not parse is DataLoss (a disk problem: atomic writes never
   * leave half a file), naming the file.
   */
  async loadAll(): Promise<{ records: ContainerRecord[]; orphans: string[] }> {
    await mkdir(this.dir, { recursive: true, mode: 0o711 });
    const records: ContainerRecord[] = [];
    const orphans: string[] = [];
    for (const id of (await readdir(this.dir)).sort()) {
      if (!ID_RE.test(id)) continue;
      const file = join(this.dir, id, RECORD_FILE);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          orphans.push(id);
          continue;
        }
        throw fromSystemError(e, file, 'reading a container record');
      }
      let r: ContainerRecord;
      try {
        r = JSON.parse(text) as ContainerRecord;
      } catch (e) {
        throw new DataLoss(`container record ${file} is not JSON`, { subject: file, cause: e });
      }
      if (r.schemaVersion !== 1 || r.id !== id || typeof r.name !== 'string' || typeof r.state?.status !== 'string') {
        throw new DataLoss(`container record ${file} is not a version 1 record of container ${id}`, { subject: file });
      }
      records.push(r);
    }
    return { records, orphans };
  }

  async remove(id: string): Promise<void> {
    await rm(this.containerDir(id), { recursive: true, force: true });
  }
}
