// `docker run` / `docker create` / `docker update` flags -> the Engine API bodies, with the docker
// CLI's parsing rules (cli/command/container/opts.go): go-units RAMInBytes for sizes, ParseCPUs
// for --cpus (NanoCpus), nat.ParsePortSpecs for -p (network-port-spec.ts), ParseUlimit for
// --ulimit, env files as opts.ParseEnvFile reads them. Pure: files are read by the caller and
// passed in as text, the caller's environment is passed as a lookup function.
import { InvalidArgument } from '../../lib/errors.js';
import { memoryBytes } from './memory-bytes.js';
import type { ContainerConfig, HostConfig, RestartPolicy, Ulimit } from './container-spec.js';
import { parsePortSpecs } from './network-port-spec.js';
import { parseRestartPolicy } from './restart-policy.js';

/** The flags as the command line gave them (strings; repeatable flags as lists). */
export interface RunFlags {
  readonly env?: readonly string[];
  /** --env-file contents, in flag order. */
  readonly envFiles?: readonly { readonly path: string; readonly text: string }[];
  readonly label?: readonly string[];
  readonly publish?: readonly string[];
  readonly volume?: readonly string[];
  readonly tmpfs?: readonly string[];
  readonly memory?: string;
  readonly memorySwap?: string;
  readonly memoryReservation?: string;
  readonly shmSize?: string;
  readonly cpuShares?: string;
  readonly cpus?: string;
  readonly cpusetCpus?: string;
  readonly blkioWeight?: string;
  readonly pidsLimit?: string;
  readonly restart?: string;
  readonly hostname?: string;
  readonly user?: string;
  readonly workdir?: string;
  /** undefined: the image's; '' (given empty): none, as `--entrypoint ""` means to docker. */
  readonly entrypoint?: string;
  readonly readOnly?: boolean;
  readonly privileged?: boolean;
  readonly capAdd?: readonly string[];
  readonly capDrop?: readonly string[];
  readonly securityOpt?: readonly string[];
  readonly init?: boolean;
  readonly dns?: readonly string[];
  readonly addHost?: readonly string[];
  readonly network?: string;
  readonly rm?: boolean;
  readonly tty?: boolean;
  readonly logDriver?: string;
  readonly logOpt?: readonly string[];
  readonly ulimit?: readonly string[];
  readonly stopSignal?: string;
}

/** The create body: Config at the top level, HostConfig beside it (Engine API ContainerCreate). */
export type CreateBody = ContainerConfig & { readonly Volumes?: Readonly<Record<string, object>>; readonly HostConfig: HostConfig };

const bad = (flag: string, message: string): InvalidArgument => new InvalidArgument(message, { subject: flag });

/** go-units RAMInBytes ("64m" = 64 MiB, "1.5g", "512k", "100" bytes). */
export function parseSizeFlag(flag: string, text: string): number {
  const n = memoryBytes(text.trim());
  if (n === undefined) throw bad(flag, `invalid size: '${text}' (a number with an optional b, k, m, g suffix)`);
  return n;
}

/** --memory-swap: a size, or -1 for unlimited swap (opts.MemSwapBytes). */
export function parseMemorySwap(text: string): number {
  return text.trim() === '-1' ? -1 : parseSizeFlag('--memory-swap', text);
}

/** opts.ParseCPUs: a decimal number of CPUs -> NanoCpus; more than 9 decimals is "too precise". */
export function parseNanoCpus(text: string): number {
  const m = /^(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (m === null || (m[1] === '' && (m[2] ?? '') === '')) throw bad('--cpus', `failed to parse ${JSON.stringify(text)} as a rational number`);
  const frac = (m[2] ?? '').replace(/0+$/, '');
  if (frac.length > 9) throw bad('--cpus', `value is too precise: ${text}`);
  const nanos = BigInt(m[1] === '' ? '0' : (m[1] as string)) * 1_000_000_000n + BigInt(frac.padEnd(9, '0') || '0');
  if (nanos > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('--cpus', `${text} CPUs is out of range`);
  return Number(nanos);
}

/** A whole number flag (strconv.ParseInt), within [min, max]. */
export function parseIntFlag(flag: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^-?\d+$/.test(text.trim())) throw bad(flag, `invalid value ${JSON.stringify(text)}: expected a whole number`);
  const n = Number(text.trim());
  if (n < min || n > max) throw bad(flag, `${n} is out of range (${min}..${max === Number.MAX_SAFE_INTEGER ? '' : max})`);
  return n;
}

/** --restart: no, always, unless-stopped, on-failure[:N] (as the API's RestartPolicy). */
export function parseRestartFlag(text: string): RestartPolicy {
  const p = parseRestartPolicy(text);
  return p.Name === 'on-failure' ? { Name: p.Name, MaximumRetryCount: p.MaximumRetryCount } : { Name: p.Name };
}

const ENV_NAME = /^[^=\s]+$/;

/** -e K=V keeps V; -e K takes K from the caller's environment and is dropped when unset (opts.ValidateEnv). */
function envEntry(flag: string, entry: string, lookupEnv: (k: string) => string | undefined): string | undefined {
  const eq = entry.indexOf('=');
  if (eq === 0) throw bad(flag, `invalid environment variable: ${entry}`);
  if (eq > 0) return entry;
  if (!ENV_NAME.test(entry)) throw bad(flag, `variable ${JSON.stringify(entry)} contains whitespaces`);
  const v = lookupEnv(entry);
  return v === undefined ? undefined : `${entry}=${v}`;
}

/** opts.ParseEnvFile: KEY=VALUE lines, KEY alone from the environment, # comments and blank lines skipped. */
export function parseEnvFile(path: string, text: string, lookupEnv: (k: string) => string | undefined): string[] {
  if (text.includes('\0')) throw bad('--env-file', `${path}: not a text file`);
  const out: string[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const name = eq < 0 ? line : line.slice(0, eq);
    if (name === '' || /\s/.test(name)) throw bad('--env-file', `${path}:${i + 1}: variable ${JSON.stringify(name)} is empty or contains whitespaces`);
    const e = envEntry('--env-file', line, lookupEnv);
    if (e !== undefined) out.push(e);
  });
  return out;
}

/** KEY=VALUE list (labels, log options); KEY alone = "" for labels, an error where a value is needed. */
export function parseKeyValues(flag: string, entries: readonly string[] | undefined, valueRequired: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries ?? []) {
    const eq = e.indexOf('=');
    if (eq === 0 || (eq < 0 && valueRequired)) throw bad(flag, `invalid value ${JSON.stringify(e)}: expected KEY=VALUE`);
    if (eq < 0) out[e] = '';
    else out[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return out;
}

/** go-units ulimit names (rlimit resources). */
const ULIMIT_NAMES = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

/** units.ParseUlimit: NAME=SOFT[:HARD], soft <= hard; -1 is unlimited. */
export function parseUlimit(text: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(text.trim());
  if (m === null) throw bad('--ulimit', `invalid ulimit argument ${JSON.stringify(text)}: expected NAME=SOFT[:HARD], e.g. nofile=1024:2048`);
  const name = m[1] as string;
  if (!ULIMIT_NAMES.has(name)) throw bad('--ulimit', `invalid ulimit type: ${name}`);
  const soft = Number(m[2]);
  const hard = m[3] === undefined ? soft : Number(m[3]);
  if (soft !== -1 && hard !== -1 && soft > hard) throw bad('--ulimit', `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: name, Soft: soft, Hard: hard };
}

/** --tmpfs /path[:options] -> HostConfig.Tmpfs. */
function parseTmpfs(specs: readonly string[] | undefined): Record<string, string> | undefined {
  if (specs === undefined || specs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const s of specs) {
    const colon = s.indexOf(':');
    const dest = colon < 0 ? s : s.slice(0, colon);
    if (!dest.startsWith('/')) throw bad('--tmpfs', `invalid mount path ${JSON.stringify(dest)}: it must be absolute`);
    out[dest] = colon < 0 ? '' : s.slice(colon + 1);
  }
  return out;
}

/**
 * -v: NAME:PATH[:OPTS] and /HOST:PATH[:OPTS] become Binds; a bare /PATH is an anonymous volume
 * (Config.Volumes), as the docker CLI sends it (the agent decides whether it supports it).
 */
function splitVolumes(specs: readonly string[] | undefined): { binds: string[]; anonymous: Record<string, object> } {
  const binds: string[] = [];
  const anonymous: Record<string, object> = {};
  for (const v of specs ?? []) {
    if (v === '') throw bad('--volume', 'empty volume spec');
    if (v.includes(':')) binds.push(v);
    else if (v.startsWith('/')) anonymous[v] = {};
    else throw bad('--volume', `invalid volume spec ${JSON.stringify(v)}: expected [NAME|/HOST]:/CONTAINER[:OPTS] or /CONTAINER`);
  }
  return { binds, anonymous };
}

const nonEmpty = <T>(xs: readonly T[] | undefined): readonly T[] | undefined => (xs === undefined || xs.length === 0 ? undefined : xs);

/** Resource flags shared by run/create and update. */
export function resourceFlags(f: Pick<RunFlags, 'memory' | 'memorySwap' | 'memoryReservation' | 'cpuShares' | 'cpus' | 'cpusetCpus' | 'blkioWeight' | 'pidsLimit'>): Partial<HostConfig> {
  const hc: Record<string, unknown> = {};
  if (f.memory !== undefined) hc.Memory = parseSizeFlag('--memory', f.memory);
  if (f.memorySwap !== undefined) hc.MemorySwap = parseMemorySwap(f.memorySwap);
  if (f.memoryReservation !== undefined) hc.MemoryReservation = parseSizeFlag('--memory-reservation', f.memoryReservation);
  if (f.cpuShares !== undefined) hc.CpuShares = parseIntFlag('--cpu-shares', f.cpuShares, 0);
  if (f.cpus !== undefined) hc.NanoCpus = parseNanoCpus(f.cpus);
  if (f.cpusetCpus !== undefined) {
    if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(f.cpusetCpus)) throw bad('--cpuset-cpus', `invalid value ${JSON.stringify(f.cpusetCpus)}: expected a CPU list like 0-3 or 0,1`);
    hc.CpusetCpus = f.cpusetCpus;
  }
  if (f.blkioWeight !== undefined) {
    const w = parseIntFlag('--blkio-weight', f.blkioWeight, 0, 1000);
    if (w !== 0 && w < 10) throw bad('--blkio-weight', `${w} is out of range: 10..1000 (0 = default)`);
    hc.BlkioWeight = w;
  }
  if (f.pidsLimit !== undefined) hc.PidsLimit = parseIntFlag('--pids-limit', f.pidsLimit, -1);
  return hc as Partial<HostConfig>;
}

/** `docker run/create` flags -> the create body. `lookupEnv` resolves `-e NAME` (the caller's environment). */
export function runFlagsToCreateBody(image: string, cmd: readonly string[], f: RunFlags, lookupEnv: (k: string) => string | undefined): CreateBody {
  if (image === '') throw bad('IMAGE', 'an image name is required');
  const policy = f.restart === undefined ? undefined : parseRestartFlag(f.restart);
  // opts.go: "Conflicting options: --restart and --rm".
  if (f.rm === true && policy !== undefined && policy.Name !== 'no' && policy.Name !== '') throw bad('--rm', 'Conflicting options: --restart and --rm');
  // Env files first, then -e, as the docker CLI merges them (opts.ReadKVEnvStrings).
  const env: string[] = [];
  for (const file of f.envFiles ?? []) env.push(...parseEnvFile(file.path, file.text, lookupEnv));
  for (const e of f.env ?? []) {
    const entry = envEntry('--env', e, lookupEnv);
    if (entry !== undefined) env.push(entry);
  }
  const labels = parseKeyValues('--label', f.label, false);
  const ports = f.publish === undefined || f.publish.length === 0 ? undefined : parsePortSpecs(f.publish);
  const { binds, anonymous } = splitVolumes(f.volume);
  const logOpts = parseKeyValues('--log-opt', f.logOpt, true);
  const ulimits = (f.ulimit ?? []).map(parseUlimit);
  for (const h of f.addHost ?? []) {
    // opts.ValidateExtraHost: HOST:IP (the IP may be IPv6, so split at the first colon).
    const colon = h.indexOf(':');
    if (colon <= 0 || colon === h.length - 1) throw bad('--add-host', `invalid argument ${JSON.stringify(h)}: expected HOST:IP`);
  }
  const entrypoint = f.entrypoint === undefined ? undefined : f.entrypoint === '' ? [''] : [f.entrypoint];
  const hostConfig: Record<string, unknown> = {
    ...resourceFlags(f),
    ...(binds.length > 0 ? { Binds: binds } : {}),
    ...(parseTmpfs(f.tmpfs) !== undefined ? { Tmpfs: parseTmpfs(f.tmpfs) } : {}),
    ...(f.shmSize !== undefined ? { ShmSize: parseSizeFlag('--shm-size', f.shmSize) } : {}),
    ...(ports !== undefined ? { PortBindings: ports.portBindings } : {}),
    ...(policy !== undefined ? { RestartPolicy: policy } : {}),
    ...(f.readOnly === true ? { ReadonlyRootfs: true } : {}),
    ...(f.privileged === true ? { Privileged: true } : {}),
    ...(nonEmpty(f.capAdd) !== undefined ? { CapAdd: f.capAdd } : {}),
    ...(nonEmpty(f.capDrop) !== undefined ? { CapDrop: f.capDrop } : {}),
    ...(nonEmpty(f.securityOpt) !== undefined ? { SecurityOpt: f.securityOpt } : {}),
    ...(f.init === true ? { Init: true } : {}),
    ...(nonEmpty(f.dns) !== undefined ? { Dns: f.dns } : {}),
    ...(nonEmpty(f.addHost) !== undefined ? { ExtraHosts: f.addHost } : {}),
    ...(f.network !== undefined ? { NetworkMode: f.network } : {}),
    ...(f.rm === true ? { AutoRemove: true } : {}),
    ...(f.logDriver !== undefined || Object.keys(logOpts).length > 0 ? { LogConfig: { Type: f.logDriver ?? '', Config: logOpts } } : {}),
    ...(ulimits.length > 0 ? { Ulimits: ulimits } : {}),
  };
  const body: Record<string, unknown> = {
    Image: image,
    ...(cmd.length > 0 ? { Cmd: [...cmd] } : {}),
    ...(entrypoint !== undefined ? { Entrypoint: entrypoint } : {}),
    ...(env.length > 0 ? { Env: env } : {}),
    ...(Object.keys(labels).length > 0 ? { Labels: labels } : {}),
    ...(ports !== undefined ? { ExposedPorts: ports.exposedPorts } : {}),
    ...(Object.keys(anonymous).length > 0 ? { Volumes: anonymous } : {}),
    ...(f.hostname !== undefined ? { Hostname: f.hostname } : {}),
    ...(f.user !== undefined ? { User: f.user } : {}),
    ...(f.workdir !== undefined ? { WorkingDir: f.workdir } : {}),
    ...(f.tty === true ? { Tty: true } : {}),
    ...(f.stopSignal !== undefined ? { StopSignal: f.stopSignal } : {}),
    // The docker CLI asks to attach stdout/stderr unless detached; the agent ignores these.
    HostConfig: hostConfig,
  };
  if (f.workdir !== undefined && !f.workdir.startsWith('/')) throw bad('--workdir', `the working directory ${JSON.stringify(f.workdir)} is invalid, it needs to be an absolute path`);
  return body as unknown as CreateBody;
}

/** `docker update` flags -> the update body; at least one is needed. */
export function updateFlagsToBody(f: Pick<RunFlags, 'memory' | 'memorySwap' | 'memoryReservation' | 'cpuShares' | 'cpus' | 'cpusetCpus' | 'blkioWeight' | 'pidsLimit' | 'restart'>): Record<string, unknown> {
  const body: Record<string, unknown> = { ...resourceFlags(f), ...(f.restart !== undefined ? { RestartPolicy: parseRestartFlag(f.restart) } : {}) };
  if (Object.keys(body).length === 0) throw new InvalidArgument('you must provide one or more flags when using this command');
  return body;
}
