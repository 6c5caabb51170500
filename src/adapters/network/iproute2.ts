// Links, addresses and routes through iproute2's `ip` (JSON output with -j), in the agent's
// namespace or, through nsenter, inside a container's network namespace file.
import { Internal } from '../../lib/errors.js';
import { runTool } from '../process/run-tool.js';

export interface RouteEntry {
  /** "default", "172.17.0.0/16" or a single address. */
  readonly dst: string;
  readonly dev?: string;
}

export interface EndpointAddress {
  readonly ifname: string;
  readonly cidr: string;
  readonly mac: string;
  /** Install the default route via this gateway (the first non-internal network of a container). */
  readonly defaultGateway?: string;
}

export class Iproute2 {
  /** `ip ARGS`, in the agent's namespace or inside `netnsPath`. */
  async ip(args: readonly string[], netnsPath?: string): Promise<string> {
    const r = netnsPath === undefined
      ? await runTool('ip', args, { debianPackage: 'iproute2' })
      : await runTool('nsenter', [`--net=${netnsPath}`, '--', 'ip', ...args], { debianPackage: 'util-linux' });
    return r.stdout;
  }

  async linkExists(name: string, netnsPath?: string): Promise<boolean> {
    try {
      await this.ip(['-o', 'link', 'show', 'dev', name], netnsPath);
      return true;
    } catch (e) {
      if (e instanceof Internal) return false;
      throw e;
    }
  }

  /** Interface names, in ifindex order. */
  async linkNames(netnsPath?: string): Promise<string[]> {
    const links = JSON.parse(await this.ip(['-j', 'link', 'show'], netnsPath)) as { ifname: string }[];
    return links.map((l) => l.ifname);
  }

  /** The bridge with the gateway address, up; creating whichever part is missing (after a reboot, all of it). */
  async ensureBridge(name: string, gatewayCidr: string): Promise<void> {
    if (!(await this.linkExists(name))) await this.ip(['link', 'add', 'name', name, 'type', 'bridge']);
    await this.ip(['addr', 'replace', gatewayCidr, 'dev', name]);
    await this.ip(['link', 'set', 'dev', name, 'up']);
  }

  async deleteLink(name: string): Promise<void> {
    if (await this.linkExists(name)) await this.ip(['link', 'delete', 'dev', name]);
  }

  /** IPv4 routes of the main table (to keep new subnets clear of networks the host already reaches). */
  async routes(): Promise<RouteEntry[]> {
    return JSON.parse(await this.ip(['-j', '-4', 'route', 'show'])) as RouteEntry[];
  }

  /**
   * A veth pair: `hostIfname` on `bridge` (hairpin on, so a container can reach its own published
   * port through the host address), its peer created directly inside the namespace as `addr.ifname`
   * with its address, MAC and (optionally) the default route.
   */
  async addEndpoint(netnsPath: string, hostIfname: string, bridge: string, addr: EndpointAddress): Promise<void> {
    await this.ip(['link', 'add', 'name', hostIfname, 'type', 'veth', 'peer', 'name', addr.ifname, 'netns', netnsPath]);
    try {
      await this.ip(['link', 'set', 'dev', hostIfname, 'master', bridge]);
      await runTool('bridge', ['link', 'set', 'dev', hostIfname, 'hairpin', 'on'], { debianPackage: 'iproute2' });
      await this.ip(['link', 'set', 'dev', hostIfname, 'up']);
      await this.ip(['link', 'set', 'dev', addr.ifname, 'address', addr.mac], netnsPath);
      await this.ip(['addr', 'add', addr.cidr, 'dev', addr.ifname], netnsPath);
      await this.ip(['link', 'set', 'dev', addr.ifname, 'up'], netnsPath);
      if (addr.defaultGateway !== undefined) await this.ip(['route', 'replace', 'default', 'via', addr.defaultGateway, 'dev', addr.ifname], netnsPath);
    } catch (e) {
      await this.deleteLink(hostIfname).catch(() => undefined);
      throw e;
    }
  }
}
