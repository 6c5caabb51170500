// The networks the agent knows (networks.json): Docker's predefined `bridge`, `host` and `none`
// plus user-defined bridge networks, each container's sandbox (its network namespace and
// published ports) and its endpoints (one per connected network, with the IPAM allocation).
// Pure data and lookups; the network adapter does the I/O.
import { DataLoss, InvalidArgument, NotFound } from '../../lib/errors.js';
import type { PortProto } from './network-port-spec.js';

export type NetworkDriverName = 'bridge' | 'host' | 'null';

export interface NetworkRecord {
  /** 64 hex digits, like a Docker network ID. */
  readonly id: string;
  readonly name: string;
  readonly driver: NetworkDriverName;
  /** RFC 3339. */
  readonly created: string;
  /** The Linux bridge device (bridge driver only). */
  readonly bridge?: string;
  /** "172.17.0.0/16" (bridge driver only). */
  readonly subnet?: string;
  readonly gateway?: string;
  readonly internal: boolean;
  readonly icc: boolean;
  readonly labels: Readonly<Record<string, string>>;
  /** The predefined network `bridge` (Docker: attachable only through NetworkMode "bridge"/default). */
  readonly isDefault: boolean;
}

export interface EndpointRecord {
  readonly id: string;
  readonly containerId: string;
  readonly networkId: string;
  /** Interface name inside the container: eth0, eth1, ... in connection order. */
  readonly ifname: string;
  /** The veth end on the host, attached to the bridge. */
  readonly hostIfname: string;
  readonly ip: string;
  readonly prefixLen: number;
  readonly gateway: string;
  readonly mac: string;
  readonly aliases: readonly string[];
  /** EndpointSettings.IPAMConfig.IPv4Address, when the address was asked for (docker network connect --ip). */
  readonly requestedIPv4Address?: string;
}

export interface PublishedPort {
  readonly proto: PortProto;
  readonly hostIp: string;
  readonly hostPort: number;
  readonly containerPort: number;
  readonly containerIp: string;
  readonly bridge: string;
  readonly networkId: string;
}

export interface SandboxRecord {
  readonly containerId: string;
  readonly netnsPath: string;
  readonly ports: readonly PublishedPort[];
}

export interface NetworkState {
  readonly version: 1;
  readonly networks: readonly NetworkRecord[];
  readonly endpoints: readonly EndpointRecord[];
  readonly sandboxes: readonly SandboxRecord[];
}

export const EMPTY_NETWORK_STATE: NetworkState = { version: 1, networks: [], endpoints: [], sandboxes: [] };

/** Docker's name rule for networks (the same as for containers, one character allowed). */
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function validateNetworkName(name: unknown): string {
  if (typeof name !== 'string' || name === '') throw new InvalidArgument('network name must not be empty', { subject: 'Name' });
  if (name.length > 128 || !NAME_RE.test(name)) {
    throw new InvalidArgument(`invalid network name ${JSON.stringify(name.slice(0, 80))}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`, { subject: 'Name' });
  }
  return name;
}

/**
 * Docker's lookup order (daemon.FindNetwork): full ID, then exact name, then a unique ID prefix.
 * undefined when nothing matches; an ambiguous prefix is an error.
 */
export function findNetwork(state: NetworkState, idOrName: string): NetworkRecord | undefined {
  const byId = state.networks.find((n) => n.id === idOrName);
  if (byId !== undefined) return byId;
  const byName = state.networks.find((n) => n.name === idOrName);
  if (byName !== undefined) return byName;
  if (!/^[0-9a-f]+$/.test(idOrName)) return undefined;
  const byPrefix = state.networks.filter((n) => n.id.startsWith(idOrName));
  if (byPrefix.length > 1) throw new InvalidArgument(`network ${idOrName} is ambiguous (${byPrefix.length} matches found based on ID prefix)`, { subject: idOrName });
  return byPrefix[0];
}

export function requireNetwork(state: NetworkState, idOrName: string): NetworkRecord {
  const n = findNetwork(state, idOrName);
  if (n === undefined) throw new NotFound(`network ${idOrName} not found`, { subject: idOrName });
  return n;
}

/** Docker's NetworkResource (GET /networks/{id}) for one network. */
export interface NetworkResource {
  readonly Name: string;
  readonly Id: string;
  readonly Created: string;
  readonly Scope: 'local';
  readonly Driver: NetworkDriverName;
  readonly EnableIPv6: false;
  readonly IPAM: { readonly Driver: 'default'; readonly Options: null; readonly Config: readonly { readonly Subnet: string; readonly Gateway: string }[] };
  readonly Internal: boolean;
  readonly Attachable: boolean;
  readonly Ingress: false;
  readonly ConfigFrom: { readonly Network: '' };
  readonly ConfigOnly: false;
  readonly Containers: Readonly<Record<string, { readonly Name: string; readonly EndpointID: string; readonly MacAddress: string; readonly IPv4Address: string; readonly IPv6Address: '' }>>;
  readonly Options: Readonly<Record<string, string>>;
  readonly Labels: Readonly<Record<string, string>>;
}

/** `names` maps container IDs to their names (without the leading slash), when the caller knows them. */
export function networkResource(state: NetworkState, n: NetworkRecord, names: Readonly<Record<string, string>> = {}): NetworkResource {
  const containers: Record<string, NetworkResource['Containers'][string]> = {};
  for (const e of state.endpoints.filter((x) => x.networkId === n.id)) {
    containers[e.containerId] = { Name: names[e.containerId] ?? e.containerId.slice(0, 12), EndpointID: e.id, MacAddress: e.mac, IPv4Address: `${e.ip}/${e.prefixLen}`, IPv6Address: '' };
  }
  const options: Record<string, string> = {};
  if (n.driver === 'bridge' && n.bridge !== undefined) {
    options['com.docker.network.bridge.name'] = n.bridge;
    options['com.docker.network.bridge.enable_icc'] = String(n.icc);
    if (n.isDefault) {
      options['com.docker.network.bridge.default_bridge'] = 'true';
      options['com.docker.network.bridge.enable_ip_masquerade'] = 'true';
    }
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: n.subnet === undefined ? [] : [{ Subnet: n.subnet, Gateway: n.gateway ?? '' }] },
    Internal: n.internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: options,
    Labels: { ...n.labels },
  };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** networks.json -> state; a file we wrote ourselves, so a wrong shape means it was damaged. */
export function parseNetworkState(text: string, file: string): NetworkState {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new DataLoss(`${file}: not JSON`, { subject: file, cause: e });
  }
  if (!isObj(v) || v.version !== 1 || !Array.isArray(v.networks) || !Array.isArray(v.endpoints) || !Array.isArray(v.sandboxes)) {
    throw new DataLoss(`${file}: not a version 1 network state file`, { subject: file });
  }
  for (const n of v.networks as unknown[]) {
    if (!isObj(n) || typeof n.id !== 'string' || typeof n.name !== 'string' || typeof n.driver !== 'string') throw new DataLoss(`${file}: damaged network entry`, { subject: file });
  }
  for (const e of v.endpoints as unknown[]) {
    if (!isObj(e) || typeof e.containerId !== 'string' || typeof e.networkId !== 'string' || typeof e.ip !== 'string') throw new DataLoss(`${file}: damaged endpoint entry`, { subject: file });
  }
  for (const s of v.sandboxes as unknown[]) {
    if (!isObj(s) || typeof s.containerId !== 'string' || typeof s.netnsPath !== 'string' || !Array.isArray(s.ports)) throw new DataLoss(`${file}: damaged sandbox entry`, { subject: file });
  }
  return v as unknown as NetworkState;
}
