// The subset of the OCI runtime specification (config.json) that atomicd generates, with the
// field names of opencontainers/runtime-spec (config.md, config-linux.md). Only what we write is
// typed; runc and crun accept the whole schema.
//
// rlimits are bigint: RLIM_INFINITY is 2^64-1, which a JS number cannot hold exactly, and Go's
// encoding/json (runc) rejects 18446744073709552000 for a uint64. ociSpecJson writes them as exact
// integers.

export const OCI_VERSION = '1.0.2';

export interface OciUser {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
}

export interface OciCapabilities {
  bounding: string[];
  effective: string[];
  permitted: string[];
  /** Docker (since 20.10.14, CVE-2022-24769) leaves inheritable empty; so do we. */
  inheritable: string[];
  ambient: string[];
}

export type RlimitType =
  | 'RLIMIT_AS' | 'RLIMIT_CORE' | 'RLIMIT_CPU' | 'RLIMIT_DATA' | 'RLIMIT_FSIZE' | 'RLIMIT_LOCKS' | 'RLIMIT_MEMLOCK'
  | 'RLIMIT_MSGQUEUE' | 'RLIMIT_NICE' | 'RLIMIT_NOFILE' | 'RLIMIT_NPROC' | 'RLIMIT_RSS' | 'RLIMIT_RTPRIO'
  | 'RLIMIT_RTTIME' | 'RLIMIT_SIGPENDING' | 'RLIMIT_STACK';

export interface OciRlimit {
  type: RlimitType;
  hard: bigint;
  soft: bigint;
}

export interface OciConsoleSize {
  height: number;
  width: number;
}

export interface OciProcess {
  terminal: boolean;
  consoleSize?: OciConsoleSize;
  user: OciUser;
  args: string[];
  env: string[];
  cwd: string;
  capabilities: OciCapabilities;
  rlimits: OciRlimit[];
  noNewPrivileges: boolean;
  oomScoreAdj?: number;
}

export interface OciRoot {
  path: string;
  readonly: boolean;
}

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export type NamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';

export interface OciNamespace {
  type: NamespaceType;
  path?: string;
}

export interface OciDevice {
  type: 'c' | 'b' | 'u' | 'p';
  path: string;
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface OciDeviceCgroup {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access?: string;
}

export interface OciMemory {
  limit?: number;
  reservation?: number;
  /** Memory + swap (cgroup v1 memory.memsw.limit_in_bytes); runc/crun convert for v2. */
  swap?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
}

export interface OciCpu {
  shares?: number;
  quota?: number;
  period?: number;
  cpus?: string;
  mems?: string;
}

export interface OciPids {
  limit: number;
}

export interface OciBlockIO {
  weight?: number;
}

export interface OciResources {
  devices?: OciDeviceCgroup[];
  memory?: OciMemory;
  cpu?: OciCpu;
  pids?: OciPids;
  blockIO?: OciBlockIO;
  /** cgroup v2 only: runc refuses a config with `unified` on v1 ("cannot use unified on cgroup v1"). */
  unified?: Record<string, string>;
}

export type SeccompAction = 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO' | 'SCMP_ACT_KILL' | 'SCMP_ACT_KILL_PROCESS' | 'SCMP_ACT_TRAP' | 'SCMP_ACT_LOG';
export type SeccompOperator =
  | 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';

export interface OciSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOperator;
}

export interface OciSeccompSyscall {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: OciSeccompArg[];
}

export interface OciSeccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures: string[];
  syscalls: OciSeccompSyscall[];
}

export interface OciLinux {
  namespaces: OciNamespace[];
  devices: OciDevice[];
  resources: OciResources;
  cgroupsPath: string;
  maskedPaths: string[];
  readonlyPaths: string[];
  seccomp?: OciSeccomp;
  sysctl?: Record<string, string>;
}

export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: OciRoot;
  hostname: string;
  domainname?: string;
  mounts: OciMount[];
  linux: OciLinux;
  annotations?: Record<string, string>;
}

/**
 * config.json text: JSON with bigint values (rlimits) written as exact integers. Works for a whole
 * OciSpec, a lone OciProcess (`runc exec --process`) or OciResources (`update --resources`).
 */
export function ociSpecJson(value: OciSpec | OciProcess | OciResources): string {
  // JSON.stringify cannot emit a raw bigint on Node 20 (JSON.rawJSON is Node 21+): mark them as
  // strings that no real string can collide with, then unquote the marks.
  const mark = '\u0000u64:';
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${mark}${v.toString()}` : v), 2);
  return text.replace(/"\\u0000u64:(\d+)"/g, '$1');
}
