// The provisioning state directory, laid out like cloud-init's /var/lib/cloud so people find
// things where they expect them:
//   data/instance-id, data/previous-instance-id   which instance this host was last provisioned as
//   data/status.json                              the status document (core/provision/status.ts)
//   instances/<iid>/sem/config_<module>           per-instance semaphores
//   sem/config_<module>.once                      once-ever semaphores
//   instances/<iid>/user-data.txt, vendor-data.txt, cloud-config.json   what was applied
// Every write is atomic (temp + rename); a semaphore is a file whose presence is the fact.
//
// What must survive a crash, and when (each fsync costs milliseconds, a pass would do ~70):
//   - a semaphore, by the time its module starts changing the root: markRun fsyncs the
//     semaphore's directory (the name is the fact; its content, who took it and when, is not).
//     A module with nothing to do passes `durable: false`: its semaphore reaches the disk with
//     the next durable one or sync(); rerunning it after a crash would do nothing either.
//   - the status document at the end of a pass. The ones written during the pass (`durable:
//     false`) are progress for whoever watches; after a crash the next pass rewrites the status
//     before anything else, so making each of them durable would buy nothing.
//
// The file operations are synchronous: a provisioning pass does a few of them per module, in
// sequence, and each fs/promises call would be a thread-pool round trip (bench/: provision). The
// methods stay async for their callers.
import { dirname, join } from 'node:path';
import { syncDirSync, writeFileAtomicallySync } from '../../lib/atomic-file.js';
import { requireFs } from '../../lib/builtin.js';
import { DataLoss, InvalidArgument, fromSystemError } from '../../lib/errors.js';
import type { Frequency, ModuleName } from '../../core/provision/model.js';
import type { ProvisionStatus } from '../../core/provision/status.js';

const { mkdirSync, readFileSync, statSync } = requireFs();

export class CloudState {
  /** Directories holding semaphores whose names are not yet known to be on disk. */
  private readonly unsyncedDirs = new Set<string>();

  constructor(readonly dir: string) {}

  instanceDir(instanceId: string): string {
    checkInstanceIdForPath(instanceId);
    return join(this.dir, 'instances', instanceId);
  }

  async init(): Promise<void> {
    for (const d of ['data', 'sem', 'instances']) {
      try {
        mkdirSync(join(this.dir, d), { recursive: true, mode: 0o755 });
      } catch (e) {
        throw fromSystemError(e, join(this.dir, d), 'creating the state directory');
      }
    }
  }

  async currentInstanceId(): Promise<string | undefined> {
    return this.readText(join(this.dir, 'data', 'instance-id'));
  }

  /** Record `instanceId` as current, keeping the one before as previous-instance-id (cloud-init's files). */
  async setInstanceId(instanceId: string): Promise<void> {
    const current = await this.currentInstanceId();
    if (current !== undefined && current !== instanceId) writeFileAtomicallySync(join(this.dir, 'data', 'previous-instance-id'), current + '\n');
    writeFileAtomicallySync(join(this.dir, 'data', 'instance-id'), instanceId + '\n');
    mkdirSync(join(this.instanceDir(instanceId), 'sem'), { recursive: true, mode: 0o755 });
  }

  private semaphore(module: ModuleName, frequency: Frequency, instanceId: string): string | undefined {
    if (frequency === 'always') return undefined;
    return frequency === 'once' ? join(this.dir, 'sem', `config_${module}.once`) : join(this.instanceDir(instanceId), 'sem', `config_${module}`);
  }

  async hasRun(module: ModuleName, frequency: Frequency, instanceId: string): Promise<boolean> {
    const sem = this.semaphore(module, frequency, instanceId);
    if (sem === undefined) return false;
    try {
      statSync(sem);
      return true;
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return false;
      throw fromSystemError(e, sem, 'reading a semaphore');
    }
  }

  /**
   * Taken when the module starts, like cloud-init's FileSemaphores: a module that fails is not
   * retried on the next boot for the same instance (its failure is in the status instead).
   */
  async markRun(module: ModuleName, frequency: Frequency, instanceId: string, at: Date, opts: { readonly durable?: boolean } = {}): Promise<void> {
    const sem = this.semaphore(module, frequency, instanceId);
    if (sem === undefined) return;
    writeFileAtomicallySync(sem, `${process.pid}: ${at.toISOString()}\n`, { durable: false });
    this.unsyncedDirs.add(dirname(sem));
    if (opts.durable ?? true) await this.sync();
  }

  /** Make every semaphore taken so far durable (one fsync per directory). */
  async sync(): Promise<void> {
    for (const dir of this.unsyncedDirs) {
      try {
        syncDirSync(dir);
      } catch (e) {
        throw fromSystemError(e, dir, 'recording which modules ran');
      }
      this.unsyncedDirs.delete(dir);
    }
  }

  /** The status document; `durable: false` for the progress reports during a pass (see the top). */
  async writeStatus(status: ProvisionStatus, opts: { readonly durable?: boolean } = {}): Promise<void> {
    writeFileAtomicallySync(join(this.dir, 'data', 'status.json'), JSON.stringify(status, null, 2) + '\n', { durable: opts.durable ?? true });
  }

  async readStatus(): Promise<ProvisionStatus | undefined> {
    const text = await this.readText(join(this.dir, 'data', 'status.json'));
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as ProvisionStatus;
    } catch (e) {
      throw new DataLoss('status file is not valid JSON', { subject: join(this.dir, 'data', 'status.json'), cause: e });
    }
  }

  /** Keep what was applied for this instance, for people and for `atomic cloud-init status`. */
  async writeInstanceFile(instanceId: string, name: string, data: Uint8Array | string, mode = 0o600): Promise<void> {
    mkdirSync(this.instanceDir(instanceId), { recursive: true, mode: 0o755 });
    writeFileAtomicallySync(join(this.instanceDir(instanceId), name), data, { mode });
  }

  private async readText(path: string): Promise<string | undefined> {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return undefined;
      throw fromSystemError(e, path, 'reading the provisioning state');
    }
  }
}

/** cloud-init makes the instance-id a directory name: refuse what could escape instances/. */
function checkInstanceIdForPath(id: string): void {
  // eslint-disable-next-line no-control-regex
  if (id === '' || id === '.' || id === '..' || /[/\u0000]/.test(id)) {
    throw new InvalidArgument(`instance-id ${JSON.stringify(id)} cannot be used as a directory name`);
  }
}
