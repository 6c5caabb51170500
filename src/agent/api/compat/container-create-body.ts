// POST /containers/create: the body the docker CLI and SDKs send (Engine API ContainerCreate:
// the Config fields at the top level, HostConfig, NetworkingConfig) as the engine's request.
// Clients send every field, mostly with zero values; a field we do not implement is refused with
// a 400 naming it when it carries a value, rather than being dropped silently. 400, not 501:
// dockerd answers a create it cannot honour (an unknown log driver, a bad mount) with 400
// (errdefs.InvalidParameter), and Docker clients treat 5xx as a daemon fault and retry.
import { InvalidArgument } from '../../../lib/errors.js';
import type { ContainerConfig, HostConfig } from '../../../core/containers/container-spec.js';

/** Config fields the engine applies. */
const CONFIG_KEYS = new Set(['Hostname', 'Domainname', 'User', 'Tty', 'OpenStdin', 'StdinOnce', 'Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'Labels', 'ExposedPorts', 'StopSignal', 'Image']);
/**
 * Config fields that only steer the client or the image build: never an error. dockerode sends its
 * whole createContainer options as the body, so the query's `name` (and `platform`, `authconfig`)
 * arrive there too; dockerd's JSON decoding ignores them, and so do we.
 */
const CONFIG_IGNORED = new Set(['AttachStdin', 'AttachStdout', 'AttachStderr', 'ArgsEscaped', 'OnBuild', 'Shell', 'name', 'platform', 'authconfig']);

/** HostConfig fields the engine applies. */
const HOST_CONFIG_KEYS = new Set([
  'Binds', 'Mounts', 'Tmpfs', 'ReadonlyRootfs', 'Privileged', 'CapAdd', 'CapDrop', 'SecurityOpt', 'Init', 'GroupAdd', 'Ulimits', 'ShmSize',
  'Memory', 'MemorySwap', 'MemoryReservation', 'MemorySwappiness', 'OomKillDisable', 'CpuShares', 'NanoCpus', 'CpuPeriod', 'CpuQuota',
  'CpusetCpus', 'CpusetMems', 'BlkioWeight', 'PidsLimit', 'Dns', 'DnsSearch', 'DnsOptions', 'ExtraHosts', 'Devices', 'Sysctls',
  'CgroupnsMode', 'NetworkMode', 'PortBindings', 'RestartPolicy', 'AutoRemove', 'LogConfig', 'ConsoleSize',
]);
/** Client-side options. */
const HOST_CONFIG_IGNORED = new Set(['ContainerIDFile']);

/** Zero values: what a client sends for an option the user did not give. */
export function isZeroValue(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v as object).every(isZeroValue);
  return false;
}

/** A value as an error message quotes it: JSON, cut short (a client may send megabytes). */
function shown(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 200 ? `${text.slice(0, 200)}... (${text.length} characters)` : text;
}

function objectField(body: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = body[key];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidArgument(`${key}: expected an object`, { subject: key });
  return v as Record<string, unknown>;
}

export function refuseUnknown(obj: Record<string, unknown>, prefix: string, known: ReadonlySet<string>, ignored: ReadonlySet<string>): void {
  for (const [k, v] of Object.entries(obj)) {
    if (known.has(k) || ignored.has(k) || isZeroValue(v)) continue;
    throw new InvalidArgument(`${prefix}${k} is not supported by atomicd (got ${shown(v)})`, { subject: `${prefix}${k}` });
  }
}

/**
 * Checked types for the fields the engine reads, so that a wrong type is a 400 naming the field.
 * Docker's numbers here are all Go int64s: a fraction, or 1e400 (Infinity once parsed), is refused
 * as dockerd's decoder refuses it.
 */
export function checkTypes(obj: Record<string, unknown>, prefix: string, types: Readonly<Record<string, 'string' | 'boolean' | 'number' | 'string[]' | 'object'>>): void {
  for (const [k, t] of Object.entries(types)) {
    const v = obj[k];
    if (v === undefined || v === null) continue;
    const ok =
      t === 'string[]' ? Array.isArray(v) && v.every((x) => typeof x === 'string')
        : t === 'object' ? typeof v === 'object' && !Array.isArray(v)
        : t === 'number' ? typeof v === 'number' && Number.isSafeInteger(v)
        : typeof v === t;
    if (!ok) throw new InvalidArgument(`${prefix}${k}: expected ${t === 'string[]' ? 'a list of strings' : t === 'number' ? 'a number (an integer)' : `a ${t}`}, got ${shown(v)}`, { subject: `${prefix}${k}` });
  }
}

/** What the create request asks of the container's network endpoint (--network-alias, --ip). */
export interface CreateEndpoint {
  readonly aliases: readonly string[];
  readonly ipv4Address?: string;
}

export interface CreateBody {
  readonly endpoint?: CreateEndpoint;
  readonly config: ContainerConfig;
  readonly hostConfig: HostConfig;
}

export function parseCreateBody(body: Record<string, unknown>): CreateBody {
  const { HostConfig: hcRaw, NetworkingConfig: ncRaw, ...configRaw } = body;
  const hc = objectField({ HostConfig: hcRaw }, 'HostConfig');
  const nc = objectField({ NetworkingConfig: ncRaw }, 'NetworkingConfig');
  // Volumes is a map whose keys are the data ({"/data": {}}): any key is a request.
  if (typeof configRaw.Volumes === 'object' && configRaw.Volumes !== null && Object.keys(configRaw.Volumes).length > 0) {
    throw new InvalidArgument(`Volumes: anonymous volumes (${Object.keys(configRaw.Volumes as object).join(', ')}) are not supported by atomicd yet; use -v NAME:PATH`, { subject: 'Volumes' });
  }
  refuseUnknown(configRaw, '', new Set([...CONFIG_KEYS, 'Volumes']), CONFIG_IGNORED);
  refuseUnknown(hc, 'HostConfig.', HOST_CONFIG_KEYS, HOST_CONFIG_IGNORED);
  checkTypes(configRaw, '', { Hostname: 'string', Domainname: 'string', User: 'string', Tty: 'boolean', OpenStdin: 'boolean', StdinOnce: 'boolean', Env: 'string[]', Cmd: 'string[]', Entrypoint: 'string[]', WorkingDir: 'string', Labels: 'object', ExposedPorts: 'object', StopSignal: 'string', Image: 'string' });
  checkTypes(hc, 'HostConfig.', {
    Binds: 'string[]', ReadonlyRootfs: 'boolean', Privileged: 'boolean', CapAdd: 'string[]', CapDrop: 'string[]', SecurityOpt: 'string[]', Init: 'boolean', GroupAdd: 'string[]',
    ShmSize: 'number', Memory: 'number', MemorySwap: 'number', MemoryReservation: 'number', CpuShares: 'number', NanoCpus: 'number', CpuPeriod: 'number', CpuQuota: 'number',
    CpusetCpus: 'string', CpusetMems: 'string', BlkioWeight: 'number', Dns: 'string[]', DnsSearch: 'string[]', DnsOptions: 'string[]', ExtraHosts: 'string[]', NetworkMode: 'string',
    PortBindings: 'object', RestartPolicy: 'object', AutoRemove: 'boolean', LogConfig: 'object', Tmpfs: 'object', Sysctls: 'object',
  });
  // ConsoleSize is Go's [2]uint: two non-negative integers, [0, 0] = not given.
  const consoleSize = hc.ConsoleSize;
  if (consoleSize !== undefined && consoleSize !== null && !(Array.isArray(consoleSize) && consoleSize.length === 2 && consoleSize.every((n) => Number.isSafeInteger(n) && (n as number) >= 0 && (n as number) <= 0xffff))) {
    throw new InvalidArgument(`HostConfig.ConsoleSize: expected [height, width] (two integers from 0 to 65535), got ${shown(consoleSize)}`, { subject: 'HostConfig.ConsoleSize' });
  }
  const logType = (hc.LogConfig as { Type?: unknown } | undefined)?.Type;
  if (logType !== undefined && logType !== '' && logType !== 'json-file') {
    throw new InvalidArgument(`HostConfig.LogConfig.Type: the ${JSON.stringify(logType)} log driver is not supported by atomicd (json-file is)`, { subject: 'HostConfig.LogConfig.Type' });
  }
  // One network at create time, as the docker CLI sends it; more are connected afterwards.
  const endpoints = objectField(nc, 'EndpointsConfig');
  const mode = typeof hc.NetworkMode === 'string' && hc.NetworkMode !== '' ? hc.NetworkMode : 'default';
  for (const name of Object.keys(endpoints)) {
    if (name !== mode && !(mode === 'default' && name === 'bridge')) {
      throw new InvalidArgument(`NetworkingConfig.EndpointsConfig: network ${JSON.stringify(name)} is not the container's network ${JSON.stringify(mode)}; connect it after create`, { subject: 'NetworkingConfig' });
    }
  }
  const endpoint = endpointRequest(endpoints);
  const config: Record<string, unknown> = {};
  for (const k of CONFIG_KEYS) if (configRaw[k] !== undefined && configRaw[k] !== null) config[k] = configRaw[k];
  const hostConfig: Record<string, unknown> = {};
  for (const k of HOST_CONFIG_KEYS) if (hc[k] !== undefined && hc[k] !== null && !(Array.isArray(hc[k]) && (hc[k] as unknown[]).length === 0 && k !== 'CapDrop')) hostConfig[k] = hc[k];
  // [0, 0] (an array of zeros, not an empty one) is what clients send when there is no terminal.
  if (Array.isArray(hostConfig.ConsoleSize) && (hostConfig.ConsoleSize as unknown[]).every((n) => n === 0)) delete hostConfig.ConsoleSize;
  return { config: config as ContainerConfig, hostConfig: hostConfig as CreateBody['hostConfig'], ...(endpoint === undefined ? {} : { endpoint }) };
}

/** EndpointSettings fields that only an answer carries (docker inspect's), never a request. */
const ENDPOINT_OUTPUT = new Set(['NetworkID', 'EndpointID', 'Gateway', 'IPAddress', 'IPPrefixLen', 'IPv6Gateway', 'GlobalIPv6Address', 'GlobalIPv6PrefixLen', 'DNSNames', 'GwPriority']);

/** `docker run --network-alias A --ip X`: the one EndpointsConfig entry's request fields; undefined when it asks for nothing. */
function endpointRequest(endpoints: Record<string, unknown>): CreateEndpoint | undefined {
  const [name, raw] = Object.entries(endpoints)[0] ?? [];
  if (name === undefined || raw === undefined || raw === null) return undefined;
  const prefix = `NetworkingConfig.EndpointsConfig.${name}.`;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidArgument(`${prefix.slice(0, -1)}: expected an object`, { subject: prefix.slice(0, -1) });
  const e = raw as Record<string, unknown>;
  const ipam = e.IPAMConfig === undefined || e.IPAMConfig === null ? {} : objectField({ IPAMConfig: e.IPAMConfig }, 'IPAMConfig');
  refuseUnknown(e, prefix, new Set(['Aliases', 'IPAMConfig']), ENDPOINT_OUTPUT);
  refuseUnknown(ipam, `${prefix}IPAMConfig.`, new Set(['IPv4Address']), new Set());
  checkTypes(e, prefix, { Aliases: 'string[]' });
  checkTypes(ipam, `${prefix}IPAMConfig.`, { IPv4Address: 'string' });
  const aliases = (e.Aliases as string[] | undefined | null) ?? [];
  const ipv4Address = typeof ipam.IPv4Address === 'string' && ipam.IPv4Address !== '' ? ipam.IPv4Address : undefined;
  if (aliases.length === 0 && ipv4Address === undefined) return undefined;
  return { aliases, ...(ipv4Address === undefined ? {} : { ipv4Address }) };
}
