// Which registries may be reached over plain HTTP. Docker's rule (daemon "insecure-registries"):
// loopback registries (127.0.0.0/8, ::1, localhost) and those the administrator lists, by
// host[:port] or CIDR, are "insecure": tried over HTTPS without certificate checks first, then over
// HTTP. Every other registry is HTTPS with verified certificates, and asking for http:// to one
// is refused before any connection is made.
import { isIP } from 'node:net';

/** The host of `host[:port]`, without IPv6 brackets. */
export function hostOf(domain: string): string {
  if (domain.startsWith('[')) {
    const end = domain.indexOf(']');
    return end < 0 ? domain : domain.slice(1, end);
  }
  const colon = domain.lastIndexOf(':');
  return colon < 0 ? domain : domain.slice(0, colon);
}

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/** `http://10.0.0.5:5000/` -> `10.0.0.5:5000`: what a user may write in the insecure list. */
export function normalizeRegistryEntry(entry: string): string {
  return entry.trim().replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '').toLowerCase();
}

function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function inCidr(host: string, cidr: string): boolean {
  const [net, bitsText] = cidr.split('/');
  if (net === undefined || bitsText === undefined || isIP(net) !== 4 || isIP(host) !== 4) return false;
  const bits = Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(ipv4ToNumber(host) / size) === Math.floor(ipv4ToNumber(net) / size);
}

/** Whether `domain` (host[:port]) may be reached without verified TLS. */
export function isInsecureRegistry(domain: string, insecureRegistries: readonly string[]): boolean {
  const d = domain.toLowerCase();
  const host = hostOf(d);
  if (isLoopbackHost(host)) return true;
  return insecureRegistries.some((raw) => {
    const entry = normalizeRegistryEntry(raw);
    return entry === d || entry === host || (entry.includes('/') && inCidr(host, entry));
  });
}

/** Docker Hub's API is not served at docker.io itself. */
export function apiHost(domain: string): string {
  return domain === 'docker.io' ? 'registry-1.docker.io' : domain;
}
