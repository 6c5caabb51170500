// A container's NetworkSettings as `docker inspect` shows them (Engine API ContainerJSON
// NetworkSettings): one EndpointSettings per connected network, the PortMap of exposed and
// published ports, and the legacy top-level fields Docker fills from the default `bridge` network.
import type { PublishedPort } from './network-state.js';

/** What the network controller reports per connected network (the Endpoint of adapters/network). */
export interface EndpointView {
  readonly networkId: string;
  readonly networkName: string;
  readonly endpointId: string;
  readonly ip: string;
  readonly prefixLen: number;
  readonly gateway: string;
  readonly mac: string;
  readonly aliases: readonly string[];
  readonly requestedIPv4Address?: string;
}

export interface EndpointSettings {
  readonly IPAMConfig: { readonly IPv4Address: string } | null;
  readonly Links: null;
  readonly Aliases: readonly string[] | null;
  readonly MacAddress: string;
  readonly NetworkID: string;
  readonly EndpointID: string;
  readonly Gateway: string;
  readonly IPAddress: string;
  readonly IPPrefixLen: number;
  readonly IPv6Gateway: '';
  readonly GlobalIPv6Address: '';
  readonly GlobalIPv6PrefixLen: 0;
  readonly DriverOpts: null;
  readonly DNSNames: readonly string[] | null;
}

/** Engine API PortMap: "80/tcp" -> bindings, or null for a port that is exposed but not published. */
export type PortMap = Record<string, { readonly HostIp: string; readonly HostPort: string }[] | null>;

export function endpointSettings(e: EndpointView, containerName?: string): EndpointSettings {
  const dnsNames = e.networkName === 'bridge' ? null : [...(containerName === undefined ? [] : [containerName]), ...e.aliases, e.endpointId.slice(0, 12)];
  return {
    IPAMConfig: e.requestedIPv4Address === undefined ? null : { IPv4Address: e.requestedIPv4Address },
    Links: null,
    Aliases: e.aliases.length === 0 ? null : [...e.aliases],
    MacAddress: e.mac,
    NetworkID: e.networkId,
    EndpointID: e.endpointId,
    Gateway: e.gateway,
    IPAddress: e.ip,
    IPPrefixLen: e.prefixLen,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DriverOpts: null,
    DNSNames: dnsNames,
  };
}

/** Exposed ports (Config.ExposedPorts keys, "80/tcp") with their published bindings; published ports are exposed too. */
export function portMap(exposedPorts: readonly string[], published: readonly PublishedPort[]): PortMap {
  const out: PortMap = {};
  for (const p of exposedPorts) out[p.includes('/') ? p : `${p}/tcp`] = null;
  for (const p of published) {
    const key = `${p.containerPort}/${p.proto}`;
    (out[key] ??= []).push({ HostIp: p.hostIp === '' ? '0.0.0.0' : p.hostIp, HostPort: String(p.hostPort) });
  }
  return out;
}

/** ContainerJSON.NetworkSettings.Networks: keyed by network name. */
export function networksByName(endpoints: readonly EndpointView[], containerName?: string): Record<string, EndpointSettings> {
  return Object.fromEntries(endpoints.map((e) => [e.networkName, endpointSettings(e, containerName)]));
}
