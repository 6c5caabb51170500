// `docker run -p` specs and HostConfig.PortBindings, with the semantics of Docker's
// go-connections nat.ParsePortSpec/ParsePortSpecs: "[IP:][HOST:]CONTAINER[/PROTO]", ranges on both
// sides ("8080-8081:80-81"), an empty host port meaning "any free port" ("127.0.0.1::80", "80"),
// and a host range with a single container port meaning "any free port in that range".
import { Conflict, InvalidArgument } from '../../lib/errors.js';
import { parseIPv4 } from './network-ipam.js';

export type PortProto = 'tcp' | 'udp' | 'sctp';

/** HostConfig.PortBindings value (Docker's nat.PortBinding): empty strings mean "all addresses" / "any port". */
export interface PortBinding {
  readonly HostIp: string;
  readonly HostPort: string;
}

/** What ParsePortSpecs returns: Config.ExposedPorts and HostConfig.PortBindings, keyed "80/tcp". */
export interface ParsedPortSpecs {
  readonly exposedPorts: Record<string, Record<string, never>>;
  readonly portBindings: Record<string, PortBinding[]>;
}

/** One published port after validation: what the network adapter turns into DNAT rules. */
export interface PortMapping {
  readonly proto: PortProto;
  readonly containerPort: number;
  /** '' = every address of the host (0.0.0.0). */
  readonly hostIp: string;
  /** The host port, or the range to pick a free one from; [0, 0] = any free port. */
  readonly hostPortStart: number;
  readonly hostPortEnd: number;
}

const PROTOS: readonly string[] = ['tcp', 'udp', 'sctp'];

/** nat.ParsePortRange: "N" or "N-M", each 0..65535 (ParseUint bitSize 16), N <= M. */
export function parsePortRange(s: string): { start: number; end: number } | undefined {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s);
  if (m === null) return undefined;
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start > 65535 || end > 65535 || end < start) return undefined;
  return { start, end };
}

/** nat.SplitProtoPort: "80/udp" -> ['udp', '80']; no or empty proto -> tcp. */
function splitProtoPort(raw: string): { proto: string; port: string } {
  const parts = raw.split('/');
  if (raw === '' || parts[0] === '') return { proto: '', port: '' };
  if (parts.length === 1 || parts[1] === '') return { proto: 'tcp', port: parts[0] ?? '' };
  return { proto: parts[1] ?? '', port: parts[0] ?? '' };
}

/** nat's splitParts: the last part is the container port, the one before the host port, the rest the IP (IPv6 keeps its colons). */
function splitParts(raw: string): { ip: string; hostPort: string; containerPort: string } {
  const parts = raw.split(':');
  const n = parts.length;
  const containerPort = parts[n - 1] ?? '';
  if (n === 1) return { ip: '', hostPort: '', containerPort };
  if (n === 2) return { ip: '', hostPort: parts[0] ?? '', containerPort };
  return { ip: parts.slice(0, n - 2).join(':'), hostPort: parts[n - 2] ?? '', containerPort };
}

/** A loose IPv6 check (8 groups, or fewer with one "::", optional dotted IPv4 tail), like net.ParseIP accepts. */
function isIPv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.split('::').length > 2) return false;
  let groups = s.split(':');
  const last = groups[groups.length - 1] ?? '';
  let tail = 0;
  if (last.includes('.')) {
    if (parseIPv4(last) === undefined) return false;
    groups = groups.slice(0, -1);
    tail = 2;
  }
  const compressed = s.includes('::');
  const filled = groups.filter((g) => g !== '');
  if (!filled.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  const count = filled.length + tail;
  return compressed ? count <= 7 : count === 8 && groups.every((g) => g !== '');
}

export function isIPAddress(s: string): boolean {
  return parseIPv4(s) !== undefined || isIPv6(s);
}

const bad = (spec: string, message: string): InvalidArgument => new InvalidArgument(`invalid port spec "${spec}": ${message}`, { subject: spec });

/** One `-p` value -> its [port key, binding] pairs (nat.ParsePortSpec). */
export function parsePortSpec(raw: string): { port: string; binding: PortBinding }[] {
  const parts = splitParts(raw);
  const { hostPort } = parts;
  let ip = parts.ip;
  const { proto: rawProto, port: cp } = splitProtoPort(parts.containerPort);
  if (ip.startsWith('[')) {
    const m = /^\[([^\]]*)\]$/.exec(ip);
    if (m === null) throw bad(raw, `invalid IP address ${ip}`);
    ip = m[1] ?? '';
  }
  if (ip !== '' && !isIPAddress(ip)) throw bad(raw, `invalid IP address: ${ip}`);
  if (cp === '') throw bad(raw, 'no container port specified');
  const c = parsePortRange(cp);
  if (c === undefined) throw bad(raw, `invalid containerPort: ${cp}`);
  // Port 0 parses in nat, but no kernel socket listens on it: refuse it early, naming the field.
  if (c.start === 0) throw bad(raw, `invalid containerPort: ${cp}`);
  let h: { start: number; end: number } | undefined;
  if (hostPort !== '') {
    h = parsePortRange(hostPort);
    if (h === undefined) throw bad(raw, `invalid hostPort: ${hostPort}`);
    // A host range may stand for "any port in it" only when a single container port is published.
    if (c.end - c.start !== h.end - h.start && c.end !== c.start) {
      throw bad(raw, `invalid ranges specified for container and host Ports: ${cp} and ${hostPort}`);
    }
  }
  const proto = rawProto.toLowerCase();
  if (!PROTOS.includes(proto)) throw bad(raw, `invalid proto: ${rawProto}`);
  const count = c.end - c.start + 1;
  const out: { port: string; binding: PortBinding }[] = [];
  for (let i = 0; i < count; i++) {
    let hp = '';
    if (h !== undefined) {
      hp = String(h.start + i);
      if (count === 1 && h.start !== h.end) hp += `-${h.end}`;
    }
    out.push({ port: `${c.start + i}/${proto}`, binding: { HostIp: ip, HostPort: hp } });
  }
  return out;
}

/** nat.ParsePortSpecs: every `-p` value -> ExposedPorts and PortBindings (bindings of one port accumulate). */
export function parsePortSpecs(specs: readonly string[]): ParsedPortSpecs {
  const exposedPorts: Record<string, Record<string, never>> = {};
  const portBindings: Record<string, PortBinding[]> = {};
  for (const spec of specs) {
    for (const { port, binding } of parsePortSpec(spec)) {
      exposedPorts[port] = {};
      (portBindings[port] ??= []).push(binding);
    }
  }
  return { exposedPorts, portBindings };
}

/**
 * HostConfig.PortBindings (from the API, so untrusted) -> validated PortMappings. Keys are
 * "PORT[/PROTO]"; a HostPort is "", "N" or "N-M".
 */
export function portMappings(portBindings: Readonly<Record<string, readonly Partial<PortBinding>[] | null>> | undefined): PortMapping[] {
  const out: PortMapping[] = [];
  for (const [key, bindings] of Object.entries(portBindings ?? {})) {
    const { proto: rawProto, port } = splitProtoPort(key);
    const c = parsePortRange(port);
    if (c === undefined || c.start !== c.end || c.start === 0) throw bad(key, `invalid containerPort: ${port}`);
    const proto = rawProto.toLowerCase();
    if (!PROTOS.includes(proto)) throw bad(key, `invalid proto: ${rawProto}`);
    if (bindings !== null && bindings !== undefined && !Array.isArray(bindings)) throw bad(key, 'bindings must be a list');
    for (const b of bindings ?? []) {
      if (typeof b !== 'object' || b === null || (b.HostIp !== undefined && typeof b.HostIp !== 'string') || (b.HostPort !== undefined && typeof b.HostPort !== 'string')) {
        throw bad(key, 'a binding is {"HostIp": string, "HostPort": string}');
      }
      const hostIp = (b.HostIp ?? '').replace(/^\[(.*)\]$/, '$1');
      if (hostIp !== '' && !isIPAddress(hostIp)) throw bad(key, `invalid HostIp: ${hostIp}`);
      let range = { start: 0, end: 0 };
      const hostPort = b.HostPort ?? '';
      if (hostPort !== '') {
        const h = parsePortRange(hostPort);
        if (h === undefined) throw bad(key, `invalid HostPort: ${hostPort}`);
        range = h;
      }
      out.push({ proto: proto as PortProto, containerPort: c.start, hostIp: hostIp === '0.0.0.0' ? '' : hostIp, hostPortStart: range.start, hostPortEnd: range.end });
    }
  }
  return out;
}

/** A published host port as the port allocator tracks it: "tcp/0.0.0.0/8080". */
export function hostPortKey(proto: PortProto, hostIp: string, hostPort: number): string {
  return `${proto}/${hostIp === '' ? '0.0.0.0' : hostIp}/${hostPort}`;
}

/**
 * The host port for a mapping: the fixed one, or the first free one in its range, or (range
 * [0, 0]) in the ephemeral range (Docker's port allocator uses net.ipv4.ip_local_port_range).
 * A port is taken when the same proto uses it on the same address or on 0.0.0.0.
 */
export function pickHostPort(m: PortMapping, taken: ReadonlySet<string>, ephemeral: { start: number; end: number }): number {
  const busy = (p: number): boolean =>
    taken.has(hostPortKey(m.proto, m.hostIp, p)) || taken.has(hostPortKey(m.proto, '', p)) || (m.hostIp === '' && [...taken].some((k) => k.startsWith(`${m.proto}/`) && k.endsWith(`/${p}`)));
  const { start, end } = m.hostPortStart === 0 && m.hostPortEnd === 0 ? ephemeral : { start: m.hostPortStart, end: m.hostPortEnd };
  for (let p = start; p <= end; p++) if (!busy(p)) return p;
  const where = `${m.hostIp === '' ? '0.0.0.0' : m.hostIp}:${start === end ? start : `${start}-${end}`}`;
  throw new Conflict(`Bind for ${where} failed: port is already allocated`, { subject: `${m.containerPort}/${m.proto}` });
}
