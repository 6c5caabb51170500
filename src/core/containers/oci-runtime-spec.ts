// ContainerSpec -> OCI runtime-spec config.json (opencontainers/runtime-spec config.md and
// config-linux.md), with Docker's defaults for everything the user did not say: the same
// environment, capabilities, kernel mounts, masked paths, device rules and namespaces as a
// `docker run`, so images behave the same under atomicd.
import { FailedPrecondition, InvalidArgument } from '../../lib/errors.js';
import { containerCapabilities } from './capabilities.js';
import { etcFileMounts, kernelMounts, mergeMounts, userMounts, DEFAULT_SHM_SIZE_BYTES, type EtcFiles, type VolumeResolver } from './container-mounts.js';
import { replaceOrAppendEnv, type ContainerSpec } from './container-spec.js';
import {
  OCI_VERSION, type OciCapabilities, type OciDevice, type OciDeviceCgroup, type OciMount, type OciNamespace, type OciProcess, type OciSpec,
} from './oci-spec.js';
import { ociResources, type CgroupMode } from './resources.js';
import { containerRlimits, ulimitsToRlimits, type HardLimits } from './rlimits.js';
import { defaultSeccompProfile } from './seccomp-profile.js';
import { resolveUser, type UserDatabase } from './user-database.js';

/** Docker's PATH for containers whose image sets none (moby oci.DefaultPathEnv on Linux). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Where Docker mounts its init (tini) inside the container for --init. */
export const INIT_PATH_IN_CONTAINER = '/sbin/docker-init';

/**
 * Docker's masked paths (moby oci/defaults.go): /proc and /sys entries that leak host information
 * or reach host-wide kernel state; the runtime bind-mounts /dev/null (files) or an empty read-only
 * tmpfs (directories) over them.
 */
export const MASKED_PATHS: readonly string[] = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
  '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];

/** Docker's read-only paths: /proc entries that would change host-wide kernel settings. */
export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/**
 * The device cgroup of an unprivileged container: nothing, except creating nodes (mknod m, so an
 * image build that runs mknod works; opening them is still refused), the devices the OCI runtime
 * spec requires in every container (config-linux.md "Default Devices": null, zero, full, random,
 * urandom, tty, console, ptmx) and the container's own pseudo-terminals (devpts major 136).
 */
export const DEFAULT_DEVICE_RULES: readonly OciDeviceCgroup[] = [
  { allow: false, access: 'rwm' },
  // An absent major/minor is the wildcard (config-linux.md "Allowed Device list"); runc also
  // takes -1, crun writes it to devices.allow verbatim and the kernel refuses it.
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
];

/** The container's network namespace: a new empty one (--network none, or one we configure later), the host's, or one at a path. */
export type NetworkNamespace = { readonly kind: 'none' } | { readonly kind: 'host' } | { readonly kind: 'path'; readonly path: string };

/** What ociRuntimeSpec needs from the world; the adapters gather it. */
export interface OciSpecContext {
  /** root.path: the mounted root filesystem (absolute, or relative to the bundle). */
  readonly rootfs: string;
  /** linux.cgroupsPath; absolute ("/atomic/ID") so runc and crun put the container in the same place. */
  readonly cgroupsPath: string;
  readonly cgroupMode: CgroupMode;
  /** Node's process.arch: selects the seccomp architectures. */
  readonly arch: string;
  readonly etcFiles?: EtcFiles;
  /** The image's /etc/passwd and /etc/group (for User). */
  readonly userDatabase?: UserDatabase;
  /** The agent's hard rlimits; requested limits are capped at them. */
  readonly hardLimits?: HardLimits;
  /** The agent's bounding capability set; a container cannot get more. */
  readonly availableCapabilities?: readonly string[];
  readonly network?: NetworkNamespace;
  /** Host path of a static init (tini) for HostConfig.Init. */
  readonly initPath?: string;
  readonly resolveVolume?: VolumeResolver;
  /** Host devices, for --privileged (all of them) and HostConfig.Devices (looked up by PathOnHost). */
  readonly hostDevices?: readonly OciDevice[];
  /** linux.resources.unified entries (cgroup v2 only). */
  readonly unified?: Readonly<Record<string, string>>;
  /** Default for SecurityOpt no-new-privileges (dockerd --no-new-privileges). */
  readonly noNewPrivileges?: boolean;
}

interface SecurityOptions {
  noNewPrivileges: boolean;
  seccomp: 'default' | 'unconfined';
}

/** SecurityOpt entries: "no-new-privileges[:true|false]", "seccomp=unconfined"; label/apparmor need an LSM we do not drive. */
export function parseSecurityOpt(opts: readonly string[], defaults: { noNewPrivileges: boolean }): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: defaults.noNewPrivileges, seccomp: 'default' };
  for (const raw of opts) {
    const o = raw.trim();
    const m = /^([a-z-]+)(?:[=:](.*))?$/.exec(o);
    const key = m?.[1];
    const value = m?.[2];
    if (key === 'no-new-privileges') {
      if (value === undefined || value === 'true') out.noNewPrivileges = true;
      else if (value === 'false') out.noNewPrivileges = false;
      else throw new InvalidArgument(`invalid --security-opt: ${raw}: no-new-privileges takes true or false`, { subject: raw });
    } else if (key === 'seccomp') {
      if (value === 'unconfined') out.seccomp = 'unconfined';
      else if (value === 'default' || value === 'builtin') out.seccomp = 'default';
      else throw new InvalidArgument(`--security-opt ${o.slice(0, 40)}: custom seccomp profiles are not supported yet`, { subject: 'seccomp' });
    } else if (key === 'apparmor' || key === 'label') {
      // No AppArmor or SELinux on atomic hosts: accept "unconfined"/"disable", refuse real policies.
      if (value === 'unconfined' || value === 'disable') continue;
      throw new InvalidArgument(`--security-opt ${raw}: ${key} policies are not supported on this host`, { subject: raw });
    } else throw new InvalidArgument(`invalid --security-opt: ${raw}`, { subject: raw });
  }
  return out;
}

function capabilitySet(caps: readonly string[]): OciCapabilities {
  return { bounding: [...caps], effective: [...caps], permitted: [...caps], inheritable: [], ambient: [] };
}

/**
 * The process environment as Docker builds it (container.CreateDaemonEnvironment): PATH, HOSTNAME,
 * TERM=xterm with a TTY, then the configured Env replacing those by key; HOME from the user's
 * passwd entry when nobody set it.
 */
export function processEnv(spec: Pick<ContainerSpec, 'env' | 'hostname' | 'tty'>, home: string, extra: readonly string[] = []): string[] {
  const defaults = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${spec.hostname}`, ...(spec.tty ? ['TERM=xterm'] : [])];
  const env = replaceOrAppendEnv(replaceOrAppendEnv(defaults, spec.env), extra);
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${home}`);
  return env;
}

function checkCwd(cwd: string): string {
  if (!cwd.startsWith('/')) throw new InvalidArgument(`the working directory '${cwd}' is invalid, it needs to be an absolute path`, { subject: cwd });
  return cwd;
}

function namespaces(spec: ContainerSpec, network: NetworkNamespace): OciNamespace[] {
  const ns: OciNamespace[] = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (network.kind === 'none') ns.push({ type: 'network' });
  else if (network.kind === 'path') ns.push({ type: 'network', path: network.path });
  // A private cgroup namespace: the container sees its own cgroup as "/" in /proc/self/cgroup and
  // at /sys/fs/cgroup (Docker's default on cgroup v2; we use it on v1 as well, where runc and crun
  // support it the same way). CgroupnsMode "host" opts out.
  if (spec.hostConfig.CgroupnsMode !== 'host') ns.push({ type: 'cgroup' });
  return ns;
}

function devicesFor(spec: ContainerSpec, ctx: OciSpecContext): { devices: OciDevice[]; rules: OciDeviceCgroup[] } {
  const hc = spec.hostConfig;
  const devices: OciDevice[] = [];
  const rules: OciDeviceCgroup[] = hc.Privileged === true ? [{ allow: true, access: 'rwm' }] : DEFAULT_DEVICE_RULES.map((r) => ({ ...r }));
  if (hc.Privileged === true) devices.push(...(ctx.hostDevices ?? []).map((d) => ({ ...d })));
  for (const m of hc.Devices ?? []) {
    const d = ctx.hostDevices?.find((x) => x.path === m.PathOnHost);
    if (d === undefined) throw new InvalidArgument(`error gathering device information while adding custom device "${m.PathOnHost}": no such file or directory`, { subject: m.PathOnHost });
    const access = m.CgroupPermissions === '' ? 'rwm' : m.CgroupPermissions;
    if (!/^[rwm]{1,3}$/.test(access)) throw new InvalidArgument(`invalid device cgroup permissions "${access}"`, { subject: m.PathOnHost });
    const path = m.PathInContainer === '' ? m.PathOnHost : m.PathInContainer;
    if (!devices.some((x) => x.path === path)) devices.push({ ...d, path });
    if (hc.Privileged !== true) rules.push({ allow: true, type: d.type === 'b' ? 'b' : 'c', major: d.major, minor: d.minor, access });
  }
  return { devices, rules };
}

/** Sysctls Docker lets a container set (namespaced ones): IPC, mqueue, and net.* with a private network namespace. */
function checkSysctls(sysctls: Readonly<Record<string, string>>, network: NetworkNamespace): Record<string, string> {
  const ipc = /^(kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)|fs\.mqueue\..+)$/;
  for (const k of Object.keys(sysctls)) {
    if (ipc.test(k)) continue;
    if (k.startsWith('net.')) {
      if (network.kind === 'host') throw new InvalidArgument(`sysctl '${k}' not allowed in host network namespace`, { subject: k });
      continue;
    }
    throw new InvalidArgument(`sysctl '${k}' is not allowed`, { subject: k });
  }
  return { ...sysctls };
}

/** The process of config.json (also the base of `exec` processes). */
export function ociProcess(spec: ContainerSpec, ctx: OciSpecContext, args: readonly string[]): OciProcess {
  const hc = spec.hostConfig;
  const security = parseSecurityOpt(hc.SecurityOpt ?? [], { noNewPrivileges: ctx.noNewPrivileges ?? false });
  const user = resolveUser(spec.user, ctx.userDatabase ?? {}, hc.GroupAdd ?? []);
  const caps = containerCapabilities({ privileged: hc.Privileged ?? false, capAdd: hc.CapAdd ?? [], capDrop: hc.CapDrop ?? [] }, ctx.availableCapabilities);
  const p: OciProcess = {
    terminal: spec.tty,
    user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length > 0 ? { additionalGids: [...user.additionalGids] } : {}) },
    args: [...args],
    env: processEnv(spec, user.home),
    cwd: checkCwd(spec.workingDir),
    capabilities: capabilitySet(caps),
    rlimits: containerRlimits(ulimitsToRlimits(hc.Ulimits ?? []), ctx.hardLimits),
    noNewPrivileges: security.noNewPrivileges,
  };
  return p;
}

/** config.json for `spec`. Pure: everything from the world comes in `ctx`. */
export function ociRuntimeSpec(spec: ContainerSpec, ctx: OciSpecContext): OciSpec {
  const hc = spec.hostConfig;
  const privileged = hc.Privileged ?? false;
  const readonlyRootfs = hc.ReadonlyRootfs ?? false;
  const network: NetworkNamespace = ctx.network ?? (hc.NetworkMode === 'host' ? { kind: 'host' } : { kind: 'none' });
  const security = parseSecurityOpt(hc.SecurityOpt ?? [], { noNewPrivileges: ctx.noNewPrivileges ?? false });

  let args = [...spec.entrypoint, ...spec.cmd];
  const extraMounts: OciMount[] = [];
  if (hc.Init === true) {
    if (ctx.initPath === undefined) throw new FailedPrecondition('--init: no init binary is configured on this host (Debian package tini)', { subject: 'init' });
    // tini as PID 1: reaps zombies and forwards signals to the command (docs.docker.com "--init").
    args = [INIT_PATH_IN_CONTAINER, '--', ...args];
    extraMounts.push({ destination: INIT_PATH_IN_CONTAINER, type: 'bind', source: ctx.initPath, options: ['bind', 'ro'] });
  }
  const process = ociProcess(spec, ctx, args);
  // Docker's WithConsoleSize: the pty is sized before the command runs, so a program that reads
  // its size once at start (stty, less, a shell's prompt) sees it even before any resize arrives.
  const size = hc.ConsoleSize;
  if (spec.tty && size !== undefined && size[0] > 0 && size[1] > 0) process.consoleSize = { height: size[0], width: size[1] };

  const defaults = [
    ...kernelMounts({ privileged, shmSizeBytes: hc.ShmSize !== undefined && hc.ShmSize > 0 ? hc.ShmSize : DEFAULT_SHM_SIZE_BYTES, hostNetwork: network.kind === 'host' }),
    ...etcFileMounts(ctx.etcFiles ?? {}, readonlyRootfs),
    ...extraMounts,
  ];
  const mounts = mergeMounts(defaults, userMounts(hc, ctx.resolveVolume));

  const { devices, rules } = devicesFor(spec, ctx);
  const resources = { devices: rules, ...ociResources(hc, ctx.cgroupMode, ctx.unified) };

  const linux: OciSpec['linux'] = {
    namespaces: namespaces(spec, network),
    devices,
    resources,
    cgroupsPath: ctx.cgroupsPath,
    // --privileged: no masking, like Docker.
    maskedPaths: privileged ? [] : [...MASKED_PATHS],
    readonlyPaths: privileged ? [] : [...READONLY_PATHS],
  };
  // Docker runs privileged containers without seccomp, and so do we.
  if (!privileged && security.seccomp === 'default') linux.seccomp = defaultSeccompProfile(process.capabilities.bounding, ctx.arch);
  if (hc.Sysctls !== undefined && Object.keys(hc.Sysctls).length > 0) linux.sysctl = checkSysctls(hc.Sysctls, network);

  const out: OciSpec = {
    ociVersion: OCI_VERSION,
    process,
    root: { path: ctx.rootfs, readonly: readonlyRootfs },
    hostname: spec.hostname,
    mounts,
    linux,
  };
  if (spec.domainname !== '') out.domainname = spec.domainname;
  if (Object.keys(spec.labels).length > 0) out.annotations = { ...spec.labels };
  return out;
}

export interface ExecConfig {
  readonly Cmd: readonly string[];
  readonly Env?: readonly string[];
  readonly User?: string;
  readonly WorkingDir?: string;
  readonly Tty?: boolean;
  readonly Privileged?: boolean;
}

/**
 * The process of `docker exec` (runc/crun exec --process): the container's own process settings,
 * with the exec's command, Env added on top, and its own User/WorkingDir/Tty. --privileged gives
 * all capabilities to this process only.
 */
export function ociExecProcess(spec: ContainerSpec, ctx: OciSpecContext, exec: ExecConfig): OciProcess {
  if (exec.Cmd.length === 0) throw new InvalidArgument('exec: no command specified');
  const withExec: ContainerSpec = {
    ...spec,
    user: exec.User !== undefined && exec.User !== '' ? exec.User : spec.user,
    tty: exec.Tty ?? false,
    workingDir: exec.WorkingDir !== undefined && exec.WorkingDir !== '' ? exec.WorkingDir : spec.workingDir,
    hostConfig: { ...spec.hostConfig, Privileged: (exec.Privileged ?? false) || spec.hostConfig.Privileged === true },
  };
  const p = ociProcess(withExec, ctx, exec.Cmd);
  const user = resolveUser(withExec.user, ctx.userDatabase ?? {}, spec.hostConfig.GroupAdd ?? []);
  p.env = processEnv(withExec, user.home, exec.Env ?? []);
  return p;
}
