// The container engine of atomicd: Docker's container verbs (create, start, stop, kill, restart,
// rm, wait, inspect, ps, logs, exec, stats, update, rename, pause, unpause, and access to the root
// filesystem for cp, diff and top) and events, composed from the image
// store (layers), the bundle layout (overlay rootfs + config.json), the OCI runtime (runc/crun)
// and one detached monitor per container (json-file log + exit file).
//
// Containers are not children of the agent: their monitors survive it. What the engine knows is
// persisted per container (container-store.ts) before it is acted on, so a new agent process
// (ContainerEngine.open) finds every container again: running ones are watched again, exits that
// happened while no agent ran are recorded and their restart policy applied, and after a reboot
// (no monitor, no runtime state, no exit file) the policy decides which are started again.
//
// Concurrency: every change of one container runs under that container's lock (a promise
// chain); waiting for an exit happens outside it, so `stop` can wait while the exit handler
// records the exit.
import { randomBytes, randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CgroupHierarchy } from '../../adapters/cgroups/cgroup-hierarchy.js';
import { readCgroupStats } from '../../adapters/cgroups/cgroup-stats.js';
import { cgroupOfPid, readCgroupProcs, removeCgroupTree, type ContainerCgroup } from '../../adapters/cgroups/container-cgroup.js';
import type { ContainerUse, ImageRecord, ImageStore } from '../../adapters/image-store/image-store.js';
import { bundleDir, prepareBundle, releaseBundle, resolveInRoot } from '../../adapters/oci-runtime/container-bundle.js';
import { mountOverlayRootfs, unmountRootfs } from '../../adapters/oci-runtime/rootfs-mount.js';
import type { HostFacts } from '../../adapters/oci-runtime/host-facts.js';
import { formatLogEntry, readJsonFileLog, type LogEntry } from '../../adapters/oci-runtime/json-file-log.js';
import { startPipedExec, startTtyExec, type ExecSession } from '../../adapters/oci-runtime/exec-session.js';
import { connectMonitorAttach, resizeThroughMonitor, type MonitorAttach } from '../../adapters/oci-runtime/monitor-attach.js';
import { monitorAlive, monitorFiles, readExitFile, startMonitor, waitForExit, type ContainerExit, type MonitorFiles } from '../../adapters/oci-runtime/monitor.js';
import type { OciRuntime } from '../../adapters/oci-runtime/oci-runtime.js';
import type { OciProcess } from '../../core/containers/oci-spec.js';
import { canonicalName, generateName } from '../../core/containers/container-names.js';
import { resolveContainerSpec, type ContainerConfig, type HostConfig, type ImageConfig } from '../../core/containers/container-spec.js';
import {
  createdState, hasProcess, isRunning, toDead, toExited, toPaused, toRemoving, toRestarting, toRunning, toUnpaused, type ExitRecord,
} from '../../core/containers/container-state.js';
import { ociExecProcess, type ExecConfig } from '../../core/containers/oci-runtime-spec.js';
import { checkFilters, matchesPsFilters, type PsFilters } from '../../core/containers/ps-filters.js';
import { adaptResources, updateResources, type ResourceUpdate } from '../../core/containers/resources.js';
import {
  checkRestartBackoff, DOCKER_RESTART_BACKOFF, normalizeRestartPolicy, shouldRestart, type RestartBackoff,
} from '../../core/containers/restart-policy.js';
import { Cancelled, Conflict, DeadlineExceeded, FailedPrecondition, InvalidArgument, NotFound, Unimplemented } from '../../lib/errors.js';
import { ContainerEvents, type ContainerAction } from './container-events.js';
import { inspectJSON, summaryJSON, type ContainerJSON, type ContainerSummary } from './container-inspect.js';
import { HostOrNoneNetworking, type ContainerNetworking, type EndpointRequest } from './container-networking.js';
import { statsJSON, stoppedStatsJSON, readSystemCpuUsageNs, type StatsJSON, type StatsSample } from './container-stats.js';
import { ContainerStore, type ContainerRecord } from './container-store.js';
import { checkAutoRemove, checkStopTimeout, logRotationOf } from './engine-config.js';
import { ExitWatcher, RestartScheduler, type WatchedExit } from './supervisor.js';

/** The subset of pino's Logger the engine uses. */
export interface EngineLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EngineClock {
  now(): number;
}

export interface ContainerEngineOptions {
  readonly stateDir: string;
  readonly imageStore: ImageStore;
  readonly runtime: OciRuntime;
  readonly hostFacts: HostFacts;
  readonly cgroups: CgroupHierarchy;
  /** native/monitor/atomic-monitor. */
  readonly monitorPath: string;
  readonly logger?: EngineLogger;
  readonly clock?: EngineClock;
  /** Docker's defaults (100 ms doubling, 1 min cap, reset after 10 s) for what is not given. */
  readonly restartBackoff?: Partial<RestartBackoff>;
  /** Default: "none" and "host" only (HostOrNoneNetworking). */
  readonly networking?: ContainerNetworking;
  /** Parent of every container cgroup (linux.cgroupsPath = PARENT/ID). Default /atomic. */
  readonly cgroupParent?: string;
  /** How often exit files are polled. Default 100 ms. */
  readonly exitPollMs?: number;
  /** Named volumes (`-v NAME:/path`, `--mount type=volume`); without it they are refused. */
  readonly volumes?: NamedVolumes;
}

/** The volume store as the engine needs it. */
export interface NamedVolumes {
  /** The host directory of volume `name`, creating the volume when it does not exist (as `docker run -v` does). */
  ensure(name: string): Promise<string>;
  /** The host directory volume `name` has (or will have): what inspect shows as its Mounts[].Source. No I/O. */
  mountpoint(name: string): string;
}

/** The named volumes a HostConfig mounts (Binds "NAME:/path[:opts]" and Mounts of type volume). */
export function namedVolumesOf(hc: HostConfig): string[] {
  const names = new Set<string>();
  for (const b of hc.Binds ?? []) {
    const src = b.split(':')[0] ?? '';
    if (src !== '' && !src.startsWith('/')) names.add(src);
  }
  for (const m of hc.Mounts ?? []) if (m.Type === 'volume' && m.Source !== undefined && m.Source !== '') names.add(m.Source);
  return [...names];
}

export interface CreateRequest {
  readonly name?: string;
  readonly config: ContainerConfig;
  readonly hostConfig?: HostConfig;
  /** NetworkingConfig.EndpointsConfig of the container's network: --network-alias, --ip. */
  readonly endpoint?: EndpointRequest;
}

export interface CreateResponse {
  readonly Id: string;
  readonly Warnings: string[];
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface WaitResponse {
  readonly StatusCode: number;
  readonly Error: { readonly Message: string } | null;
}

export interface LogsOptions {
  readonly stdout?: boolean;
  readonly stderr?: boolean;
  /** Only entries at or after this time, ns since the epoch. */
  readonly since?: bigint;
  /** Only entries at or before this time, ns since the epoch. */
  readonly until?: bigint;
  readonly tail?: number;
  /** Prefix each line with its RFC 3339 time (in `line`). */
  readonly timestamps?: boolean;
  /** Keep reading until the container exits (or `signal`). */
  readonly follow?: boolean;
  readonly signal?: AbortSignal;
}

export interface LogLine extends LogEntry {
  /** As `docker logs` prints the entry (with the time first when `timestamps`). */
  readonly line: string;
}

export interface ExecRequest extends ExecConfig {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

export interface ExecResponse {
  readonly ExitCode: number;
  readonly Stdout: string;
  readonly Stderr: string;
}

export type UpdateRequest = Pick<
  HostConfig,
  'Memory' | 'MemorySwap' | 'MemoryReservation' | 'CpuShares' | 'NanoCpus' | 'CpuPeriod' | 'CpuQuota' | 'CpusetCpus' | 'CpusetMems' | 'BlkioWeight' | 'PidsLimit' | 'RestartPolicy'
>;

/** Docker's default `stop -t`. */
export const DEFAULT_STOP_TIMEOUT_SECONDS = 10;
/** Exit code recorded when the monitor vanished without an exit file (reboot, monitor killed). */
export const LOST_EXIT_CODE = 255;
/** How long an exit may take after SIGKILL before stop/rm give up. */
const KILL_GRACE_MS = 30_000;
/** How long an attached reader may hold back the removal of an AutoRemove container. */
export const REMOVAL_HOLD_MAX_MS = 30_000;
/** Exit code of a start that failed before the process ran (dockerd's generic value). */
export const START_FAILED_EXIT_CODE = 128;

const NULL_LOGGER: EngineLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const SYSTEM_CLOCK: EngineClock = { now: () => Date.now() };

type Notice = { readonly id: string; readonly kind: 'exit' | 'state' | 'removed'; readonly exitCode: number };

export class ContainerEngine {
  readonly events = new ContainerEvents();
  private readonly o: ContainerEngineOptions;
  private readonly log: EngineLogger;
  private readonly clock: EngineClock;
  private readonly store: ContainerStore;
  private readonly networking: ContainerNetworking;
  private readonly cgroupParent: string;
  private readonly records = new Map<string, ContainerRecord>();
  /** Names taken by creates and renames in progress. */
  private readonly reservedNames = new Set<string>();
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Internal notices: exits recorded, state changes, removals (for wait and stop). */
  private readonly notices = new EventEmitter();
  private readonly watcher: ExitWatcher;
  private readonly scheduler: RestartScheduler;
  private readonly statsSamples = new Map<string, StatsSample>();
  private readonly removalHolds = new Map<string, Set<Promise<void>>>();
  private closed = false;

  constructor(o: ContainerEngineOptions) {
    this.o = o;
    this.log = o.logger ?? NULL_LOGGER;
    this.clock = o.clock ?? SYSTEM_CLOCK;
    this.store = new ContainerStore(o.stateDir);
    this.networking = o.networking ?? new HostOrNoneNetworking();
    this.cgroupParent = o.cgroupParent ?? '/atomic';
    if (!this.cgroupParent.startsWith('/') || this.cgroupParent.split('/').includes('..')) {
      throw new InvalidArgument(`cgroupParent "${this.cgroupParent}" must be an absolute path without ".."`, { subject: 'cgroupParent' });
    }
    this.notices.setMaxListeners(0);
    this.scheduler = new RestartScheduler(checkRestartBackoff({ ...DOCKER_RESTART_BACKOFF, ...o.restartBackoff }));
    this.watcher = new ExitWatcher({
      pollMs: o.exitPollMs ?? 100,
      filesOf: (id) => this.filesOf(id),
      onExit: (id, how) => this.onWatchedExit(id, how),
      onError: (id, e) => this.log.error({ container: id, err: e }, 'watching the container failed'),
    });
  }

  /**
   * An engine with every persisted container recovered (see recover). To see the events recovery
   * emits (exits recorded while no agent ran, restarts), construct, subscribe, then recover().
   */
  static async open(o: ContainerEngineOptions): Promise<ContainerEngine> {
    const engine = new ContainerEngine(o);
    await engine.recover();
    return engine;
  }

  // ---- files -------------------------------------------------------------------------------

  private dirOf(id: string): string {
    return this.store.containerDir(id);
  }

  private filesOf(id: string): MonitorFiles {
    // The console socket must fit in sockaddr_un (108 bytes): a short name beside the records.
    const short = join(this.o.stateDir, 'sock', id.slice(0, 16));
    return { ...monitorFiles(this.dirOf(id)), consoleSocket: short, attachSocket: `${short}.attach` };
  }

  private logPathOf(id: string): string {
    return join(this.dirOf(id), `${id}-json.log`);
  }

  private cgroupsPathOf(id: string): string {
    return `${this.cgroupParent}/${id}`;
  }

  // ---- records, locks, notices ----------------------------------------------------------------

  private locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(id, tail);
    void tail.then(() => {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    });
    return run;
  }

  private async put(r: ContainerRecord): Promise<ContainerRecord> {
    await this.store.save(r);
    this.records.set(r.id, r);
    this.notify({ id: r.id, kind: 'state', exitCode: r.state.run.exitCode });
    return r;
  }

  private notify(n: Notice): void {
    this.notices.emit(n.id, n);
  }

  /** Resolves on the first notice of `id` accepted by `accept`; `cancel` stops listening. */
  private nextNotice(id: string, accept: (n: Notice) => boolean): { promise: Promise<Notice>; cancel: () => void } {
    let listener: ((n: Notice) => void) | undefined;
    const promise = new Promise<Notice>((resolve) => {
      listener = (n: Notice): void => {
        if (!accept(n)) return;
        this.notices.off(id, listener as (n: Notice) => void);
        resolve(n);
      };
      this.notices.on(id, listener);
    });
    return { promise, cancel: () => this.notices.off(id, listener as (n: Notice) => void) };
  }

  private emitEvent(r: ContainerRecord, action: ContainerAction, extra: Record<string, string> = {}): void {
    const ms = this.clock.now();
    this.events.emit({
      Type: 'container',
      Action: action,
      Actor: { ID: r.id, Attributes: { ...r.spec.labels, image: r.imageRef, name: r.name.slice(1), ...extra } },
      scope: 'local',
      time: Math.floor(ms / 1000),
      timeNano: ms * 1_000_000,
      status: action,
      id: r.id,
      from: r.imageRef,
    });
  }

  private nowIso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  private checkOpen(): void {
    if (this.closed) throw new FailedPrecondition('the container engine is closed');
  }

  /** Find a container by full ID, name (with or without "/") or unique ID prefix. */
  private find(ref: string): ContainerRecord {
    const exact = this.records.get(ref);
    if (exact !== undefined) return exact;
    if (ref !== '') {
      const name = ref.startsWith('/') ? ref : `/${ref}`;
      for (const r of this.records.values()) if (r.name === name) return r;
      if (/^[a-f0-9]+$/.test(ref)) {
        const hits = [...this.records.values()].filter((r) => r.id.startsWith(ref));
        if (hits.length === 1 && hits[0] !== undefined) return hits[0];
        if (hits.length > 1) throw new InvalidArgument(`Multiple IDs found with provided prefix: ${ref}`, { subject: ref });
      }
    }
    throw new NotFound(`No such container: ${ref}`, { subject: ref });
  }

  /** The record as it is now (after a lock was taken). */
  private current(id: string): ContainerRecord {
    const r = this.records.get(id);
    if (r === undefined) throw new NotFound(`No such container: ${id}`, { subject: id });
    return r;
  }

  private nameTaken(name: string): ContainerRecord | 'reserved' | undefined {
    if (this.reservedNames.has(name)) return 'reserved';
    for (const r of this.records.values()) if (r.name === name) return r;
    return undefined;
  }

  private nameConflict(name: string, holder: ContainerRecord | 'reserved'): Conflict {
    const id = holder === 'reserved' ? '' : holder.id;
    return new Conflict(
      `Conflict. The container name "${name}" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`,
      { subject: name },
    );
  }

  // ---- create ----------------------------------------------------------------------------------

  async create(req: CreateRequest): Promise<CreateResponse> {
    this.checkOpen();
    const ref = req.config.Image ?? '';
    if (ref === '') throw new InvalidArgument('Config.Image: an image is required', { subject: 'Config.Image' });
    let name: string;
    if (req.name !== undefined && req.name !== '') {
      name = canonicalName(req.name);
      const holder = this.nameTaken(name);
      if (holder !== undefined) throw this.nameConflict(name, holder);
    } else {
      name = this.generatedName();
    }
    this.reservedNames.add(name);
    try {
      let image: ImageRecord;
      try {
        image = await this.o.imageStore.inspect(ref);
      } catch (e) {
        if (e instanceof NotFound) throw new NotFound(`No such image: ${ref}`, { subject: ref, cause: e });
        throw e;
      }
      const imageConfig: ImageConfig = (await this.o.imageStore.config(image)).config ?? {};
      const hc = req.hostConfig ?? {};
      // Named volumes exist from create on, as with `docker create -v NAME:/path`.
      const volumeNames = namedVolumesOf(hc);
      if (volumeNames.length > 0 && this.o.volumes === undefined) throw new FailedPrecondition(`named volumes (${volumeNames.join(', ')}) need a volume store`, { subject: volumeNames[0] });
      for (const v of volumeNames) await this.o.volumes?.ensure(v);
      this.networking.check(hc);
      if (req.endpoint !== undefined && this.networking.configure === undefined) {
        throw new FailedPrecondition('network aliases and addresses (NetworkingConfig) need bridge networking, which this agent runs without', { subject: 'NetworkingConfig' });
      }
      const policy = normalizeRestartPolicy(hc.RestartPolicy);
      checkAutoRemove(hc);
      logRotationOf(hc.LogConfig);
      checkStopTimeout(req.config);
      const mode = hc.NetworkMode === undefined || hc.NetworkMode === '' || hc.NetworkMode === 'default' ? this.networking.defaultMode() : hc.NetworkMode;
      const adapted = adaptResources({ ...hc, NetworkMode: mode, RestartPolicy: policy }, this.o.hostFacts.cgroupFeatures);
      let id = randomBytes(32).toString('hex');
      while (this.records.has(id) || /^\d+$/.test(id.slice(0, 12))) id = randomBytes(32).toString('hex');
      const spec = resolveContainerSpec(id, imageConfig, req.config, adapted.hostConfig, name);
      const record: ContainerRecord = {
        schemaVersion: 1, id, name, created: this.nowIso(), imageId: image.id, imageRef: ref, config: { ...req.config },
        hostConfig: adapted.hostConfig, spec, state: createdState(), restartCount: 0, manuallyStopped: false, startedBefore: false,
      };
      // Before the record: a refused alias or address must not leave a container behind.
      if (req.endpoint !== undefined) await this.networking.configure?.({ id, name, hostConfig: adapted.hostConfig }, req.endpoint);
      await this.put(record);
      this.emitEvent(record, 'create');
      this.log.info({ container: id, name }, 'container created');
      return { Id: id, Warnings: [...adapted.warnings] };
    } finally {
      this.reservedNames.delete(name);
    }
  }

  private generatedName(): string {
    for (let retry = 0; ; retry++) {
      const name = `/${generateName((n) => randomInt(n), retry)}`;
      if (this.nameTaken(name) === undefined) return name;
      if (retry > 1000) return `/${generateName((n) => randomInt(n), retry)}_${randomBytes(4).toString('hex')}`;
    }
  }

  // ---- start -----------------------------------------------------------------------------------

  /** `docker start`; false when it already runs (Docker's 304 Not Modified). */
  async start(ref: string): Promise<boolean> {
    this.checkOpen();
    const { id } = this.find(ref);
    return this.locked(id, async () => {
      const r = this.current(id);
      if (isRunning(r.state)) return false;
      if (r.state.status === 'removing' || r.state.status === 'dead') {
        throw new Conflict(`cannot start container ${r.name}: it is ${r.state.status}`, { subject: r.name });
      }
      this.scheduler.reset(id);
      // A durable write only when something changes (a first start has nothing to clear).
      if (r.manuallyStopped) await this.put({ ...r, manuallyStopped: false });
      await this.launch(id);
      return true;
    });
  }

  /** Run the container's process; under the container's lock. Records a failed start as an exit with Error. */
  private async launch(id: string): Promise<void> {
    const r = this.current(id);
    const dir = this.dirOf(id);
    const files = this.filesOf(id);
    await this.cleanupRuntime(id);
    await Promise.all([files.exitFile, files.pidFile, files.monitorPidFile].map((f) => rm(f, { force: true })));
    let attached = false;
    try {
      const image = await this.o.imageStore.inspect(r.imageId);
      const netc = { id, name: r.name, hostConfig: r.hostConfig };
      const attachment = await this.networking.attach(netc);
      attached = true;
      const volumePaths = new Map<string, string>();
      for (const v of namedVolumesOf(r.hostConfig)) volumePaths.set(v, await (this.o.volumes as NamedVolumes).ensure(v));
      const prepared = await prepareBundle({
        containerDir: dir, spec: r.spec, rootfs: { kind: 'overlay', lowerDirs: this.o.imageStore.layerDirs(image) }, host: this.o.hostFacts,
        cgroupsPath: this.cgroupsPathOf(id), network: attachment.namespace, addresses: attachment.addresses,
        resolveVolume: (name) => volumePaths.get(name) ?? name,
      });
      // -t and -i: the monitor holds the terminal or the stdin pipe, reached over its attach socket.
      const attach = r.spec.tty || r.spec.openStdin;
      if (attach) await mkdir(dirname(files.consoleSocket), { recursive: true, mode: 0o700 });
      const rotation = logRotationOf(r.hostConfig.LogConfig);
      // Taken before the monitor starts it: a short-lived process may end (FinishedAt, from the
      // monitor) before the monitor reports.
      const startedAt = this.nowIso();
      // Nothing happens between create and start here, so the monitor runs both, and after the
      // exit the runtime's delete and the unmount: process starts of a small C program instead of
      // the agent's (cleanupRuntime still checks and finishes whatever the monitor could not).
      const started = await startMonitor({
        monitorPath: this.o.monitorPath, runtime: this.o.runtime, id, bundle: prepared.bundle, files, logPath: this.logPathOf(id), tty: r.spec.tty,
        stdin: r.spec.openStdin, attach,
        logMaxSizeBytes: rotation.maxSizeBytes, logMaxFiles: rotation.maxFiles, start: true, cleanupAfterExit: true, unmountRootfs: prepared.rootfsPath,
      });
      const running = await this.put({ ...r, state: toRunning(r.state, { pid: started.containerPid, monitorPid: started.monitorPid, startedAt }), startedBefore: true });
      this.watcher.watch(id);
      this.emitEvent(running, 'start');
    } catch (e) {
      this.log.warn({ container: id, err: e }, 'starting the container failed');
      await this.cleanupRuntime(id);
      if (attached) await this.networking.detach({ id, name: r.name, hostConfig: r.hostConfig }).catch(() => undefined);
      const message = e instanceof Error ? e.message : String(e);
      const failed = await this.put({ ...r, state: toExited(r.state, { exitCode: START_FAILED_EXIT_CODE, oomKilled: false, finishedAt: this.nowIso(), error: message }) });
      this.notify({ id, kind: 'exit', exitCode: START_FAILED_EXIT_CODE });
      // dockerd removes an AutoRemove container whose start failed too (`docker run --rm` waits
      // for condition=removed after the start error).
      if (r.hostConfig.AutoRemove === true) await this.destroy({ ...failed, state: toRemoving(failed.state) }).catch((d: unknown) => this.log.warn({ container: id, err: d }, 'removing the container failed'));
      throw e;
    }
  }

  /**
   * Take down what a run leaves: the runtime's container (killing it), the monitor's last write, the
   * rootfs mount. Once the exit file is there the container's init has ended (and with it its pid
   * namespace), so the runtime's delete (its state and cgroups) and the unmount of the bundle's
   * rootfs touch nothing in common and run side by side; before that the kill must come first.
   */
  private async cleanupRuntime(id: string): Promise<void> {
    const files = this.filesOf(id);
    const ended = existsSync(files.exitFile);
    const deleted = (async (): Promise<void> => {
      // exists() is a stat of the runtime's state directory: no `state` subprocess just to learn that.
      if (await this.o.runtime.exists(id).catch(() => false)) {
        await this.o.runtime.delete(id, { force: true }).catch((e: unknown) => this.log.warn({ container: id, err: e }, 'runtime delete failed'));
      }
    })();
    if (!ended) await deleted;
    // A monitor still alive is about to write its exit file: let it, so it does not land later.
    if (await monitorAlive(files)) await waitForExit(files.exitFile, { timeoutMs: 10_000, pollMs: 20 }).catch(() => undefined);
    await releaseBundle(this.dirOf(id)).catch((e: unknown) => this.log.warn({ container: id, err: e }, 'unmounting the rootfs failed'));
    await deleted;
  }

  // ---- exits and restarts ----------------------------------------------------------------------

  private async onWatchedExit(id: string, how: WatchedExit): Promise<void> {
    const exit: ExitRecord =
      how.kind === 'exit-file'
        ? { exitCode: how.exit.exitCode, oomKilled: how.exit.oomKilled, finishedAt: how.exit.finishedAt || this.nowIso() }
        : { exitCode: LOST_EXIT_CODE, oomKilled: false, finishedAt: this.nowIso() };
    await this.locked(id, () => this.recordExit(id, exit));
  }

  /** Under the lock: record an exit of a container that had a process, then restart or not. */
  private async recordExit(id: string, exit: ExitRecord, opts: { allowRestart?: boolean } = {}): Promise<void> {
    const r = this.records.get(id);
    if (r === undefined || !hasProcess(r.state)) return;
    this.watcher.unwatch(id);
    this.statsSamples.delete(id);
    await this.cleanupRuntime(id);
    await this.networking.detach({ id, name: r.name, hostConfig: r.hostConfig }).catch((e: unknown) => this.log.warn({ container: id, err: e }, 'network detach failed'));
    if (exit.oomKilled) this.emitEvent(r, 'oom');
    this.emitEvent(r, 'die', { exitCode: String(exit.exitCode) });
    const policy = normalizeRestartPolicy(r.hostConfig.RestartPolicy);
    // A stop in progress cancels restarts of every policy (dockerd cancels the restart manager).
    const restart = (opts.allowRestart ?? true) && !this.closed && !r.manuallyStopped && shouldRestart(policy, { exitCode: exit.exitCode, manuallyStopped: r.manuallyStopped, restartCount: r.restartCount });
    if (!restart) {
      const exited = await this.put({ ...r, state: toExited(r.state, exit) });
      this.notify({ id, kind: 'exit', exitCode: exit.exitCode });
      this.log.info({ container: id, exitCode: exit.exitCode }, 'container exited');
      // `docker run --rm`: removed once it stopped for good (waiters use condition=removed), but
      // not before attached clients have read the output to its end (they hold the removal).
      if (r.hostConfig.AutoRemove === true) {
        await this.removalHeld(id);
        await this.destroy({ ...exited, state: toRemoving(exited.state) });
      }
      return;
    }
    const runMs = Math.max(0, Date.parse(exit.finishedAt) - Date.parse(r.state.run.startedAt));
    await this.put({ ...r, state: toRestarting(r.state, exit), restartCount: r.restartCount + 1 });
    this.notify({ id, kind: 'exit', exitCode: exit.exitCode });
    const delay = this.scheduler.schedule(id, Number.isFinite(runMs) ? runMs : 0, () => void this.restartNow(id));
    this.log.info({ container: id, exitCode: exit.exitCode, delayMs: delay, restartCount: r.restartCount + 1 }, 'container exited; restarting');
  }

  /** The backoff elapsed (or the agent started with a container still to restart). */
  private restartNow(id: string): Promise<void> {
    return this.locked(id, async () => {
      const r = this.records.get(id);
      if (r === undefined || this.closed || r.state.status !== 'restarting' || r.manuallyStopped) return;
      await this.launch(id).catch(() => undefined);
    });
  }

  // ---- stop, kill, restart ----------------------------------------------------------------------

  /**
   * `docker stop`: the stop signal (Config.StopSignal, default SIGTERM), then SIGKILL after
   * `timeoutSeconds` (default 10; negative = wait forever). False when it was not running.
   */
  async stop(ref: string, opts: { timeoutSeconds?: number } = {}): Promise<boolean> {
    this.checkOpen();
    const { id } = this.find(ref);
    const plan = await this.locked(id, async () => {
      const cur = this.current(id);
      if (cur.state.status === 'restarting') {
        this.scheduler.cancel(id);
        await this.put({ ...cur, manuallyStopped: true, state: toExited(cur.state, { ...cur.state.run }) });
        return 'stopped' as const;
      }
      if (!hasProcess(cur.state)) return 'not-running' as const;
      const r = await this.put({ ...cur, manuallyStopped: true });
      // Listening under the lock: the next exit notice is surely this process's.
      return { r, exited: this.nextNotice(id, (n) => n.kind === 'exit' || n.kind === 'removed') };
    });
    if (plan === 'not-running') return false;
    if (plan === 'stopped') {
      this.emitEvent(this.current(id), 'stop');
      return true;
    }
    const { r, exited } = plan;
    try {
      const t = opts.timeoutSeconds ?? r.config.StopTimeout ?? DEFAULT_STOP_TIMEOUT_SECONDS;
      await this.signal(r, r.spec.stopSignal);
      const timedOut = t < 0 ? false : await timesOut(exited.promise, t * 1000);
      if (timedOut) {
        await this.signal(r, 'SIGKILL');
        await this.awaitExit(r, exited.promise);
      }
      await exited.promise;
    } finally {
      exited.cancel();
    }
    this.emitEvent(this.records.get(id) ?? r, 'stop');
    return true;
  }

  /**
   * After SIGKILL the exit comes within moments (the monitor's liveness check covers a monitor
   * that died too); past that something is badly wrong and the caller hears of it.
   */
  private async awaitExit(r: ContainerRecord, exited: Promise<unknown>): Promise<void> {
    if (await timesOut(exited, KILL_GRACE_MS)) throw new DeadlineExceeded(`container ${r.name} did not exit within ${KILL_GRACE_MS / 1000} s of SIGKILL`, { subject: r.name });
  }

  /** Send a signal to the container's processes; a process already gone is not an error. */
  private async signal(r: ContainerRecord, sig: string | number): Promise<void> {
    this.emitEvent(r, 'kill', { signal: String(signalNumberOf(sig)) });
    try {
      await this.o.runtime.kill(r.id, sig, { all: signalNumberOf(sig) === 9 });
    } catch (e) {
      // Conflict/NotFound: it exited meanwhile; the exit handler records that.
      if (!(e instanceof Conflict || e instanceof NotFound)) throw e;
    }
    await this.thawAfterSignal(r.id);
  }

  /**
   * A frozen process cannot act on a signal: dockerd signals a paused container, then resumes it
   * (daemon/kill.go), so stop and kill work on paused containers. Under the lock; a container
   * that is not paused (any more) is left alone.
   */
  private async thawAfterSignal(id: string): Promise<void> {
    await this.locked(id, async () => {
      const r = this.records.get(id);
      if (r === undefined || r.state.status !== 'paused') return;
      // runc kill --all thaws the cgroup itself: a resume that finds it running is fine.
      await this.o.runtime.resume(id).catch((e: unknown) => this.log.debug({ container: id, err: e }, 'resume after a signal'));
      await this.put({ ...r, state: toUnpaused(r.state) });
    });
  }

  /** `docker kill [--signal S]` (default SIGKILL). */
  async kill(ref: string, sig: string | number = 'SIGKILL'): Promise<void> {
    this.checkOpen();
    const n = signalNumberOf(sig);
    const r = this.find(ref);
    if (!hasProcess(r.state)) throw new Conflict(`Cannot kill container: ${ref}: Container ${r.id} is not running`, { subject: ref });
    this.emitEvent(r, 'kill', { signal: String(n) });
    try {
      await this.o.runtime.kill(r.id, n);
    } catch (e) {
      if (e instanceof Conflict || e instanceof NotFound) throw new Conflict(`Cannot kill container: ${ref}: Container ${r.id} is not running`, { subject: ref, cause: e });
      throw e;
    }
    await this.thawAfterSignal(r.id);
  }

  // ---- pause, top, the root filesystem ---------------------------------------------------------

  /** `docker pause`: the cgroup freezer stops every process of the container (runtime `pause`). */
  async pause(ref: string): Promise<void> {
    this.checkOpen();
    const { id } = this.find(ref);
    await this.locked(id, async () => {
      const r = this.current(id);
      // dockerd's checks and texts (daemon/pause.go), in its order.
      if (r.state.status === 'paused') throw new Conflict(`Container ${id} is already paused`, { subject: id });
      if (r.state.status === 'restarting') throw new Conflict(`Container ${id} is restarting, wait until the container is running`, { subject: id });
      if (!hasProcess(r.state)) throw new Conflict(`Container ${id} is not running`, { subject: id });
      await this.o.runtime.pause(id);
      const next = await this.put({ ...r, state: toPaused(r.state) });
      this.emitEvent(next, 'pause');
    });
  }

  /** `docker unpause`. */
  async unpause(ref: string): Promise<void> {
    this.checkOpen();
    const { id } = this.find(ref);
    await this.locked(id, async () => {
      const r = this.current(id);
      if (r.state.status !== 'paused') throw new Conflict(`Container ${id} is not paused`, { subject: id });
      await this.o.runtime.resume(id);
      const next = await this.put({ ...r, state: toUnpaused(r.state) });
      this.emitEvent(next, 'unpause');
    });
  }

  /** The host pids of every process of a running container (its cgroup's), for `docker top`. */
  async processIds(ref: string): Promise<number[]> {
    const r = this.find(ref);
    if (!hasProcess(r.state)) throw new Conflict(`Container ${r.id} is not running`, { subject: r.id });
    return readCgroupProcs(await cgroupOfPid(this.o.cgroups, r.state.pid));
  }

  /** Where a container's overlay layers are: its upper dir (its changes) and the image's lower dirs, top first. */
  async layers(ref: string): Promise<{ record: ContainerRecord; upperDir: string; lowerDirs: string[] }> {
    const r = this.find(ref);
    const image = await this.o.imageStore.inspect(r.imageId);
    return { record: r, upperDir: join(this.dirOf(r.id), 'upper'), lowerDirs: this.o.imageStore.layerDirs(image) };
  }

  /**
   * Run `fn` on the container's root filesystem: for a container with a process, its own root
   * (/proc/PID/root: the volumes and bind mounts it sees included); otherwise the overlay of its
   * layers, mounted for the call under the container's lock, so that a start waits for it.
   */
  async withRootfs<T>(ref: string, fn: (root: string, r: ContainerRecord) => Promise<T>): Promise<T> {
    const found = this.find(ref);
    if (hasProcess(found.state)) return fn(`/proc/${found.state.pid}/root`, found);
    return this.locked(found.id, async () => {
      const r = this.current(found.id);
      if (hasProcess(r.state)) return fn(`/proc/${r.state.pid}/root`, r);
      const { upperDir, lowerDirs } = await this.layers(r.id);
      const dir = this.dirOf(r.id);
      const target = join(bundleDir(dir), 'rootfs');
      await mountOverlayRootfs({ lowerDirs, upperDir, workDir: join(dir, 'work'), target });
      try {
        return await fn(target, r);
      } finally {
        await unmountRootfs(target).catch((e: unknown) => this.log.warn({ container: r.id, err: e }, 'unmounting the rootfs after a copy failed'));
      }
    });
  }

  /** `docker restart`: stop (if running) then start. */
  async restart(ref: string, opts: { timeoutSeconds?: number } = {}): Promise<void> {
    const { id } = this.find(ref);
    await this.stop(id, opts);
    await this.start(id);
    this.emitEvent(this.current(id), 'restart');
  }

  // ---- remove ----------------------------------------------------------------------------------

  /** `docker rm [-f] [-v]`. Volumes: anonymous volumes are not created by this engine, so `volumes` has nothing to remove yet. */
  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    this.checkOpen();
    const { id } = this.find(ref);
    const toKill = await this.locked(id, async () => {
      const r = this.current(id);
      if (!isRunning(r.state)) return undefined;
      if (opts.force !== true) {
        throw new Conflict(`cannot remove container "${r.name}": container is running: stop the container before removing or force remove`, { subject: r.name });
      }
      if (r.state.status === 'restarting') {
        this.scheduler.cancel(id);
        await this.put({ ...r, manuallyStopped: true, state: toExited(r.state, { ...r.state.run }) });
        return undefined;
      }
      const killed = await this.put({ ...r, manuallyStopped: true });
      return { r: killed, exited: this.nextNotice(id, (n) => n.kind === 'exit' || n.kind === 'removed') };
    });
    if (toKill !== undefined) {
      try {
        await this.signal(toKill.r, 'SIGKILL');
        await this.awaitExit(toKill.r, toKill.exited.promise);
      } finally {
        toKill.exited.cancel();
      }
    }
    await this.locked(id, async () => {
      const r = this.records.get(id);
      if (r === undefined) return;
      if (isRunning(r.state)) throw new Conflict(`cannot remove container "${r.name}": it was started again while being removed`, { subject: r.name });
      const removing = await this.put({ ...r, state: toRemoving(r.state) });
      try {
        await this.destroy(removing);
      } catch (e) {
        // Half removed: Docker's "dead" state, which only rm can leave.
        await this.put({ ...removing, state: toDead(removing.state, e instanceof Error ? e.message : String(e)) }).catch(() => undefined);
        throw e;
      }
    });
  }

  /** Under the lock: remove everything of a container without a process. */
  private async destroy(r: ContainerRecord): Promise<void> {
    this.scheduler.reset(r.id);
    this.watcher.unwatch(r.id);
    await this.cleanupRuntime(r.id);
    const netc = { id: r.id, name: r.name, hostConfig: r.hostConfig };
    await this.networking.detach(netc).catch(() => undefined);
    await this.networking.removed(netc).catch((e: unknown) => this.log.warn({ container: r.id, err: e }, 'network release failed'));
    await removeCgroupTree(this.o.cgroups, this.cgroupsPathOf(r.id)).catch((e: unknown) => this.log.warn({ container: r.id, err: e }, 'removing the cgroup failed'));
    await Promise.all([rm(this.filesOf(r.id).consoleSocket, { force: true }), rm(this.filesOf(r.id).attachSocket, { force: true })]);
    await this.store.remove(r.id);
    this.records.delete(r.id);
    this.statsSamples.delete(r.id);
    this.emitEvent(r, 'destroy');
    this.notify({ id: r.id, kind: 'removed', exitCode: r.state.run.exitCode });
  }

  // ---- wait, inspect, list -----------------------------------------------------------------------

  /** `docker wait` / POST /containers/{id}/wait?condition=... */
  async wait(ref: string, opts: { condition?: WaitCondition; signal?: AbortSignal } = {}): Promise<WaitResponse> {
    const r = this.find(ref);
    const condition = opts.condition ?? 'not-running';
    const answer = (code: number, rec: ContainerRecord | undefined): WaitResponse => ({
      StatusCode: code,
      Error: rec !== undefined && rec.state.run.error !== '' ? { Message: rec.state.run.error } : null,
    });
    if (condition === 'not-running' && !isRunning(r.state)) return answer(r.state.run.exitCode, r);
    const accept =
      condition === 'removed'
        ? (n: Notice) => n.kind === 'removed'
        : condition === 'next-exit'
          ? (n: Notice) => n.kind === 'exit' || n.kind === 'removed'
          : (n: Notice) => n.kind === 'removed' || (n.kind !== 'exit' && !isRunning(this.records.get(r.id)?.state ?? createdState()));
    const next = this.nextNotice(r.id, accept);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = (): void => {
        next.cancel();
        reject(new Cancelled(`waiting for container ${r.name} cancelled`, { subject: r.name }));
      };
      if (opts.signal?.aborted === true) onAbort();
      else opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    try {
      const n = await Promise.race([next.promise, aborted]);
      return answer(n.exitCode, this.records.get(r.id));
    } finally {
      if (onAbort !== undefined) opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  async inspect(ref: string): Promise<ContainerJSON> {
    const r = this.find(ref);
    const c = { id: r.id, name: r.name, hostConfig: r.hostConfig };
    const json = inspectJSON(r, this.dirOf(r.id), { ...this.networking.describe(c) }, this.volumeSource);
    // A driver with published ports and sandboxes fills the rest of NetworkSettings.
    const extra = this.networking.settings?.(c, r.spec.exposedPorts);
    if (extra === undefined) return json;
    const { summaryPorts: _ignored, ...settings } = extra;
    return { ...json, NetworkSettings: { ...json.NetworkSettings, ...settings } };
  }

  /** Mounts[].Source of a named volume: its directory in the volume store ('' without one). */
  private readonly volumeSource = (name: string): string => this.o.volumes?.mountpoint(name) ?? '';

  /** The record itself, for callers inside the agent (API translation). */
  get(ref: string): ContainerRecord {
    return this.find(ref);
  }

  /**
   * A client attached to the container, or left it with the detach keys: dockerd's `attach` and
   * `detach` events (daemon/attach.go), with the usual container attributes.
   */
  attachEvent(ref: string, action: 'attach' | 'detach'): void {
    this.emitEvent(this.find(ref), action);
  }

  /** `docker ps [-a] [--filter ...]`, newest first. */
  async list(opts: { all?: boolean; filters?: PsFilters; limit?: number } = {}): Promise<ContainerSummary[]> {
    const filters = checkFilters(opts.filters ?? {});
    const ancestorIds: string[] = [];
    for (const a of filters.ancestor ?? []) {
      const img = await this.o.imageStore.inspect(a).catch(() => undefined);
      if (img !== undefined) ancestorIds.push(img.id);
    }
    const now = this.clock.now();
    let out = [...this.records.values()]
      .filter((r) => opts.all === true || isRunning(r.state) || (filters.status !== undefined && filters.status.length > 0))
      .filter((r) => matchesPsFilters({ id: r.id, name: r.name, labels: r.spec.labels, status: r.state.status, imageId: r.imageId, imageRef: r.imageRef }, filters, ancestorIds))
      .sort((a, b) => Date.parse(b.created) - Date.parse(a.created) || b.id.localeCompare(a.id));
    if (opts.limit !== undefined && opts.limit > 0) out = out.slice(0, opts.limit);
    return out.map((r) => {
      const c = { id: r.id, name: r.name, hostConfig: r.hostConfig };
      const summary = summaryJSON(r, now, { ...this.networking.describe(c) }, this.volumeSource);
      const extra = this.networking.settings?.(c, r.spec.exposedPorts);
      return extra === undefined ? summary : { ...summary, Ports: [...extra.summaryPorts] };
    });
  }

  /**
   * Keep an AutoRemove container (and its log) until `release` is called: an attached client
   * reading the output holds it. Released holds, or at most REMOVAL_HOLD_MAX_MS, let removal go on.
   */
  holdRemoval(ref: string): () => void {
    const { id } = this.find(ref);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const holds = this.removalHolds.get(id) ?? new Set<Promise<void>>();
    holds.add(held);
    this.removalHolds.set(id, holds);
    return () => {
      release();
      holds.delete(held);
      if (holds.size === 0 && this.removalHolds.get(id) === holds) this.removalHolds.delete(id);
    };
  }

  private async removalHeld(id: string): Promise<void> {
    const holds = this.removalHolds.get(id);
    if (holds === undefined || holds.size === 0) return;
    const cap = sleep(REMOVAL_HOLD_MAX_MS, undefined, { ref: false });
    await Promise.race([Promise.all([...holds]), cap]);
  }

  /** For VolumeStore's usedBy: the containers that mount volume `name`. */
  volumeUsers(name: string): string[] {
    return [...this.records.values()].filter((r) => namedVolumesOf(r.hostConfig).includes(name)).map((r) => r.id);
  }

  /** For ImageStore.remove's isInUse: a container using the image, a running one first. */
  imageInUse(imageId: string): ContainerUse | undefined {
    let found: ContainerUse | undefined;
    for (const r of this.records.values()) {
      if (r.imageId !== imageId) continue;
      if (isRunning(r.state)) return { containerId: r.id, running: true };
      found ??= { containerId: r.id, running: false };
    }
    return found;
  }

  // ---- logs, exec, stats ---------------------------------------------------------------------------

  /** `docker logs`: entries oldest first; with `follow`, until the container's process ends. */
  logs(ref: string, opts: LogsOptions = {}): AsyncIterable<LogLine> {
    const r = this.find(ref);
    const stdout = opts.stdout ?? true;
    const stderr = opts.stderr ?? true;
    if (!stdout && !stderr) throw new InvalidArgument('You must choose at least one stream', { subject: 'stdout/stderr' });
    if (opts.tail !== undefined && (!Number.isInteger(opts.tail) || opts.tail < -1)) throw new InvalidArgument(`invalid tail ${opts.tail}`, { subject: 'tail' });
    const files = this.filesOf(r.id);
    const isDone = async (): Promise<boolean> => {
      const cur = this.records.get(r.id);
      return cur === undefined || !hasProcess(cur.state) || existsSync(files.exitFile);
    };
    const source = readJsonFileLog(this.logPathOf(r.id), {
      ...(opts.since !== undefined ? { since: opts.since } : {}),
      ...(opts.until !== undefined ? { until: opts.until } : {}),
      ...(opts.tail !== undefined && opts.tail >= 0 ? { tail: opts.tail } : {}),
      follow: opts.follow === true,
      isDone,
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    });
    const timestamps = opts.timestamps === true;
    return (async function* () {
      for await (const e of source) {
        if ((e.stream === 'stdout' && !stdout) || (e.stream === 'stderr' && !stderr)) continue;
        yield { ...e, line: formatLogEntry(e, { timestamps }) };
      }
    })();
  }

  /** `docker exec` without a terminal attached: the command's output and exit code. */
  async exec(ref: string, req: ExecRequest): Promise<ExecResponse> {
    this.checkOpen();
    const r = this.find(ref);
    if (!hasProcess(r.state)) throw new Conflict(`Container ${r.id} is not running`, { subject: ref });
    if (r.state.status === 'paused') throw new Conflict(`Container ${r.id} is paused, unpause the container before exec`, { subject: ref });
    // A terminal's output is not two streams to collect: execSession relays it while it runs.
    if (req.Tty === true) throw new Unimplemented('exec with a TTY runs attached (execSession); run it without Tty here', { subject: 'Tty' });
    const proc = await this.execProcess(r, req);
    const res = await this.o.runtime.exec(r.id, proc, { ...(req.signal !== undefined ? { signal: req.signal } : {}), ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}) });
    const code = res.exitCode ?? (res.signal !== null ? 128 + signalNumberOf(res.signal) : 126);
    return { ExitCode: code, Stdout: res.stdout, Stderr: res.stderr };
  }

  private async execProcess(r: ContainerRecord, req: ExecConfig): Promise<OciProcess> {
    const rootfs = join(this.dirOf(r.id), 'bundle', 'rootfs');
    const readImageFile = async (p: string): Promise<string | undefined> => readFile(await resolveInRoot(rootfs, p), 'utf8').catch(() => undefined);
    const h = this.o.hostFacts;
    return ociExecProcess(r.spec, {
      rootfs, cgroupsPath: this.cgroupsPathOf(r.id), cgroupMode: h.cgroupFeatures.mode, arch: h.arch, hardLimits: h.hardLimits,
      availableCapabilities: h.capabilities, userDatabase: { passwd: await readImageFile('/etc/passwd'), group: await readImageFile('/etc/group') },
      ...(h.initPath !== undefined ? { initPath: h.initPath } : {}),
    }, req);
  }

  /**
   * An attached `docker exec` (-i, -t, or output streamed while it runs): stdin, output and
   * window size of the running process (exec-session.ts says why the agent, not the monitor,
   * holds them).
   */
  async execSession(ref: string, req: ExecConfig): Promise<ExecSession> {
    this.checkOpen();
    const r = this.find(ref);
    if (!hasProcess(r.state)) throw new Conflict(`Container ${r.id} is not running`, { subject: ref });
    if (r.state.status === 'paused') throw new Conflict(`Container ${r.id} is paused, unpause the container before exec`, { subject: ref });
    const proc = await this.execProcess(r, req);
    if (req.Tty !== true) return startPipedExec(this.o.runtime, r.id, proc);
    const sockDir = join(this.o.stateDir, 'sock');
    await mkdir(sockDir, { recursive: true, mode: 0o700 });
    return startTtyExec({
      monitorPath: this.o.monitorPath, runtime: this.o.runtime, id: r.id, process: proc, workParent: this.dirOf(r.id),
      consoleSocket: join(sockDir, `x${randomBytes(6).toString('hex')}`),
    });
  }

  /**
   * The monitor's attach socket of a container with a process (stdin for -i, the terminal for
   * -t); undefined when it has none or its monitor has gone (the container ended).
   */
  async attachStdio(ref: string): Promise<MonitorAttach | undefined> {
    const r = this.find(ref);
    if (!hasProcess(r.state) || !(r.spec.tty || r.spec.openStdin)) return undefined;
    return connectMonitorAttach(this.filesOf(r.id).attachSocket);
  }

  /** POST /containers/{id}/resize: the terminal's size (TIOCSWINSZ, the container sees SIGWINCH). */
  async resize(ref: string, rows: number, cols: number): Promise<void> {
    const r = this.find(ref);
    if (!hasProcess(r.state)) throw new Conflict(`Container ${r.id} is not running`, { subject: ref });
    if (!r.spec.tty) return;
    if (!(await resizeThroughMonitor(this.filesOf(r.id).attachSocket, rows, cols))) throw new Conflict(`Container ${r.id} is not running`, { subject: ref });
  }

  /** One `docker stats --no-stream` sample; precpu_stats is the previous call's sample. */
  async stats(ref: string): Promise<StatsJSON> {
    const r = this.find(ref);
    // dockerd (daemon/stats.go): a container that is not running (or is restarting) has only its
    // name and ID in an otherwise zero-valued answer.
    if (!hasProcess(r.state)) return stoppedStatsJSON(r.id, r.name);
    let cgroup: ContainerCgroup;
    try {
      cgroup = await cgroupOfPid(this.o.cgroups, r.state.pid);
    } catch (e) {
      // The init ended after the state was read (its exit is being recorded): it has stopped.
      if (e instanceof NotFound) return stoppedStatsJSON(r.id, r.name);
      throw e;
    }
    // Files a kernel or cgroup version lacks are left out of the sample, not errors.
    const sampled = await readCgroupStats(cgroup);
    const { stats, sample } = statsJSON({
      id: r.id, name: r.name, now: this.nowIso(), cgroup: sampled, systemCpuNs: await readSystemCpuUsageNs(), onlineCpus: this.o.hostFacts.cgroupFeatures.cpuCount,
      hostMemoryBytes: totalmem(), previous: this.statsSamples.get(r.id),
    });
    this.statsSamples.set(r.id, sample);
    return stats;
  }

  // ---- update, rename --------------------------------------------------------------------------------

  /** `docker update`: resource limits (applied to a running container at once) and the restart policy. */
  async update(ref: string, req: UpdateRequest): Promise<{ Warnings: string[] }> {
    this.checkOpen();
    const { id } = this.find(ref);
    return this.locked(id, async () => {
      const r = this.current(id);
      const { RestartPolicy, ...resources } = req;
      const policy = RestartPolicy === undefined ? undefined : normalizeRestartPolicy(RestartPolicy);
      const u: ResourceUpdate = updateResources(r.hostConfig, resources, this.o.hostFacts.cgroupFeatures);
      if (hasProcess(r.state) && Object.keys(u.resources).length > 0) await this.o.runtime.update(id, u.resources);
      const hostConfig: HostConfig = { ...u.hostConfig, ...(policy !== undefined ? { RestartPolicy: policy } : {}) };
      const next = await this.put({ ...r, hostConfig, spec: { ...r.spec, hostConfig } });
      this.emitEvent(next, 'update');
      return { Warnings: [...u.warnings] };
    });
  }

  /** `docker rename OLD NEW`. */
  async rename(ref: string, newName: string): Promise<void> {
    this.checkOpen();
    const { id } = this.find(ref);
    const name = canonicalName(newName);
    await this.locked(id, async () => {
      const r = this.current(id);
      if (r.name === name) throw new InvalidArgument(`Renaming a container with the same name as its current name`, { subject: newName });
      const holder = this.nameTaken(name);
      if (holder !== undefined) throw this.nameConflict(name, holder);
      const next = await this.put({ ...r, name, spec: { ...r.spec, name } });
      this.emitEvent(next, 'rename', { oldName: r.name });
    });
  }

  // ---- recovery and close -------------------------------------------------------------------------------

  /**
   * Load every persisted container and reconcile it with the world, as dockerd's restore does:
   *   running (monitor alive)            -> watched again
   *   exited while no agent ran          -> exit recorded from the exit file, restart policy applied
   *   monitor gone without an exit file  -> (host rebooted) exit 255 recorded; restarted if the policy says so
   *   restarting (backoff cut short)     -> started now
   *   not running, started before        -> started if the policy restarts it at agent start
   *                                          (always; unless-stopped unless stopped by hand)
   */
  async recover(): Promise<void> {
    const { records, orphans } = await this.store.loadAll();
    for (const id of orphans) {
      // A create that died before its record was written: nothing refers to it.
      await this.cleanupRuntime(id).catch(() => undefined);
      await this.store.remove(id);
    }
    for (const r of records) this.records.set(r.id, r);
    const toStart: string[] = [];
    for (const r of records) {
      try {
        await this.locked(r.id, async () => {
          const cur = this.current(r.id);
          const files = this.filesOf(r.id);
          if (hasProcess(cur.state)) {
            const exit = await readExitFile(files.exitFile);
            if (exit !== undefined) {
              await this.recordExit(r.id, exitRecordOf(exit, this.nowIso()));
              return;
            }
            if (await monitorAlive(files)) {
              this.watcher.watch(r.id);
              return;
            }
            // The monitor is gone without an exit file: the host restarted (or the monitor was
            // killed). The exit status is lost; record it and decide as at agent start.
            await this.recordExit(r.id, { exitCode: LOST_EXIT_CODE, oomKilled: false, finishedAt: this.nowIso() }, { allowRestart: false });
          }
          const now = this.current(r.id);
          if (now.state.status === 'removing') {
            await this.destroy(now);
            return;
          }
          if (now.state.status === 'restarting') {
            if (now.manuallyStopped) await this.put({ ...now, state: toExited(now.state, { ...now.state.run }) });
            else toStart.push(now.id);
            return;
          }
          const policy = normalizeRestartPolicy(now.hostConfig.RestartPolicy);
          if (now.startedBefore && (now.state.status === 'exited' || now.state.status === 'created') &&
            shouldRestart(policy, { exitCode: now.state.run.exitCode, manuallyStopped: now.manuallyStopped, restartCount: now.restartCount })) {
            toStart.push(now.id);
          }
        });
      } catch (e) {
        this.log.error({ container: r.id, err: e }, 'recovering the container failed');
      }
    }
    for (const id of toStart) {
      await this.locked(id, async () => {
        const r = this.current(id);
        // dockerd starts them with a fresh restart manager, clearing HasBeenManuallyStopped.
        await this.put({ ...r, manuallyStopped: false });
        await this.launch(id);
      }).catch((e: unknown) => this.log.error({ container: id, err: e }, 'restarting the container at start-up failed'));
    }
  }

  /** Stop watching and restarting; containers keep running (their monitors are not our children). */
  async close(): Promise<void> {
    this.closed = true;
    this.watcher.close();
    this.scheduler.close();
    await Promise.all([...this.locks.values()]);
  }
}

/** Whether `ms` pass before `p` settles; the timer does not outlive the answer. */
async function timesOut(p: Promise<unknown>, ms: number): Promise<boolean> {
  const ac = new AbortController();
  try {
    return await Promise.race([p.then(() => false), sleep(ms, true, { signal: ac.signal }).catch(() => false)]);
  } finally {
    ac.abort();
  }
}

function exitRecordOf(e: ContainerExit, now: string): ExitRecord {
  return { exitCode: e.exitCode, oomKilled: e.oomKilled, finishedAt: e.finishedAt || now };
}

const SIGNALS: Readonly<Record<string, number>> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15,
  STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28,
  IO: 29, POLL: 29, PWR: 30, SYS: 31,
};

/** A signal by name (SIGHUP, HUP, hup), number, or RTMIN+n, as `docker kill --signal` takes it; InvalidArgument otherwise. */
export function signalNumberOf(sig: string | number): number {
  if (typeof sig === 'number') {
    if (!Number.isInteger(sig) || sig < 1 || sig > 64) throw new InvalidArgument(`Invalid signal: ${sig}`, { subject: String(sig) });
    return sig;
  }
  const s = sig.trim().toUpperCase().replace(/^SIG/, '');
  if (/^\d+$/.test(s)) return signalNumberOf(Number(s));
  const rt = /^RTMIN(?:\+(\d+))?$/.exec(s);
  if (rt !== null) return signalNumberOf(34 + Number(rt[1] ?? 0));
  const rtmax = /^RTMAX(?:-(\d+))?$/.exec(s);
  if (rtmax !== null) return signalNumberOf(64 - Number(rtmax[1] ?? 0));
  const n = SIGNALS[s];
  if (n === undefined) throw new InvalidArgument(`Invalid signal: ${sig}`, { subject: sig });
  return n;
}
