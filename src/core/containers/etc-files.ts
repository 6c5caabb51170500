// The three files Docker generates per container and bind-mounts over the image's: /etc/hosts,
// /etc/hostname and /etc/resolv.conf (docs.docker.com "Networking overview: DNS services").
import { InvalidArgument } from '../../lib/errors.js';

export interface HostsOptions {
  readonly hostname: string;
  readonly domainname?: string;
  /** The container's own addresses (none with --network none). */
  readonly addresses?: readonly string[];
  /** HostConfig.ExtraHosts, "name:address" (docker run --add-host); IPv6 addresses keep their colons. */
  readonly extraHosts?: readonly string[];
  /** What "host-gateway" in --add-host stands for. */
  readonly hostGatewayAddress?: string;
  /** Write the IPv6 loopback and multicast names (Docker omits them when IPv6 is disabled). */
  readonly ipv6?: boolean;
}

/** Split an --add-host value: "name:addr" or "name=addr" (Docker 25 accepts both). */
export function parseExtraHost(value: string, hostGateway?: string): { names: string[]; address: string } {
  const m = /^([^:=]+)[:=](.+)$/.exec(value.trim());
  if (m === null) throw new InvalidArgument(`invalid extra host "${value}": expected NAME:ADDRESS`, { subject: value });
  const names = (m[1] ?? '').split(/\s+/).filter((n) => n !== '');
  let address = (m[2] ?? '').replace(/^\[(.*)\]$/, '$1');
  if (address === 'host-gateway') {
    if (hostGateway === undefined) throw new InvalidArgument(`extra host "${value}": no host-gateway address is configured`, { subject: value });
    address = hostGateway;
  }
  if (!/^[0-9a-fA-F.:]+$/.test(address)) throw new InvalidArgument(`invalid extra host "${value}": "${address}" is not an IP address`, { subject: value });
  return { names, address };
}

/**
 * /etc/hosts as Docker (libnetwork/etchosts) writes it: localhost entries, then --add-host
 * entries in order, then the container's own name on each of its addresses. Tab-separated.
 */
export function renderHosts(o: HostsOptions): string {
  const lines = ['127.0.0.1\tlocalhost'];
  if (o.ipv6 !== false) {
    lines.push('::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet', 'ff00::0\tip6-mcastprefix', 'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters');
  }
  for (const e of o.extraHosts ?? []) {
    const { names, address } = parseExtraHost(e, o.hostGatewayAddress);
    lines.push(`${address}\t${names.join(' ')}`);
  }
  const names = o.domainname !== undefined && o.domainname !== '' ? `${o.hostname}.${o.domainname} ${o.hostname}` : o.hostname;
  for (const a of o.addresses ?? []) lines.push(`${a}\t${names}`);
  return `${lines.join('\n')}\n`;
}

export function renderHostname(hostname: string): string {
  return `${hostname}\n`;
}

export interface ResolvConfOptions {
  /** HostConfig.Dns: replaces the nameservers. */
  readonly dns?: readonly string[];
  /** HostConfig.DnsSearch: replaces search/domain. */
  readonly dnsSearch?: readonly string[];
  /** HostConfig.DnsOptions: replaces options. */
  readonly dnsOptions?: readonly string[];
  /** The container shares the host's network namespace (--network host): loopback servers work. */
  readonly hostNetwork?: boolean;
  readonly ipv6?: boolean;
}

/** Google Public DNS: Docker's fallback when the host has only loopback nameservers (libnetwork/resolvconf). */
export const FALLBACK_NAMESERVERS_V4: readonly string[] = ['8.8.8.8', '8.8.4.4'];
export const FALLBACK_NAMESERVERS_V6: readonly string[] = ['2001:4860:4860::8888', '2001:4860:4860::8844'];

const isLoopback = (ns: string): boolean => /^127\./.test(ns) || ns === '::1' || /^0*:0*:0*:0*:0*:0*:0*:0*1$/.test(ns);

/**
 * /etc/resolv.conf for a container from the host's resolv.conf: the host's nameservers minus
 * loopback ones (a 127.0.0.53 stub resolver is unreachable from another network namespace), the
 * fallback servers if none is left, the host's search and options; --dns, --dns-search and
 * --dns-option replace the corresponding parts.
 */
export function renderResolvConf(hostResolvConf: string, o: ResolvConfOptions = {}): string {
  const nameservers: string[] = [];
  let search: string[] = [];
  let options: string[] = [];
  for (const raw of hostResolvConf.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0] !== undefined) nameservers.push(rest[0]);
    // resolv.conf(5): the last of `domain` and `search` wins.
    else if (key === 'search' || key === 'domain') search = rest;
    else if (key === 'options') options = [...options, ...rest];
  }
  let servers = o.dns !== undefined && o.dns.length > 0 ? [...o.dns] : nameservers;
  if ((o.dns === undefined || o.dns.length === 0) && o.hostNetwork !== true) {
    servers = servers.filter((s) => !isLoopback(s));
    if (o.ipv6 !== true) servers = servers.filter((s) => !s.includes(':'));
    if (servers.length === 0) servers = [...FALLBACK_NAMESERVERS_V4, ...(o.ipv6 === true ? FALLBACK_NAMESERVERS_V6 : [])];
  }
  if (o.dnsSearch !== undefined && o.dnsSearch.length > 0) search = o.dnsSearch.filter((s) => s !== '.');
  if (o.dnsOptions !== undefined && o.dnsOptions.length > 0) options = [...o.dnsOptions];
  const lines = ['# Generated by atomicd for this container; edits last until the container is recreated.'];
  for (const s of servers) lines.push(`nameserver ${s}`);
  if (search.length > 0) lines.push(`search ${search.join(' ')}`);
  if (options.length > 0) lines.push(`options ${options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}
