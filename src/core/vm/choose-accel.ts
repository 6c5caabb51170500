// Which QEMU accelerator a VM gets. `/dev/kvm` existing is not enough: on PVM hosts (a kvm_pvm
// module serving guests of a VM that has no hardware virtualization) it opens fine, yet stock
// guests hang or fail at once. KVM is chosen only when the CPU advertises vmx (Intel VT-x) or
// svm (AMD-V), the PVM module is absent and /dev/kvm can be opened read-write.
import { FailedPrecondition, InvalidArgument } from '../../lib/errors.js';

export type AccelRequest = 'auto' | 'kvm' | 'tcg';
export type Accel = 'kvm' | 'tcg';

export interface AccelProbe {
  /** The text of /proc/cpuinfo. */
  readonly cpuinfo: string;
  /** /sys/module/kvm_pvm exists. */
  readonly kvmPvmLoaded: boolean;
  /** /dev/kvm exists and opens read-write. */
  readonly devKvmUsable: boolean;
}

export interface AccelChoice {
  readonly accel: Accel;
  readonly reason: string;
}

export const ACCEL_REQUESTS: readonly AccelRequest[] = ['auto', 'kvm', 'tcg'];

export function isAccelRequest(s: string): s is AccelRequest {
  return (ACCEL_REQUESTS as readonly string[]).includes(s);
}

/** The CPU flags of /proc/cpuinfo (x86 `flags`, arm `Features`), from the first processor block. */
export function cpuFlags(cpuinfo: string): ReadonlySet<string> {
  for (const line of cpuinfo.split('\n')) {
    const m = /^(?:flags|Features)\s*:\s*(.*)$/.exec(line);
    if (m !== null) return new Set(m[1]!.trim().split(/\s+/).filter((f) => f !== ''));
  }
  return new Set();
}

/** Why KVM cannot run a stock guest here, or undefined when it can. */
export function kvmUnusableReason(probe: AccelProbe): string | undefined {
  if (probe.kvmPvmLoaded) {
    return 'the host runs PVM (/sys/module/kvm_pvm is present): its /dev/kvm cannot run stock guests';
  }
  const flags = cpuFlags(probe.cpuinfo);
  if (!flags.has('vmx') && !flags.has('svm')) {
    return 'the CPU has no hardware virtualization (no vmx or svm flag in /proc/cpuinfo)';
  }
  if (!probe.devKvmUsable) return '/dev/kvm is missing or cannot be opened read-write';
  return undefined;
}

export function chooseAccel(requested: AccelRequest, probe: AccelProbe): AccelChoice {
  if (!isAccelRequest(requested)) {
    throw new InvalidArgument(`unknown accelerator ${JSON.stringify(requested)}: expected auto, kvm or tcg`, { subject: '--accel' });
  }
  if (requested === 'tcg') return { accel: 'tcg', reason: 'TCG was requested' };
  const why = kvmUnusableReason(probe);
  if (why === undefined) return { accel: 'kvm', reason: requested === 'kvm' ? 'KVM was requested and works here' : 'KVM works here' };
  if (requested === 'kvm') throw new FailedPrecondition(`KVM cannot be used: ${why}; use --accel tcg or auto`, { subject: '--accel kvm' });
  return { accel: 'tcg', reason: `TCG (software emulation): ${why}` };
}
