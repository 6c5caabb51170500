// Port forwards of `atomic image boot --forward HOST:GUEST`: QEMU's user networking (slirp)
// `hostfwd`, always bound to 127.0.0.1 so a booted test image is never reachable from outside.
import { InvalidArgument } from '../../lib/errors.js';

export interface PortForward {
  readonly hostPort: number;
  readonly guestPort: number;
}

/**
 * `guestfwd`: a guest connection to guestAddr:guestPort (inside slirp's 10.0.2.0/24) reaches
 * host:hostPort on the host, e.g. a registry on 127.0.0.1 seen by the guest as 10.0.2.100:5000.
 */
export interface GuestForward {
  readonly guestAddr: string;
  readonly guestPort: number;
  readonly host: string;
  readonly hostPort: number;
}

/** A TCP port 1..65535 written as plain decimal digits, else undefined. */
export function parsePort(s: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** `HOST:GUEST` (`2222:22`), `127.0.0.1:HOST:GUEST` also accepted (the only allowed address). */
export function parseForward(text: string, flag = '--forward'): PortForward {
  const parts = text.split(':');
  if (parts.length === 3 && parts[0] === '127.0.0.1') parts.shift();
  else if (parts.length === 3) {
    throw new InvalidArgument(`${JSON.stringify(text)}: forwards bind to 127.0.0.1 only, not ${parts[0]}`, { subject: flag });
  }
  const hostPort = parts.length === 2 ? parsePort(parts[0]!) : undefined;
  const guestPort = parts.length === 2 ? parsePort(parts[1]!) : undefined;
  if (hostPort === undefined || guestPort === undefined) {
    throw new InvalidArgument(`${JSON.stringify(text)}: expected HOST:GUEST, two TCP ports 1-65535 (e.g. 2222:22)`, { subject: flag });
  }
  return { hostPort, guestPort };
}

const IPV4 = /^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$/;

export function isIpv4(s: string): boolean {
  return IPV4.test(s);
}

/** Reject forwards QEMU would refuse (or that would open more than loopback), naming the field. */
export function checkForwards(forwards: readonly PortForward[], guestForwards: readonly GuestForward[]): void {
  const seen = new Set<number>();
  forwards.forEach((f, i) => {
    const subject = `forwards[${i}]`;
    if (!Number.isInteger(f.hostPort) || f.hostPort < 1 || f.hostPort > 65535) throw new InvalidArgument(`hostPort ${f.hostPort} is not a TCP port`, { subject });
    if (!Number.isInteger(f.guestPort) || f.guestPort < 1 || f.guestPort > 65535) throw new InvalidArgument(`guestPort ${f.guestPort} is not a TCP port`, { subject });
    if (seen.has(f.hostPort)) throw new InvalidArgument(`host port ${f.hostPort} is forwarded twice`, { subject });
    seen.add(f.hostPort);
  });
  guestForwards.forEach((g, i) => {
    const subject = `guestForwards[${i}]`;
    if (!isIpv4(g.guestAddr)) throw new InvalidArgument(`guestAddr ${JSON.stringify(g.guestAddr)} is not an IPv4 address`, { subject });
    if (!isIpv4(g.host)) throw new InvalidArgument(`host ${JSON.stringify(g.host)} is not an IPv4 address`, { subject });
    for (const [k, v] of [['guestPort', g.guestPort], ['hostPort', g.hostPort]] as const) {
      if (!Number.isInteger(v) || v < 1 || v > 65535) throw new InvalidArgument(`${k} ${v} is not a TCP port`, { subject });
    }
  });
}
