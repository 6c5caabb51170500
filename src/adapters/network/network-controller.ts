// Docker's networking for containers that atomicd runs with runc/crun itself: the predefined
// networks `bridge` (a Linux bridge, default device atomic0), `host` and `none`; user-defined
// bridge networks (create/ls/inspect/rm/connect/disconnect); per-container sandboxes (a
// persistent network namespace the OCI runtime joins by path), veth endpoints with addresses from
// IPAM, NAT masquerade for outbound traffic and DNAT for published ports. The names follow
// libnetwork: a NetworkController owns networks, sandboxes and endpoints.
//
// Published ports on 127.0.0.1: Docker answers loopback connections with docker-proxy, a
// userland process per port. We use its userland-proxy=false mode instead: OUTPUT-chain DNAT,
// net.ipv4.conf.<bridge>.route_localnet=1 (so a packet with a 127.x source may be routed out of
// the bridge at all) and MASQUERADE of locally sourced packets into the bridge. No extra process
// per port to supervise, and UDP works the same way as TCP.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  AlreadyExists, Conflict, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unimplemented, fromSystemError,
} from '../../lib/errors.js';
import {
  allocateAddress, formatIPv4, formatSubnet, gatewayOf, macFromIPv4, parseIPv4, parseSubnet, pickSubnet, subnetsOverlap, type Ipv4Subnet,
} from '../../core/containers/network-ipam.js';
import type { EndpointView } from '../../core/containers/network-settings.js';
import { validateBridgeName, type NetworkCreateOptions } from '../../core/containers/network-create-request.js';
import { baseJumps, bridgeRules, OWN_CHAINS, publishRules, type IptablesRule } from '../../core/containers/network-iptables-plan.js';
import { hostPortKey, isIPAddress, pickHostPort, type PortMapping } from '../../core/containers/network-port-spec.js';
import {
  networkResource, requireNetwork, validateNetworkName,
  type EndpointRecord, type NetworkRecord, type NetworkResource, type NetworkState, type PublishedPort, type SandboxRecord,
} from '../../core/containers/network-state.js';
import { Iproute2 } from './iproute2.js';
import { Iptables } from './iptables.js';
import { createNetns, deleteNetns, isNetnsMounted, prepareNetnsDir } from './netns.js';
import { readNetworkState, writeNetworkState } from './network-state-file.js';
import { readSysctl, sysctlPath, writeSysctl } from './sysctl.js';

export interface NetworkControllerOptions {
  /** Holds networks.json. */
  readonly stateDir: string;
  /** Holds one network namespace file per sandbox (like /run/netns; under /run so a reboot clears it). */
  readonly runDir: string;
  /** Device of the default `bridge` network (dockerd --bridge); default atomic0. */
  readonly defaultBridge?: string;
  /** Subnet of the default network (dockerd --bip without the host part); default: the first free default pool. */
  readonly defaultSubnet?: string;
  /** Inter-container communication on the default network (dockerd --icc); default true. Applied at every open(). */
  readonly defaultIcc?: boolean;
  readonly iptables?: Iptables;
  readonly iproute2?: Iproute2;
}

/** What createNetwork takes; networkCreateRequest() builds it from a Docker API body. */
export type CreateNetworkRequest = NetworkCreateOptions;

export interface ConnectOptions {
  readonly aliases?: readonly string[];
  /** EndpointSettings.IPAMConfig.IPv4Address; user-defined networks only (as in Docker). */
  readonly ipv4Address?: string;
}

/** A container's connection to one network: what inspect shows (EndpointView) and its interface name. */
export interface Endpoint extends EndpointView {
  /** Interface name inside the container. */
  readonly ifname: string;
}

export interface SandboxInfo {
  readonly containerId: string;
  readonly netnsPath: string;
  readonly endpoints: readonly Endpoint[];
  readonly ports: readonly PublishedPort[];
}

/** Container IDs name files under runDir: path-safe only (the OCI runtime's id rule). */
const CONTAINER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const PREDEFINED = ['bridge', 'host', 'none'];

const newId = (): string => randomBytes(32).toString('hex');

function checkContainerId(id: string): string {
  if (!CONTAINER_ID_RE.test(id)) throw new InvalidArgument(`invalid container id ${JSON.stringify(id.slice(0, 80))}`, { subject: 'containerId' });
  return id;
}

function routeSubnet(dst: string): Ipv4Subnet | undefined {
  const [addr, len] = dst.split('/');
  const a = parseIPv4(addr ?? '');
  if (a === undefined) return undefined;
  const prefixLen = len === undefined ? 32 : Number(len);
  return { network: a, prefixLen };
}

export class NetworkController {
  private state: NetworkState = { version: 1, networks: [], endpoints: [], sandboxes: [] };
  private opened = false;
  /** Mutations run one at a time: each reads and writes the whole state. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly stateFile: string;
  private readonly runDir: string;
  private readonly iptables: Iptables;
  private readonly iproute2: Iproute2;

  constructor(private readonly opts: NetworkControllerOptions) {
    this.stateFile = join(resolve(opts.stateDir), 'networks.json');
    this.runDir = resolve(opts.runDir);
    this.iptables = opts.iptables ?? new Iptables();
    this.iproute2 = opts.iproute2 ?? new Iproute2();
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private requireOpen(): void {
    if (!this.opened) throw new FailedPrecondition('the network controller is not open (call open() first)');
  }

  private async save(next: NetworkState): Promise<void> {
    await writeNetworkState(this.stateFile, next);
    this.state = next;
  }

  /**
   * Load the state, create the predefined networks the first time, and (re)build what the kernel
   * forgets on reboot: bridges, sysctls, our iptables chains and every network's and published
   * port's rules. Idempotent: an agent restart re-runs it over a live system without duplicates.
   */
  open(): Promise<void> {
    return this.exclusive(async () => {
      try {
        await mkdir(resolve(this.opts.stateDir), { recursive: true, mode: 0o700 });
      } catch (e) {
        throw fromSystemError(e, this.opts.stateDir, 'creating the network state directory');
      }
      await prepareNetnsDir(this.runDir);
      let state = await readNetworkState(this.stateFile);
      const created = new Date().toISOString();
      const add = (n: NetworkRecord): void => {
        state = { ...state, networks: [...state.networks, n] };
      };
      const base = { created, internal: false, icc: true, labels: {}, isDefault: false };
      if (!state.networks.some((n) => n.name === 'bridge')) {
        const subnet = this.opts.defaultSubnet !== undefined ? parseSubnet(this.opts.defaultSubnet, 'defaultSubnet') : pickSubnet(await this.usedSubnets(state));
        add({ ...base, id: newId(), name: 'bridge', driver: 'bridge', bridge: this.opts.defaultBridge ?? 'atomic0', subnet: formatSubnet(subnet), gateway: formatIPv4(subnet.network + 1), isDefault: true });
      }
      if (!state.networks.some((n) => n.name === 'host')) add({ ...base, id: newId(), name: 'host', driver: 'host' });
      if (!state.networks.some((n) => n.name === 'none')) add({ ...base, id: newId(), name: 'none', driver: 'null' });
      // A sandbox whose namespace file is no longer mounted (the host rebooted, /run was cleared)
      // cannot hold a running container: forget it, so its addresses and host ports are free again
      // and the container can get a new sandbox when it starts.
      const lost: SandboxRecord[] = [];
      for (const s of state.sandboxes) if (!(await isNetnsMounted(s.netnsPath))) lost.push(s);
      for (const s of lost) {
        for (const p of s.ports) for (const r of publishRules(p).reverse()) await this.iptables.deleteRule(r);
        for (const e of state.endpoints.filter((x) => x.containerId === s.containerId)) await this.iproute2.deleteLink(e.hostIfname);
        await deleteNetns(s.netnsPath);
      }
      // dockerd --icc is a daemon flag: it reconfigures the default network at every start.
      const icc = this.opts.defaultIcc;
      const current = state.networks.find((n) => n.isDefault);
      if (icc !== undefined && current !== undefined && current.icc !== icc) {
        if (!icc) await this.requireBrNetfilter();
        for (const r of bridgeRules(this.bridgePlan(current))) await this.iptables.deleteRule(r);
        state = { ...state, networks: state.networks.map((n) => (n === current ? { ...n, icc } : n)) };
      }
      const lostIds = new Set(lost.map((s) => s.containerId));
      state = { ...state, sandboxes: state.sandboxes.filter((s) => !lostIds.has(s.containerId)), endpoints: state.endpoints.filter((e) => !lostIds.has(e.containerId)) };
      await this.save(state);

      // Routing between bridges and the outside, and iptables seeing bridged frames (for icc=false).
      await writeSysctl(sysctlPath('net', 'ipv4', 'ip_forward'), '1');
      const brNf = sysctlPath('net', 'bridge', 'bridge-nf-call-iptables');
      if ((await readSysctl(brNf)) !== undefined) await writeSysctl(brNf, '1');
      for (const c of OWN_CHAINS) await this.iptables.ensureChain(c.table, c.chain);
      for (const j of baseJumps()) await this.iptables.ensureJump(j);
      for (const n of state.networks) if (n.driver === 'bridge') await this.setUpBridge(n);
      for (const s of state.sandboxes) for (const p of s.ports) for (const r of publishRules(p)) await this.iptables.ensureRule(r);
      this.opened = true;
    });
  }

  /** Subnets a new network must not overlap: other networks, and routes the host already has (except the default route and our own bridges). */
  private async usedSubnets(state: NetworkState): Promise<Ipv4Subnet[]> {
    const own = new Set(state.networks.map((n) => n.bridge).filter((b) => b !== undefined));
    const used = state.networks.flatMap((n) => (n.subnet === undefined ? [] : [parseSubnet(n.subnet)]));
    for (const r of await this.iproute2.routes()) {
      if (r.dst === 'default' || (r.dev !== undefined && own.has(r.dev))) continue;
      const s = routeSubnet(r.dst);
      if (s !== undefined) used.push(s);
    }
    return used;
  }

  private bridgePlan(n: NetworkRecord): { bridge: string; subnet: string; icc: boolean; internal: boolean } {
    return { bridge: n.bridge ?? '', subnet: n.subnet ?? '', icc: n.icc, internal: n.internal };
  }

  private async setUpBridge(n: NetworkRecord): Promise<void> {
    const bridge = n.bridge ?? '';
    const prefixLen = parseSubnet(n.subnet ?? '').prefixLen;
    await this.iproute2.ensureBridge(bridge, `${n.gateway ?? ''}/${prefixLen}`);
    await writeSysctl(sysctlPath('net', 'ipv4', 'conf', bridge, 'route_localnet'), '1');
    for (const r of bridgeRules(this.bridgePlan(n))) await this.iptables.ensureRule(r);
  }

  private async tearDownBridge(n: NetworkRecord): Promise<void> {
    for (const r of bridgeRules(this.bridgePlan(n)).reverse()) await this.iptables.deleteRule(r);
    await this.iproute2.deleteLink(n.bridge ?? '');
  }

  /** icc=false filters bridged frames with iptables, which only br_netfilter makes possible (we cannot load modules). */
  private async requireBrNetfilter(): Promise<void> {
    if ((await readSysctl(sysctlPath('net', 'bridge', 'bridge-nf-call-iptables'))) === undefined) {
      throw new FailedPrecondition('icc=false needs br_netfilter (net.bridge.bridge-nf-call-iptables) and the kernel module is not loaded', { subject: 'com.docker.network.bridge.enable_icc' });
    }
  }

  listNetworks(names: Readonly<Record<string, string>> = {}): NetworkResource[] {
    this.requireOpen();
    return this.state.networks.map((n) => networkResource(this.state, n, names));
  }

  inspectNetwork(idOrName: string, names: Readonly<Record<string, string>> = {}): NetworkResource {
    this.requireOpen();
    return networkResource(this.state, requireNetwork(this.state, idOrName), names);
  }

  createNetwork(req: CreateNetworkRequest): Promise<NetworkResource> {
    return this.exclusive(async () => {
      this.requireOpen();
      const name = validateNetworkName(req.name);
      if (req.driver !== undefined && req.driver !== '' && req.driver !== 'bridge') {
        throw new InvalidArgument(`network driver ${JSON.stringify(req.driver)} is not supported (only bridge)`, { subject: 'Driver' });
      }
      if (this.state.networks.some((n) => n.name === name)) throw new Conflict(`network with name ${name} already exists`, { subject: name });
      if (req.gateway !== undefined && req.gateway !== '' && (req.subnet === undefined || req.subnet === '')) {
        throw new InvalidArgument('invalid Gateway: a gateway needs a Subnet', { subject: 'Gateway' });
      }
      let subnet: Ipv4Subnet;
      if (req.subnet !== undefined && req.subnet !== '') {
        subnet = parseSubnet(req.subnet);
        const clash = this.state.networks.find((n) => n.subnet !== undefined && subnetsOverlap(parseSubnet(n.subnet), subnet));
        if (clash !== undefined) throw new Conflict(`invalid pool request: Pool overlaps with other one on this address space (${req.subnet} and network ${clash.name} ${clash.subnet})`, { subject: 'Subnet' });
      } else {
        subnet = pickSubnet(await this.usedSubnets(this.state));
      }
      const gateway = gatewayOf(subnet, req.gateway);
      const labels = req.labels ?? {};
      for (const [k, v] of Object.entries(labels)) {
        if (typeof v !== 'string') throw new InvalidArgument(`invalid label ${k}: value must be a string`, { subject: 'Labels' });
      }
      const id = newId();
      const bridge = req.bridgeName !== undefined && req.bridgeName !== '' ? validateBridgeName(req.bridgeName) : `br-${id.slice(0, 12)}`;
      // Never take over an interface we did not make: `ip addr replace` on it would change the host's addressing.
      if (this.state.networks.some((x) => x.bridge === bridge) || (await this.iproute2.linkExists(bridge))) {
        throw new Conflict(`bridge name ${bridge} is already in use by another interface`, { subject: 'com.docker.network.bridge.name' });
      }
      const n: NetworkRecord = {
        id, name, driver: 'bridge', created: new Date().toISOString(), bridge, subnet: formatSubnet(subnet), gateway: formatIPv4(gateway),
        internal: req.internal === true, icc: req.icc !== false, labels: { ...labels }, isDefault: false,
      };
      if (!n.icc) await this.requireBrNetfilter();
      try {
        await this.setUpBridge(n);
        await this.save({ ...this.state, networks: [...this.state.networks, n] });
      } catch (e) {
        await this.tearDownBridge(n).catch(() => undefined);
        throw e;
      }
      return networkResource(this.state, n);
    });
  }

  removeNetwork(idOrName: string): Promise<void> {
    return this.exclusive(async () => {
      this.requireOpen();
      const n = requireNetwork(this.state, idOrName);
      if (PREDEFINED.includes(n.name) && (n.isDefault || n.driver !== 'bridge')) {
        throw new PermissionDenied(`${n.name} is a pre-defined network and cannot be removed`, { subject: n.name });
      }
      const active = this.state.endpoints.filter((e) => e.networkId === n.id);
      if (active.length > 0) {
        throw new Conflict(`error while removing network: network ${n.name} id ${n.id} has active endpoints (${active.map((e) => e.containerId.slice(0, 12)).join(', ')})`, { subject: n.name });
      }
      await this.tearDownBridge(n);
      await this.save({ ...this.state, networks: this.state.networks.filter((x) => x.id !== n.id) });
    });
  }

  /** A new, empty network namespace for the container (only `lo`, up): what `--network none` gets, and what connect() fills. */
  createSandbox(containerId: string): Promise<string> {
    return this.exclusive(async () => {
      this.requireOpen();
      checkContainerId(containerId);
      if (this.state.sandboxes.some((s) => s.containerId === containerId)) throw new AlreadyExists(`sandbox for container ${containerId} already exists`, { subject: containerId });
      const netnsPath = join(this.runDir, containerId);
      // A file without a state entry is a leftover of a crash between the two: ours to replace.
      await deleteNetns(netnsPath);
      await createNetns(netnsPath);
      try {
        await this.save({ ...this.state, sandboxes: [...this.state.sandboxes, { containerId, netnsPath, ports: [] }] });
      } catch (e) {
        await deleteNetns(netnsPath).catch(() => undefined);
        throw e;
      }
      return netnsPath;
    });
  }

  private requireSandbox(containerId: string): SandboxRecord {
    const s = this.state.sandboxes.find((x) => x.containerId === containerId);
    if (s === undefined) throw new NotFound(`no network sandbox for container ${containerId}`, { subject: containerId });
    return s;
  }

  private endpointView(e: EndpointRecord): Endpoint {
    const n = this.state.networks.find((x) => x.id === e.networkId);
    return { networkId: e.networkId, networkName: n?.name ?? '', endpointId: e.id, ifname: e.ifname, ip: e.ip, prefixLen: e.prefixLen, gateway: e.gateway, mac: e.mac, aliases: e.aliases,
      ...(e.requestedIPv4Address === undefined ? {} : { requestedIPv4Address: e.requestedIPv4Address }) };
  }

  getSandbox(containerId: string): SandboxInfo | undefined {
    const s = this.state.sandboxes.find((x) => x.containerId === containerId);
    if (s === undefined) return undefined;
    return { containerId, netnsPath: s.netnsPath, endpoints: this.state.endpoints.filter((e) => e.containerId === containerId).map((e) => this.endpointView(e)), ports: s.ports };
  }

  /** Attach the container's sandbox to a bridge network: a veth pair, an address, the default route if it has none yet. */
  connect(containerId: string, idOrName: string, opts: ConnectOptions = {}): Promise<Endpoint> {
    return this.exclusive(async () => {
      this.requireOpen();
      const sandbox = this.requireSandbox(containerId);
      const n = requireNetwork(this.state, idOrName);
      if (n.driver !== 'bridge') {
        throw new InvalidArgument(`container cannot be connected to network ${n.name} (driver ${n.driver}): use a ${n.driver === 'host' ? 'host network namespace' : 'sandbox without endpoints'} instead`, { subject: n.name });
      }
      const mine = this.state.endpoints.filter((e) => e.containerId === containerId);
      if (mine.some((e) => e.networkId === n.id)) throw new Conflict(`endpoint with name ${containerId.slice(0, 12)} already exists in network ${n.name}`, { subject: n.name });
      if (opts.ipv4Address !== undefined && opts.ipv4Address !== '' && n.isDefault) {
        throw new InvalidArgument('user specified IP address is supported on user defined networks only', { subject: 'IPv4Address' });
      }
      for (const a of opts.aliases ?? []) validateNetworkName(a);
      const subnet = parseSubnet(n.subnet ?? '');
      const gateway = parseIPv4(n.gateway ?? '') ?? subnet.network + 1;
      const taken = new Set<number>([gateway, ...this.state.endpoints.filter((e) => e.networkId === n.id).map((e) => parseIPv4(e.ip) ?? -1)]);
      const addr = allocateAddress(subnet, taken, opts.ipv4Address);
      const usedIfnames = new Set(mine.map((e) => e.ifname));
      let index = 0;
      while (usedIfnames.has(`eth${index}`)) index++;
      // The default route goes through the first network that can reach outside.
      const hasDefaultRoute = mine.some((e) => this.state.networks.find((x) => x.id === e.networkId)?.internal === false);
      const e: EndpointRecord = {
        id: newId(), containerId, networkId: n.id, ifname: `eth${index}`,
        hostIfname: `veth${createHash('sha256').update(`${containerId}\0${n.id}`).digest('hex').slice(0, 7)}`,
        ip: formatIPv4(addr), prefixLen: subnet.prefixLen, gateway: formatIPv4(gateway), mac: macFromIPv4(addr), aliases: [...(opts.aliases ?? [])],
        ...(opts.ipv4Address !== undefined && opts.ipv4Address !== '' ? { requestedIPv4Address: opts.ipv4Address } : {}),
      };
      await this.iproute2.deleteLink(e.hostIfname); // a leftover from a crash between link creation and the state write
      await this.iproute2.addEndpoint(sandbox.netnsPath, e.hostIfname, n.bridge ?? '', {
        ifname: e.ifname, cidr: `${e.ip}/${e.prefixLen}`, mac: e.mac, ...(n.internal || hasDefaultRoute ? {} : { defaultGateway: e.gateway }),
      });
      try {
        await this.save({ ...this.state, endpoints: [...this.state.endpoints, e] });
      } catch (err) {
        await this.iproute2.deleteLink(e.hostIfname).catch(() => undefined);
        throw err;
      }
      return this.endpointView(e);
    });
  }

  disconnect(containerId: string, idOrName: string): Promise<void> {
    return this.exclusive(async () => {
      this.requireOpen();
      const n = requireNetwork(this.state, idOrName);
      const e = this.state.endpoints.find((x) => x.containerId === containerId && x.networkId === n.id);
      if (e === undefined) throw new NotFound(`container ${containerId} is not connected to network ${n.name}`, { subject: n.name });
      const sandboxes = this.state.sandboxes.map((s) => {
        if (s.containerId !== containerId) return s;
        return { ...s, ports: s.ports.filter((p) => p.networkId !== n.id) };
      });
      const dropped = this.state.sandboxes.find((s) => s.containerId === containerId)?.ports.filter((p) => p.networkId === n.id) ?? [];
      for (const p of dropped) for (const r of publishRules(p)) await this.iptables.deleteRule(r);
      await this.iproute2.deleteLink(e.hostIfname);
      // The default route went with the interface; like Docker, move it to the next network that can reach outside.
      const outward = (x: EndpointRecord): boolean => x.containerId === containerId && this.state.networks.find((m) => m.id === x.networkId)?.internal === false;
      const holder = this.state.endpoints.find(outward);
      const next = this.state.endpoints.filter((x) => x !== e).find(outward);
      const sandbox = this.state.sandboxes.find((x) => x.containerId === containerId);
      if (holder === e && next !== undefined && sandbox !== undefined) {
        await this.iproute2.ip(['route', 'replace', 'default', 'via', next.gateway, 'dev', next.ifname], sandbox.netnsPath);
      }
      await this.save({ ...this.state, sandboxes, endpoints: this.state.endpoints.filter((x) => x !== e) });
    });
  }

  /**
   * Publish container ports (HostConfig.PortBindings, validated by portMappings()) on the host
   * through the container's first non-internal bridge endpoint. Returns what was bound, with the
   * host ports picked for "any port" requests (NetworkSettings.Ports).
   */
  publish(containerId: string, mappings: readonly PortMapping[]): Promise<PublishedPort[]> {
    return this.exclusive(async () => {
      this.requireOpen();
      const sandbox = this.requireSandbox(containerId);
      if (mappings.length === 0) return [];
      const endpoint = this.state.endpoints.find((e) => e.containerId === containerId && this.state.networks.find((n) => n.id === e.networkId)?.internal === false);
      if (endpoint === undefined) throw new FailedPrecondition(`container ${containerId} has no bridge network to publish ports on`, { subject: containerId });
      const network = this.state.networks.find((n) => n.id === endpoint.networkId);
      const taken = new Set(this.state.sandboxes.flatMap((s) => s.ports.map((p) => hostPortKey(p.proto, p.hostIp, p.hostPort))));
      const ephemeral = await this.ephemeralPorts();
      const added: PublishedPort[] = [];
      const rules: IptablesRule[] = [];
      try {
        for (const m of mappings) {
          if (m.hostIp !== '' && parseIPv4(m.hostIp) === undefined) {
            if (isIPAddress(m.hostIp)) throw new Unimplemented(`publishing on IPv6 address ${m.hostIp} is not supported`, { subject: 'HostIp' });
            throw new InvalidArgument(`invalid HostIp ${JSON.stringify(m.hostIp)}`, { subject: 'HostIp' });
          }
          const hostPort = pickHostPort(m, taken, ephemeral);
          taken.add(hostPortKey(m.proto, m.hostIp, hostPort));
          const p: PublishedPort = { proto: m.proto, hostIp: m.hostIp, hostPort, containerPort: m.containerPort, containerIp: endpoint.ip, bridge: network?.bridge ?? '', networkId: endpoint.networkId };
          for (const r of publishRules(p)) {
            await this.iptables.ensureRule(r);
            rules.push(r);
          }
          added.push(p);
        }
        const sandboxes = this.state.sandboxes.map((s) => (s === sandbox ? { ...s, ports: [...s.ports, ...added] } : s));
        await this.save({ ...this.state, sandboxes });
      } catch (e) {
        for (const r of rules.reverse()) await this.iptables.deleteRule(r).catch(() => undefined);
        throw e;
      }
      return added;
    });
  }

  private async ephemeralPorts(): Promise<{ start: number; end: number }> {
    // Docker's port allocator: the kernel's ephemeral range, 49153-65535 when it cannot be read.
    const text = await readSysctl(sysctlPath('net', 'ipv4', 'ip_local_port_range'));
    const m = /^(\d+)\s+(\d+)$/.exec(text ?? '');
    return m === null ? { start: 49153, end: 65535 } : { start: Number(m[1]), end: Number(m[2]) };
  }

  /**
   * Undo everything of the container's: published-port rules, veth pairs, addresses (free for the
   * next container), the namespace file. Repeatable: a sandbox that is already gone is not an error.
   */
  releaseSandbox(containerId: string): Promise<void> {
    return this.exclusive(async () => {
      this.requireOpen();
      const s = this.state.sandboxes.find((x) => x.containerId === containerId);
      const endpoints = this.state.endpoints.filter((e) => e.containerId === containerId);
      for (const p of s?.ports ?? []) for (const r of publishRules(p).reverse()) await this.iptables.deleteRule(r);
      for (const e of endpoints) await this.iproute2.deleteLink(e.hostIfname);
      if (s !== undefined) await deleteNetns(s.netnsPath);
      if (s === undefined && endpoints.length === 0) return;
      await this.save({
        ...this.state,
        sandboxes: this.state.sandboxes.filter((x) => x.containerId !== containerId),
        endpoints: this.state.endpoints.filter((e) => e.containerId !== containerId),
      });
    });
  }
}
