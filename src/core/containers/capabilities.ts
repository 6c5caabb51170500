// Linux capabilities of a container's process, with Docker's rules: the default set, --cap-add and
// --cap-drop (names with or without CAP_, any case, and ALL), --privileged.
import { InvalidArgument } from '../../lib/errors.js';

/** capabilities(7), in bit order (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40, Linux 5.9). */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/**
 * Docker's default set (docs.docker.com "Runtime privilege and Linux capabilities": the 14
 * capabilities kept by default). As a mask this is 0x00000000a80425fb, what `grep CapEff
 * /proc/self/status` shows in a default `docker run`.
 */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** `net_admin`, `CAP_NET_ADMIN` and `Net_Admin` all name CAP_NET_ADMIN; `all` is ALL. */
export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!ALL_CAPABILITIES.includes(full)) throw new InvalidArgument(`unknown capability: "${name}"`, { subject: name });
  return full;
}

export interface CapabilityRequest {
  readonly privileged?: boolean;
  readonly capAdd?: readonly string[];
  readonly capDrop?: readonly string[];
}

/**
 * The capability set of the container process, in bit order. Docker's rules (moby
 * oci/caps TweakCapabilities): ALL in --cap-add means every capability except the dropped ones;
 * ALL in --cap-drop means only the added ones; otherwise drops apply to the defaults first and
 * adds after, so a capability both added and dropped is kept. --privileged means all of them.
 *
 * `available` (the agent's own bounding set) caps the result: a capability the agent does not
 * hold cannot be given to a container (capset(2) fails with EPERM), e.g. CAP_SYS_RESOURCE on a
 * host that withholds it.
 */
export function containerCapabilities(req: CapabilityRequest, available?: readonly string[]): string[] {
  const add = (req.capAdd ?? []).map(normalizeCapability);
  const drop = (req.capDrop ?? []).map(normalizeCapability);
  let set: Set<string>;
  if (req.privileged === true) set = new Set(ALL_CAPABILITIES);
  else if (add.includes('ALL')) set = new Set(ALL_CAPABILITIES.filter((c) => !drop.includes(c)));
  else if (drop.includes('ALL')) set = new Set(add);
  else set = new Set([...DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c)), ...add]);
  set.delete('ALL');
  return ALL_CAPABILITIES.filter((c) => set.has(c) && (available === undefined || available.includes(c)));
}

/** Capabilities present in a /proc/PID/status mask (`CapBnd:\t000001fffeffffff`). */
export function capabilitiesOfMask(hexMask: string): string[] {
  const mask = BigInt(`0x${hexMask.trim()}`);
  return ALL_CAPABILITIES.filter((_c, bit) => (mask >> BigInt(bit)) & 1n);
}

/** The mask of a set, as /proc/PID/status prints it (16 hex digits). */
export function capabilityMask(caps: readonly string[]): string {
  let mask = 0n;
  for (const c of caps) {
    const bit = ALL_CAPABILITIES.indexOf(c);
    if (bit < 0) throw new InvalidArgument(`unknown capability: "${c}"`);
    mask |= 1n << BigInt(bit);
  }
  return mask.toString(16).padStart(16, '0');
}
