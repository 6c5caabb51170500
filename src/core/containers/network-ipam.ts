// IPv4 address management for bridge networks, as Docker's default IPAM driver does it: a subnet
// per network taken from the default address pools unless the user names one, the gateway on the
// first host address, container addresses handed out from the rest (lowest free first), and a MAC
// derived from the address (02:42 + the four address bytes, libnetwork's genMAC).
import { Conflict, InvalidArgument, ResourceExhausted } from '../../lib/errors.js';

export interface Ipv4Subnet {
  /** The network address as a 32-bit unsigned number. */
  readonly network: number;
  readonly prefixLen: number;
}

/**
 * Docker's default address pools (libnetwork/ipamutils): 172.17-31.0.0/16, then 192.168.0.0/16 cut
 * into /20s. The default `bridge` network takes the first one that is free.
 */
export const DEFAULT_ADDRESS_POOLS: readonly { readonly base: string; readonly size: number }[] = [
  ...Array.from({ length: 15 }, (_, i) => ({ base: `172.${17 + i}.0.0/16`, size: 16 })),
  { base: '192.168.0.0/16', size: 20 },
];

/** Strict dotted-quad (Go's net.ParseIP refuses leading zeros too). */
export function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (m === null) return undefined;
  let n = 0;
  for (const part of m.slice(1)) {
    if (part.length > 1 && part.startsWith('0')) return undefined;
    const v = Number(part);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefixLen: number): number {
  return prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
}

export function subnetSize(s: Ipv4Subnet): number {
  return 2 ** (32 - s.prefixLen);
}

export function formatSubnet(s: Ipv4Subnet): string {
  return `${formatIPv4(s.network)}/${s.prefixLen}`;
}

/** "A.B.C.D/N" -> subnet; the address must be the network address (Docker refuses "172.20.0.5/16" too). */
export function parseSubnet(s: string, field = 'Subnet'): Ipv4Subnet {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(s);
  const addr = m === null ? undefined : parseIPv4(m[1] ?? '');
  const prefixLen = m === null ? NaN : Number(m[2]);
  if (addr === undefined || !(prefixLen >= 0 && prefixLen <= 32)) {
    throw new InvalidArgument(`invalid ${field} ${JSON.stringify(s)}: expected an IPv4 CIDR like 172.20.0.0/16`, { subject: field });
  }
  const network = (addr & mask(prefixLen)) >>> 0;
  if (network !== addr) {
    throw new InvalidArgument(`invalid ${field} ${s}: it should be ${formatIPv4(network)}/${prefixLen}`, { subject: field });
  }
  // /31 and /32 leave no room for a gateway plus a container.
  if (prefixLen > 30) throw new InvalidArgument(`invalid ${field} ${s}: a bridge network needs at least a /30`, { subject: field });
  return { network, prefixLen };
}

export function subnetContains(s: Ipv4Subnet, addr: number): boolean {
  return ((addr & mask(s.prefixLen)) >>> 0) === s.network;
}

export function subnetsOverlap(a: Ipv4Subnet, b: Ipv4Subnet): boolean {
  const p = Math.min(a.prefixLen, b.prefixLen);
  return ((a.network & mask(p)) >>> 0) === ((b.network & mask(p)) >>> 0);
}

/** The first subnet of the default pools that overlaps none of `used` (other networks, host routes). */
export function pickSubnet(used: readonly Ipv4Subnet[], pools = DEFAULT_ADDRESS_POOLS): Ipv4Subnet {
  for (const pool of pools) {
    const base = parseSubnet(pool.base);
    const count = 2 ** (pool.size - base.prefixLen);
    for (let i = 0; i < count; i++) {
      const candidate = { network: base.network + i * 2 ** (32 - pool.size), prefixLen: pool.size };
      if (!used.some((u) => subnetsOverlap(u, candidate))) return candidate;
    }
  }
  throw new ResourceExhausted('all predefined address pools have been fully subnetted', { subject: 'Subnet' });
}

/** The gateway: the one given (inside the subnet, a host address), else the first host address. */
export function gatewayOf(subnet: Ipv4Subnet, gateway?: string): number {
  if (gateway === undefined || gateway === '') return subnet.network + 1;
  const g = parseIPv4(gateway);
  if (g === undefined) throw new InvalidArgument(`invalid Gateway ${JSON.stringify(gateway)}: not an IPv4 address`, { subject: 'Gateway' });
  if (!isHostAddress(subnet, g)) throw new InvalidArgument(`invalid Gateway ${gateway}: not a host address of ${formatSubnet(subnet)}`, { subject: 'Gateway' });
  return g;
}

function isHostAddress(subnet: Ipv4Subnet, a: number): boolean {
  return subnetContains(subnet, a) && a !== subnet.network && a !== subnet.network + subnetSize(subnet) - 1;
}

/**
 * An address for a new endpoint: `requested` if given (must be a free host address of the subnet),
 * else the lowest free host address. `allocated` holds the gateway and every endpoint's address.
 */
export function allocateAddress(subnet: Ipv4Subnet, allocated: ReadonlySet<number>, requested?: string): number {
  if (requested !== undefined && requested !== '') {
    const a = parseIPv4(requested);
    if (a === undefined) throw new InvalidArgument(`invalid IPv4Address ${JSON.stringify(requested)}`, { subject: 'IPv4Address' });
    if (!isHostAddress(subnet, a)) {
      throw new InvalidArgument(`invalid IPv4Address ${requested}: not a host address of ${formatSubnet(subnet)}`, { subject: 'IPv4Address' });
    }
    if (allocated.has(a)) throw new Conflict(`Address already in use: ${requested}`, { subject: 'IPv4Address' });
    return a;
  }
  const last = subnet.network + subnetSize(subnet) - 1;
  for (let a = subnet.network + 1; a < last; a++) if (!allocated.has(a)) return a;
  throw new ResourceExhausted(`no available IPv4 addresses on network ${formatSubnet(subnet)}`, { subject: 'IPv4Address' });
}

/** libnetwork genMAC: 02:42 then the IPv4 address bytes, so a container's MAC is stable with its address. */
export function macFromIPv4(addr: number): string {
  const bytes = [0x02, 0x42, addr >>> 24, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
