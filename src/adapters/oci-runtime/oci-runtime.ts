// The interface atomicd drives OCI runtimes through (opencontainers/runtime-spec runtime.md
// "Operations": state, create, start, kill, delete), plus the runc/crun extensions it needs
// (exec, update, list). runc and crun implement it with the same command line (crun mirrors
// runc's), see runtime-cli.ts.
import type { OciProcess, OciResources } from '../../core/containers/oci-spec.js';

export type RuntimeName = 'runc' | 'crun';

/** runtime.md "State": status is creating | created | running | stopped (runc adds paused). */
export type RuntimeStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export interface RuntimeState {
  readonly ociVersion: string;
  readonly id: string;
  readonly status: RuntimeStatus;
  /** 0 once stopped. */
  readonly pid: number;
  readonly bundle: string;
  readonly rootfs?: string;
  readonly created?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface CreateOptions {
  readonly pidFile: string;
  readonly consoleSocket?: string;
  /**
   * The container's stdin, stdout and stderr: the runtime passes its own stdio through to the
   * container (runc docs/terminals.md, "pass-through"). Default: all three /dev/null.
   */
  readonly stdio?: readonly [number | 'ignore', number | 'ignore', number | 'ignore'];
  readonly signal?: AbortSignal;
}

export interface DeleteOptions {
  /** Kill a running container first (`delete --force`). */
  readonly force?: boolean;
  readonly signal?: AbortSignal;
}

export interface ExecOptions {
  /** Return once started (`exec --detach`); the result then carries no exit code. */
  readonly detach?: boolean;
  readonly pidFile?: string;
  readonly consoleSocket?: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface ExecResult {
  /** The process's exit status (the runtime exits with it); null when detached or killed by a signal. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A process started with `exec` whose stdio are pipes to the caller (an attached, non-TTY exec). */
export interface SpawnedExec {
  readonly stdin: import('node:stream').Writable;
  readonly stdout: import('node:stream').Readable;
  readonly stderr: import('node:stream').Readable;
  /** The process's pid (host pid namespace) once the runtime wrote its --pid-file; undefined when it ended first. */
  readonly pid: Promise<number | undefined>;
  /** The exit status (128 + signal when killed); `error`: the runtime could not start the process (its own words). */
  readonly exit: Promise<{ readonly exitCode: number; readonly error?: string }>;
}

/**
 * How the monitor (native/monitor/atomic-monitor) must run this runtime's `create`: the binary,
 * its global arguments, and the mount to hide in a private mount namespace (crun on hybrid hosts).
 */
export interface MonitorInvocation {
  readonly runtimePath: string;
  readonly globalArgs: readonly string[];
  readonly privateUnmount?: string;
}

export interface OciRuntime {
  readonly name: RuntimeName;
  /** The runtime's state directory (`--root`), one per agent so that several agents coexist. */
  readonly root: string;
  create(id: string, bundle: string, opts: CreateOptions): Promise<void>;
  start(id: string, signal?: AbortSignal): Promise<void>;
  /** NotFound when the runtime does not know `id`. */
  state(id: string, signal?: AbortSignal): Promise<RuntimeState>;
  /** Like state, undefined instead of NotFound. */
  getState(id: string, signal?: AbortSignal): Promise<RuntimeState | undefined>;
  /** Whether the runtime holds state for `id` (created, running or stopped, not yet deleted); runs no subprocess. */
  exists(id: string): Promise<boolean>;
  list(signal?: AbortSignal): Promise<RuntimeState[]>;
  /** `signal` by name (SIGTERM) or number; `all` signals every process of the container. */
  kill(id: string, sig: string | number, opts?: { all?: boolean; signal?: AbortSignal }): Promise<void>;
  delete(id: string, opts?: DeleteOptions): Promise<void>;
  /** Change cgroup limits of a created or running container (`update --resources FILE`). */
  update(id: string, resources: OciResources, signal?: AbortSignal): Promise<void>;
  exec(id: string, process: OciProcess, opts?: ExecOptions): Promise<ExecResult>;
  /** Freeze every process of a running container (the cgroup freezer; runc/crun `pause`). */
  pause(id: string, signal?: AbortSignal): Promise<void>;
  /** Thaw a paused container (`resume`). */
  resume(id: string, signal?: AbortSignal): Promise<void>;
  /** `exec` with the process's stdin, stdout and stderr as pipes to the caller, streamed while it runs. */
  spawnExec(id: string, process: OciProcess): Promise<SpawnedExec>;
  monitorInvocation(): MonitorInvocation;
}
