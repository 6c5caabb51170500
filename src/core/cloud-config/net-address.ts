// Address syntax for network-config and meta-data checks. Written out here because core may not
// import node:net (its isIP is the world-free part, but the layer rule bans the module).

/** Dotted-quad IPv4, four decimal octets 0-255 without leading zeros (Python's ipaddress rule). */
export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(?:0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

/** RFC 4291 text form: up to eight groups, one `::`, optionally ending in an IPv4 address. */
export function isIPv6(s: string): boolean {
  const zone = s.indexOf('%');
  const addr = zone >= 0 ? s.slice(0, zone) : s;
  if (zone >= 0 && zone === s.length - 1) return false;
  if (!/^[0-9A-Fa-f:.]+$/.test(addr)) return false;
  const halves = addr.split('::');
  if (halves.length > 2) return false;
  const groups = (h: string): string[] => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  const all = [...head, ...tail];
  let count = all.length;
  const last = all[all.length - 1];
  if (last !== undefined && last.includes('.')) {
    if (!isIPv4(last)) return false;
    all.pop();
    count += 1; // an embedded IPv4 address fills two groups
  }
  if (!all.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? count <= 7 : count === 8;
}

export function isIP(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

export interface Cidr {
  readonly version: 4 | 6;
  readonly address: string;
  /** Undefined when the text had no `/prefix`. */
  readonly prefix?: number;
}

/** `192.0.2.1/24`, `2001:db8::1/64`, or a bare address; IPv4 also takes a netmask after `/`. */
export function parseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf('/');
  const address = slash < 0 ? s : s.slice(0, slash);
  const version = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (version === undefined) return undefined;
  if (slash < 0) return { version, address };
  const p = s.slice(slash + 1);
  if (/^(?:0|[1-9][0-9]{0,2})$/.test(p)) {
    const prefix = Number(p);
    return prefix <= (version === 4 ? 32 : 128) ? { version, address, prefix } : undefined;
  }
  if (version === 4) {
    const prefix = netmaskPrefix(p);
    return prefix === undefined ? undefined : { version, address, prefix };
  }
  return undefined;
}

/** 255.255.255.0 -> 24; undefined unless the mask is contiguous ones then zeros. */
export function netmaskPrefix(mask: string): number | undefined {
  if (!isIPv4(mask)) return undefined;
  const bits = mask.split('.').map((o) => Number(o).toString(2).padStart(8, '0')).join('');
  return /^1*0*$/.test(bits) ? bits.indexOf('0') < 0 ? 32 : bits.indexOf('0') : undefined;
}

/** Colon-separated hex octets: 6 for Ethernet, 20 for InfiniBand (cloud-init accepts both). */
export function isMacAddress(s: string): boolean {
  return /^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}$/.test(s) || /^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){19}$/.test(s);
}

/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, up to 253 characters. */
export function isHostname(s: string): boolean {
  const label = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
  const name = s.endsWith('.') ? s.slice(0, -1) : s;
  return name.length > 0 && name.length <= 253 && name.split('.').every((l) => label.test(l));
}

/** An absolute http(s) URL with a host: what #include lists and fleet_lock base_url may hold. */
export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}
