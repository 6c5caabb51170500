// What a container is, in Docker's vocabulary: the image's config (OCI image-spec config.md:
// Entrypoint, Cmd, Env, User, WorkingDir, ExposedPorts, Labels, StopSignal), the create request's
// Config, and its HostConfig (Engine API ContainerCreate). `resolveContainerSpec` applies the image
// config the way Docker's daemon does at create time (daemon/create.go: merge).
import { InvalidArgument } from '../../lib/errors.js';
import type { PortBinding } from './network-port-spec.js';

/** OCI image-spec config.md `config` (the subset a runtime uses). */
export interface ImageConfig {
  readonly User?: string;
  readonly ExposedPorts?: Readonly<Record<string, object>>;
  readonly Env?: readonly string[];
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly Volumes?: Readonly<Record<string, object>>;
  readonly WorkingDir?: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly StopSignal?: string;
}

/** Engine API ContainerConfig (the create body, minus HostConfig). */
export interface ContainerConfig {
  readonly Hostname?: string;
  readonly Domainname?: string;
  readonly User?: string;
  readonly Tty?: boolean;
  readonly OpenStdin?: boolean;
  /** Close the container's stdin when the first attached client's stdin ends (`docker run -i`). */
  readonly StdinOnce?: boolean;
  readonly Env?: readonly string[];
  readonly Cmd?: readonly string[] | null;
  readonly Entrypoint?: readonly string[] | null;
  readonly WorkingDir?: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly ExposedPorts?: Readonly<Record<string, object>>;
  readonly StopSignal?: string;
  /** Seconds `stop` waits before SIGKILL (`docker run --stop-timeout`; default 10). */
  readonly StopTimeout?: number | null;
  readonly Image?: string;
}

/** Engine API LogConfig: "json-file" (the default, and the only driver here) and its options. */
export interface LogConfig {
  /** Empty or absent = the default. */
  readonly Type?: string;
  readonly Config?: Readonly<Record<string, string>>;
}

/** Engine API Mount (`--mount`). */
export interface MountSpec {
  readonly Type: 'bind' | 'volume' | 'tmpfs';
  readonly Source?: string;
  readonly Target: string;
  readonly ReadOnly?: boolean;
  readonly BindOptions?: { readonly Propagation?: Propagation };
  readonly TmpfsOptions?: { readonly SizeBytes?: number; readonly Mode?: number };
}

export type Propagation = 'private' | 'rprivate' | 'shared' | 'rshared' | 'slave' | 'rslave';

export interface Ulimit {
  /** nofile, nproc, core, memlock, stack, ... (the RLIMIT_ name in lower case, without RLIMIT_). */
  readonly Name: string;
  readonly Soft: number;
  readonly Hard: number;
}

export interface RestartPolicy {
  readonly Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  readonly MaximumRetryCount?: number;
}

export interface DeviceMapping {
  readonly PathOnHost: string;
  readonly PathInContainer: string;
  readonly CgroupPermissions: string;
}

/** Engine API HostConfig: what atomicd honours. */
export interface HostConfig {
  readonly Binds?: readonly string[];
  readonly Mounts?: readonly MountSpec[];
  readonly Tmpfs?: Readonly<Record<string, string>>;
  readonly ReadonlyRootfs?: boolean;
  readonly Privileged?: boolean;
  readonly CapAdd?: readonly string[];
  readonly CapDrop?: readonly string[];
  readonly SecurityOpt?: readonly string[];
  readonly Init?: boolean;
  readonly GroupAdd?: readonly string[];
  readonly Ulimits?: readonly Ulimit[];
  readonly ShmSize?: number;
  readonly Memory?: number;
  readonly MemorySwap?: number;
  readonly MemoryReservation?: number;
  readonly MemorySwappiness?: number | null;
  readonly OomKillDisable?: boolean;
  readonly CpuShares?: number;
  readonly NanoCpus?: number;
  readonly CpuPeriod?: number;
  readonly CpuQuota?: number;
  readonly CpusetCpus?: string;
  readonly CpusetMems?: string;
  readonly BlkioWeight?: number;
  readonly PidsLimit?: number | null;
  readonly Dns?: readonly string[];
  readonly DnsSearch?: readonly string[];
  readonly DnsOptions?: readonly string[];
  readonly ExtraHosts?: readonly string[];
  readonly Devices?: readonly DeviceMapping[];
  readonly Sysctls?: Readonly<Record<string, string>>;
  readonly CgroupnsMode?: 'private' | 'host' | '';
  readonly NetworkMode?: string;
  /** `-p`: "80/tcp" -> host bindings; HostPort "" = any free port (Engine API PortMap). */
  readonly PortBindings?: Readonly<Record<string, readonly Partial<PortBinding>[] | null>>;
  readonly RestartPolicy?: RestartPolicy;
  /** `docker run --rm`: removed once it stopped for good. */
  readonly AutoRemove?: boolean;
  readonly LogConfig?: LogConfig;
  /** [height, width] of a TTY container's terminal from its start (`docker run -t` sends the client's). */
  readonly ConsoleSize?: readonly [number, number];
}


/** A container after the image config was applied: everything the runtime layer needs. */
export interface ContainerSpec {
  readonly id: string;
  readonly name?: string;
  readonly hostname: string;
  readonly domainname: string;
  readonly user: string;
  readonly tty: boolean;
  readonly openStdin: boolean;
  /** The configured Env (image Env merged under the container's); daemon defaults are added by ociRuntimeSpec. */
  readonly env: readonly string[];
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly workingDir: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly exposedPorts: readonly string[];
  readonly stopSignal: string;
  readonly hostConfig: HostConfig;
}

/** A Docker container id is 64 hex digits; we accept the OCI runtime's id rule (no path separators). */
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

const envKey = (kv: string): string => {
  const eq = kv.indexOf('=');
  return eq < 0 ? kv : kv.slice(0, eq);
};

/**
 * Env of the image, then the container's overriding by key (Docker daemon/create.go merge: the
 * user's entries first, then image entries whose key the user did not set).
 */
export function mergeEnv(image: readonly string[] = [], user: readonly string[] = []): string[] {
  if (user.length === 0) return [...image];
  const keys = new Set(user.map(envKey));
  return [...user, ...image.filter((e) => !keys.has(envKey(e)))];
}

/**
 * Replace-or-append by key, keeping the position of replaced entries (Docker's
 * ReplaceOrAppendEnvValues), so an image's PATH takes the place of the default PATH.
 */
export function replaceOrAppendEnv(defaults: readonly string[], overrides: readonly string[]): string[] {
  const out = [...defaults];
  for (const kv of overrides) {
    const k = envKey(kv);
    const i = out.findIndex((e) => envKey(e) === k);
    if (i >= 0) out[i] = kv;
    else out.push(kv);
  }
  return out;
}

export function resolveContainerSpec(id: string, image: ImageConfig, config: ContainerConfig, hostConfig: HostConfig = {}, name?: string): ContainerSpec {
  if (!ID_RE.test(id)) throw new InvalidArgument(`invalid container id "${id}"`, { subject: id });
  // Docker: a create request with an Entrypoint drops the image's Cmd (it belonged to the image's
  // entrypoint); with no Entrypoint, the image's Entrypoint stays and Cmd defaults to the image's.
  // `docker run --entrypoint ""` sends [""]: an explicitly empty entrypoint.
  const userEntrypoint = config.Entrypoint?.length === 1 && config.Entrypoint[0] === '' ? [] : (config.Entrypoint ?? null);
  const entrypoint = userEntrypoint !== null && userEntrypoint.length > 0 ? userEntrypoint : userEntrypoint !== null ? [] : (image.Entrypoint ?? []);
  const userCmd = config.Cmd ?? null;
  const cmd = userCmd !== null && userCmd.length > 0 ? userCmd : userEntrypoint !== null && userEntrypoint.length > 0 ? [] : (image.Cmd ?? []);
  if (entrypoint.length === 0 && cmd.length === 0) throw new InvalidArgument('no command specified', { subject: id });
  const ports = new Set([...Object.keys(image.ExposedPorts ?? {}), ...Object.keys(config.ExposedPorts ?? {})]);
  return {
    id,
    ...(name === undefined ? {} : { name }),
    // Docker: the hostname defaults to the first 12 characters of the id.
    hostname: config.Hostname !== undefined && config.Hostname !== '' ? config.Hostname : id.slice(0, 12),
    domainname: config.Domainname ?? '',
    user: config.User !== undefined && config.User !== '' ? config.User : (image.User ?? ''),
    tty: config.Tty ?? false,
    openStdin: config.OpenStdin ?? false,
    env: mergeEnv(image.Env, config.Env),
    entrypoint: [...entrypoint],
    cmd: [...cmd],
    workingDir: config.WorkingDir !== undefined && config.WorkingDir !== '' ? config.WorkingDir : image.WorkingDir !== undefined && image.WorkingDir !== '' ? image.WorkingDir : '/',
    labels: { ...(image.Labels ?? {}), ...(config.Labels ?? {}) },
    exposedPorts: [...ports].sort(),
    stopSignal: config.StopSignal ?? image.StopSignal ?? 'SIGTERM',
    hostConfig,
  };
}
