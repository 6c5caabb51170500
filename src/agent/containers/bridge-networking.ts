// Docker's bridge networking for the container engine: the ContainerNetworking hook over the
// NetworkController (src/adapters/network). At each start the container gets a sandbox (a network
// namespace file the OCI runtime joins by path), one endpoint per network it belongs to and its
// published ports; after each exit all of that is given back (addresses, host ports, iptables
// rules, veths), so a stopped container holds nothing, as in Docker.
//
// Which networks a container belongs to: its NetworkMode, plus what `docker network connect` added
// (and minus what disconnect took away). Those changes must outlive the agent and apply to stopped
// containers too (connected at the next start), so they are kept here in one small file beside
// the controller's state; a container without an entry simply has its NetworkMode network.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NetworkController, SandboxInfo } from '../../adapters/network/network-controller.js';
import type { HostConfig } from '../../core/containers/container-spec.js';
import { parseIPv4, parseSubnet } from '../../core/containers/network-ipam.js';
import { portMappings, type PortMapping } from '../../core/containers/network-port-spec.js';
import { networksByName, portMap } from '../../core/containers/network-settings.js';
import { validateNetworkName, type NetworkResource } from '../../core/containers/network-state.js';
import { writeFileAtomically } from '../../lib/atomic-file.js';
import { Conflict, DataLoss, FailedPrecondition, InvalidArgument, NotFound, fromSystemError } from '../../lib/errors.js';
import type { ContainerNetworking, EndpointRequest, EndpointSettings, NetworkAttachment, NetworkedContainer, NetworkSettingsExtras } from './container-networking.js';

/** One network a container belongs to; `network` is the network's ID (names can be reused after rm). */
export interface NetworkMembership {
  readonly network: string;
  readonly aliases?: readonly string[];
  /** EndpointSettings.IPAMConfig.IPv4Address. */
  readonly ipv4Address?: string;
}

interface MembershipFile {
  readonly version: 1;
  /** container ID -> its networks, for containers whose networks were changed by connect/disconnect. */
  readonly containers: Readonly<Record<string, readonly NetworkMembership[]>>;
}

export interface BridgeNetworkingOptions {
  readonly controller: NetworkController;
  /** dockerd --bridge none: no default network; containers without NetworkMode get "none". */
  readonly defaultBridge: boolean;
  /** Where connect/disconnect changes are kept (a JSON file, written atomically). */
  readonly membershipFile: string;
}

const EMPTY = { EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '' };

export class BridgeNetworking implements ContainerNetworking {
  private kept: Record<string, readonly NetworkMembership[]> = {};
  /** Membership changes run one at a time: each rewrites the whole file. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly o: BridgeNetworkingOptions) {}

  /** Opens the controller (restoring bridges and rules) and loads the membership file. */
  static async open(o: BridgeNetworkingOptions): Promise<BridgeNetworking> {
    const n = new BridgeNetworking(o);
    await o.controller.open();
    n.kept = { ...(await readMemberships(o.membershipFile)).containers };
    return n;
  }

  get controller(): NetworkController {
    return this.o.controller;
  }

  defaultMode(): string {
    return this.o.defaultBridge ? 'bridge' : 'none';
  }

  private modeOf(hc: HostConfig): string {
    const m = hc.NetworkMode ?? '';
    return m === '' || m === 'default' ? this.defaultMode() : m;
  }

  check(hostConfig: HostConfig): void {
    const mode = this.modeOf(hostConfig);
    if (mode.startsWith('container:')) throw new InvalidArgument(`NetworkMode ${mode}: sharing another container's network namespace is not supported`, { subject: 'HostConfig.NetworkMode' });
    if (mode !== 'host' && mode !== 'none') {
      if (mode === 'bridge' && !this.o.defaultBridge) throw new NotFound('network bridge not found (the agent runs with --bridge none)', { subject: 'HostConfig.NetworkMode' });
      const n = this.network(mode);
      if (n.Driver !== 'bridge') throw new InvalidArgument(`NetworkMode ${mode}: use "${n.Name}" itself as the network mode`, { subject: 'HostConfig.NetworkMode' });
    }
    // Validated now so that a bad binding is a 400 at create, not a failed start.
    portMappings(hostConfig.PortBindings);
  }

  private network(idOrName: string): NetworkResource {
    return this.o.controller.inspectNetwork(idOrName);
  }

  /** The networks the container joins at start, in connection order (the first is eth0). */
  memberships(c: NetworkedContainer): readonly NetworkMembership[] {
    const kept = this.kept[c.id];
    if (kept !== undefined) return kept;
    const mode = this.modeOf(c.hostConfig);
    if (mode === 'host' || mode === 'none') return [];
    const n = this.o.controller.listNetworks().find((x) => x.Id === mode || x.Name === mode) ?? this.network(mode);
    return [{ network: n.Id }];
  }

  /** `docker run --network-alias A --ip X`: kept as the container's membership of its network. */
  async configure(c: NetworkedContainer, endpoint: EndpointRequest): Promise<void> {
    const mode = this.modeOf(c.hostConfig);
    if (mode === 'host' || mode === 'none') throw new InvalidArgument(`network-scoped aliases and addresses are supported for user-defined networks only (not ${mode})`, { subject: 'NetworkingConfig' });
    const n = this.network(mode);
    if (endpoint.ipv4Address !== undefined && n.Name === 'bridge') throw new InvalidArgument('user specified IP address is supported on user defined networks only', { subject: 'IPv4Address' });
    if (endpoint.aliases.length > 0 && n.Name === 'bridge') throw new InvalidArgument('network-scoped alias is supported only for containers in user defined networks', { subject: 'Aliases' });
    for (const a of endpoint.aliases) validateNetworkName(a);
    if (endpoint.ipv4Address !== undefined) {
      const ip = parseIPv4(endpoint.ipv4Address);
      const subnetText = n.IPAM.Config[0]?.Subnet;
      if (ip === undefined) throw new InvalidArgument(`invalid IPv4 address ${JSON.stringify(endpoint.ipv4Address)}`, { subject: 'IPv4Address' });
      if (subnetText !== undefined) {
        const subnet = parseSubnet(subnetText);
        const mask = subnet.prefixLen === 0 ? 0 : (~0 << (32 - subnet.prefixLen)) >>> 0;
        if (((ip & mask) >>> 0) !== ((subnet.network & mask) >>> 0)) {
          throw new InvalidArgument(`no configured subnet contains IP address ${endpoint.ipv4Address} (network ${n.Name} is ${subnetText})`, { subject: 'IPv4Address' });
        }
      }
    }
    const m: NetworkMembership = {
      network: n.Id, ...(endpoint.aliases.length > 0 ? { aliases: [...endpoint.aliases] } : {}), ...(endpoint.ipv4Address === undefined ? {} : { ipv4Address: endpoint.ipv4Address }),
    };
    await this.changeMemberships(c.id, () => [m]);
  }

  async attach(c: NetworkedContainer): Promise<NetworkAttachment> {
    const mode = this.modeOf(c.hostConfig);
    if (mode === 'host') return { namespace: { kind: 'host' }, addresses: [], networks: this.describe(c) };
    const ctl = this.o.controller;
    // A sandbox left by a start whose clean-up did not finish (agent killed in between): ours to replace.
    if (ctl.getSandbox(c.id) !== undefined) await ctl.releaseSandbox(c.id);
    const path = await ctl.createSandbox(c.id);
    try {
      for (const m of this.memberships(c)) {
        await ctl.connect(c.id, m.network, { ...(m.aliases === undefined ? {} : { aliases: m.aliases }), ...(m.ipv4Address === undefined ? {} : { ipv4Address: m.ipv4Address }) });
      }
      const mappings: PortMapping[] = portMappings(c.hostConfig.PortBindings);
      if (mappings.length > 0 && mode !== 'none') await ctl.publish(c.id, mappings);
      const sandbox = ctl.getSandbox(c.id);
      return { namespace: { kind: 'path', path }, addresses: (sandbox?.endpoints ?? []).map((e) => e.ip), networks: this.describe(c) };
    } catch (e) {
      await ctl.releaseSandbox(c.id).catch(() => undefined);
      throw e;
    }
  }

  detach(c: NetworkedContainer): Promise<void> {
    return this.o.controller.releaseSandbox(c.id);
  }

  async removed(c: NetworkedContainer): Promise<void> {
    await this.o.controller.releaseSandbox(c.id);
    if (this.kept[c.id] !== undefined) await this.changeMemberships(c.id, () => undefined);
  }

  describe(c: NetworkedContainer): Readonly<Record<string, EndpointSettings>> {
    const mode = this.modeOf(c.hostConfig);
    const sandbox = this.o.controller.getSandbox(c.id);
    if (sandbox !== undefined && sandbox.endpoints.length > 0) return networksByName(sandbox.endpoints, c.name.replace(/^\//, ''));
    if (mode === 'host' || mode === 'none') return { [mode]: { ...EMPTY, NetworkID: this.idOf(mode) } };
    // Not running: the networks it will join, without addresses (as `docker inspect` shows a stopped container).
    const out: Record<string, EndpointSettings> = {};
    for (const m of this.memberships(c)) {
      const n = this.o.controller.listNetworks().find((x) => x.Id === m.network);
      out[n?.Name ?? m.network] = { ...EMPTY, NetworkID: m.network };
    }
    return out;
  }

  settings(c: NetworkedContainer, exposedPorts: readonly string[]): NetworkSettingsExtras {
    const sandbox: SandboxInfo | undefined = this.o.controller.getSandbox(c.id);
    // Docker fills the legacy top-level fields from the default network only.
    const bridge = sandbox?.endpoints.find((e) => e.networkName === 'bridge');
    const ports = sandbox?.ports ?? [];
    return {
      SandboxKey: sandbox?.netnsPath ?? '',
      Ports: portMap(exposedPorts, ports),
      Bridge: '',
      IPAddress: bridge?.ip ?? '',
      IPPrefixLen: bridge?.prefixLen ?? 0,
      Gateway: bridge?.gateway ?? '',
      MacAddress: bridge?.mac ?? '',
      summaryPorts: [
        ...ports.map((p) => ({ IP: p.hostIp === '' ? '0.0.0.0' : p.hostIp, PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.proto })),
        ...exposedPorts.filter((x) => !ports.some((p) => `${p.containerPort}/${p.proto}` === (x.includes('/') ? x : `${x}/tcp`)))
          .map((x) => ({ PrivatePort: Number(x.split('/')[0]), Type: x.split('/')[1] ?? 'tcp' })),
      ],
    };
  }

  private idOf(name: string): string {
    return this.o.controller.listNetworks().find((n) => n.Name === name)?.Id ?? '';
  }

  /**
   * `docker network connect`: joins now when the container runs, and at every later start.
   * `running` tells whether the container has a process (and so a sandbox) now.
   */
  async connect(c: NetworkedContainer, idOrName: string, opts: { aliases?: readonly string[]; ipv4Address?: string }, running: boolean): Promise<void> {
    const mode = this.modeOf(c.hostConfig);
    const n = this.network(idOrName);
    if (mode === 'host' || n.Driver === 'host') throw new Conflict('container cannot be disconnected from host network or connected to host network', { subject: n.Name });
    if (mode === 'none' || n.Driver === 'null') throw new Conflict('container cannot be connected to multiple networks with one of the networks in private (none) mode', { subject: n.Name });
    if (n.Name === 'bridge' && !this.o.defaultBridge) throw new NotFound('network bridge not found', { subject: n.Name });
    const current = this.memberships(c);
    if (current.some((m) => m.network === n.Id)) throw new Conflict(`endpoint with name ${c.name.replace(/^\//, '')} already exists in network ${n.Name}`, { subject: n.Name });
    const m: NetworkMembership = {
      network: n.Id,
      ...(opts.aliases !== undefined && opts.aliases.length > 0 ? { aliases: [...opts.aliases] } : {}),
      ...(opts.ipv4Address !== undefined && opts.ipv4Address !== '' ? { ipv4Address: opts.ipv4Address } : {}),
    };
    if (running) {
      if (this.o.controller.getSandbox(c.id) === undefined) throw new FailedPrecondition(`container ${c.name} has no network sandbox`, { subject: c.name });
      await this.o.controller.connect(c.id, n.Id, m);
    } else if (m.ipv4Address !== undefined && n.Name === 'bridge') {
      throw new InvalidArgument('user specified IP address is supported on user defined networks only', { subject: 'IPv4Address' });
    }
    try {
      await this.changeMemberships(c.id, () => [...current, m]);
    } catch (e) {
      if (running) await this.o.controller.disconnect(c.id, n.Id).catch(() => undefined);
      throw e;
    }
  }

  /** `docker network disconnect`. */
  async disconnect(c: NetworkedContainer, idOrName: string, running: boolean): Promise<void> {
    const mode = this.modeOf(c.hostConfig);
    const n = this.network(idOrName);
    if (mode === 'host' || n.Driver === 'host') throw new Conflict('container cannot be disconnected from host network or connected to host network', { subject: n.Name });
    const current = this.memberships(c);
    const connectedNow = this.o.controller.getSandbox(c.id)?.endpoints.some((e) => e.networkId === n.Id) === true;
    if (!current.some((m) => m.network === n.Id) && !connectedNow) {
      throw new NotFound(`container ${c.id} is not connected to network ${n.Name}`, { subject: n.Name });
    }
    if (running && connectedNow) await this.o.controller.disconnect(c.id, n.Id);
    await this.changeMemberships(c.id, () => current.filter((m) => m.network !== n.Id));
  }

  /** Containers (IDs) that will join `networkId` at their next start. */
  membersOf(networkId: string): string[] {
    return Object.entries(this.kept).filter(([, ms]) => ms.some((m) => m.network === networkId)).map(([id]) => id);
  }

  private changeMemberships(containerId: string, next: () => readonly NetworkMembership[] | undefined): Promise<void> {
    const run = this.queue.then(async () => {
      const all = { ...this.kept };
      const value = next();
      if (value === undefined) delete all[containerId];
      else all[containerId] = value;
      const file: MembershipFile = { version: 1, containers: all };
      await writeFileAtomically(this.o.membershipFile, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
      this.kept = all;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** Default ContainerNetworking membership file under the network state directory. */
export function membershipFileIn(networkStateDir: string): string {
  return join(networkStateDir, 'container-networks.json');
}

async function readMemberships(file: string): Promise<MembershipFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, containers: {} };
    throw fromSystemError(e, file, 'reading the container network memberships');
  }
  return parseMemberships(text, file);
}

/** The membership file is ours: a wrong shape means it was damaged. */
export function parseMemberships(text: string, file: string): MembershipFile {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new DataLoss(`${file}: not JSON`, { subject: file, cause: e });
  }
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!isObj(v) || v.version !== 1 || !isObj(v.containers)) throw new DataLoss(`${file}: not a version 1 membership file`, { subject: file });
  for (const ms of Object.values(v.containers)) {
    if (!Array.isArray(ms) || !ms.every((m) => isObj(m) && typeof m.network === 'string')) throw new DataLoss(`${file}: damaged membership entry`, { subject: file });
  }
  return v as unknown as MembershipFile;
}
