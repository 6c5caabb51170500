// Deployment: one entry of a sysroot's boot list, as plain readonly data (upstream names:
// stateroot, csum, deployserial, bootserial, bootcsum, pinned, staged). The binding's opaque
// handle is not part of it: a Sysroot keeps the handles of the deployments it returned in a
// WeakMap, so a Deployment can be logged, compared and serialized like any other value.
import type * as Native from '../../../native/index.js';

export type DeploymentUnlockedState = 'none' | 'development' | 'hotfix' | 'transient';

export interface Deployment {
  /** The stateroot (libostree's "osname"): ostree/deploy/STATEROOT/. */
  readonly stateroot: string;
  /** Commit checksum. */
  readonly csum: string;
  /** Distinguishes several deployments of one commit: the directory is CSUM.DEPLOYSERIAL. */
  readonly deployserial: number;
  readonly bootserial: number;
  /** Checksum of the kernel + initramfs (the /boot/ostree/STATEROOT-BOOTCSUM directory). */
  readonly bootcsum: string;
  /** Position in the boot order (0 = default); -1 for a new deployment not yet written. */
  readonly index: number;
  /** Kept by cleanups and simple writes (ostree admin pin). */
  readonly pinned: boolean;
  /** Staged: finalized at shutdown (only on a booted system). */
  readonly staged: boolean;
  /** The running system booted from this deployment. */
  readonly booted: boolean;
  readonly unlocked: DeploymentUnlockedState;
  /** origin/refspec from the origin file, e.g. "origin:os/x86_64/stable". */
  readonly originRefspec: string | undefined;
  /** The whole origin keyfile. */
  readonly origin: string | undefined;
  /** Kernel arguments from the BLS entry's `options` (including ostree=...). */
  readonly kargs: readonly string[];
  /** Absolute path of the deployment directory. */
  readonly path: string;
}

export function toDeployment(info: Native.DeploymentInfo): Deployment {
  return Object.freeze({
    stateroot: info.osname,
    csum: info.csum,
    deployserial: info.deployserial,
    bootserial: info.bootserial,
    bootcsum: info.bootcsum,
    index: info.index,
    pinned: info.isPinned,
    staged: info.isStaged,
    booted: info.isBooted,
    unlocked: info.unlocked,
    originRefspec: info.originRefspec ?? undefined,
    origin: info.origin ?? undefined,
    kargs: Object.freeze([...info.kargs]),
    path: info.path,
  });
}

/** "stateroot csum.deployserial", as `ostree admin status` prints a deployment. */
export function describeDeployment(d: Pick<Deployment, 'stateroot' | 'csum' | 'deployserial'>): string {
  return `${d.stateroot} ${d.csum}.${d.deployserial}`;
}
