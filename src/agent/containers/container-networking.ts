// The seam between the container engine and networking. The engine calls it at create (is the
// NetworkMode usable?), before each start (which network namespace the runtime puts the container
// in, and its addresses for /etc/hosts), after each exit (give back what start took) and once the
// container is removed (forget it: address reservations, endpoint records). BridgeNetworking
// (bridge-networking.ts, over src/adapters/network) implements the same interface and is passed to
// the engine in place of HostOrNoneNetworking; the engine itself knows no driver.
import type { HostConfig } from '../../core/containers/container-spec.js';
import type { NetworkNamespace } from '../../core/containers/oci-runtime-spec.js';
import { InvalidArgument } from '../../lib/errors.js';

/** One network of NetworkSettings.Networks, Docker's EndpointSettings. */
export interface EndpointSettings {
  readonly NetworkID: string;
  readonly EndpointID: string;
  readonly Gateway: string;
  readonly IPAddress: string;
  readonly IPPrefixLen: number;
  readonly MacAddress: string;
}

export interface NetworkAttachment {
  readonly namespace: NetworkNamespace;
  /** The container's own addresses, written to its /etc/hosts. */
  readonly addresses: readonly string[];
  /** network name -> endpoint, for NetworkSettings.Networks. */
  readonly networks: Readonly<Record<string, EndpointSettings>>;
}

export interface NetworkedContainer {
  readonly id: string;
  /** With the leading "/". */
  readonly name: string;
  readonly hostConfig: HostConfig;
}

export interface ContainerNetworking {
  /** The mode stored for a create request without NetworkMode (or "default"). */
  defaultMode(): string;
  /** At create: refuse a mode this host cannot provide (InvalidArgument / NotFound). */
  check(hostConfig: HostConfig): void;
  /** Before the runtime creates the container's process. */
  attach(c: NetworkedContainer): Promise<NetworkAttachment>;
  /** After the process exited (and before a restart attaches again); must tolerate repeats. */
  detach(c: NetworkedContainer): Promise<void>;
  /** After `docker rm`: the container is gone for good. */
  removed(c: NetworkedContainer): Promise<void>;
  /** NetworkSettings.Networks of the container now (the driver keeps its own endpoint state). */
  describe(c: NetworkedContainer): Readonly<Record<string, EndpointSettings>>;
  /** At create, with the request's endpoint settings (--network-alias, --ip) for the container's network; absent = not supported. */
  configure?(c: NetworkedContainer, endpoint: EndpointRequest): Promise<void>;
  /** The rest of NetworkSettings where the driver has it (published ports, the sandbox); absent = the engine's empty defaults. */
  settings?(c: NetworkedContainer, exposedPorts: readonly string[]): NetworkSettingsExtras;
}

/** EndpointsConfig[network] of a create request: what the client asks for, not what it gets. */
export interface EndpointRequest {
  readonly aliases: readonly string[];
  readonly ipv4Address?: string;
}

/** NetworkSettings fields besides Networks (ContainerJSON), and the Ports of the ps summary. */
export interface NetworkSettingsExtras {
  readonly SandboxKey: string;
  readonly Ports: Record<string, unknown>;
  readonly Bridge: string;
  /** The legacy top-level fields: Docker fills them from the default `bridge` network only. */
  readonly IPAddress: string;
  readonly IPPrefixLen: number;
  readonly Gateway: string;
  readonly MacAddress: string;
  /** ContainerSummary.Ports: {IP, PrivatePort, PublicPort, Type}. */
  readonly summaryPorts: readonly Record<string, unknown>[];
}

const EMPTY_ENDPOINT: EndpointSettings = { NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '' };

/**
 * `--network none` (a new, empty network namespace: loopback only) and `--network host` (the
 * host's namespace). Until the bridge driver is plugged in, "none" is the default.
 */
export class HostOrNoneNetworking implements ContainerNetworking {
  defaultMode(): string {
    return 'none';
  }

  check(hostConfig: HostConfig): void {
    const mode = hostConfig.NetworkMode ?? '';
    if (mode !== '' && mode !== 'default' && mode !== 'none' && mode !== 'host') {
      throw new InvalidArgument(`network ${mode} not found: this host provides the networks "none" and "host"`, { subject: 'HostConfig.NetworkMode' });
    }
  }

  attach(c: NetworkedContainer): Promise<NetworkAttachment> {
    const host = c.hostConfig.NetworkMode === 'host';
    return Promise.resolve({ namespace: host ? { kind: 'host' } : { kind: 'none' }, addresses: [], networks: this.describe(c) });
  }

  detach(): Promise<void> {
    return Promise.resolve();
  }

  removed(): Promise<void> {
    return Promise.resolve();
  }

  describe(c: NetworkedContainer): Readonly<Record<string, EndpointSettings>> {
    return { [c.hostConfig.NetworkMode === 'host' ? 'host' : 'none']: EMPTY_ENDPOINT };
  }
}
