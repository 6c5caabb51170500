// What config.json generation needs to know about the agent's host, read once at start-up: the
// agent's hard rlimits and bounding capabilities (a container cannot get more than the agent
// holds), the cgroup layout, the host's resolv.conf and a static init for --init.
import { access, constants, readFile } from 'node:fs/promises';
import { capabilitiesOfMask } from '../../core/containers/capabilities.js';
import type { CgroupFeatures } from '../../core/containers/resources.js';
import { parseProcLimits, type HardLimits } from '../../core/containers/rlimits.js';
import { fromSystemError } from '../../lib/errors.js';
import { readCgroupFeatures, readCgroupHierarchy, type CgroupHierarchy } from '../cgroups/cgroup-hierarchy.js';

export interface HostFacts {
  readonly hardLimits: HardLimits;
  readonly capabilities: readonly string[];
  readonly cgroups: CgroupHierarchy;
  readonly cgroupFeatures: CgroupFeatures;
  readonly resolvConf: string;
  /** A statically linked tini, usable inside any image; undefined when none is installed. */
  readonly initPath: string | undefined;
  readonly arch: string;
}

/**
 * Static inits first: the binary is bind-mounted into images that may have no libc at all
 * (busybox, distroless). Debian's tini package ships /usr/bin/tini-static; Docker's is docker-init.
 */
export const INIT_CANDIDATES: readonly string[] = ['/usr/bin/tini-static', '/usr/libexec/docker/docker-init', '/usr/bin/docker-init'];

export async function readBoundingCapabilities(statusPath = '/proc/self/status'): Promise<string[]> {
  const text = await readFile(statusPath, 'utf8').catch((e: unknown) => {
    throw fromSystemError(e, statusPath, 'reading the capabilities of the agent');
  });
  const m = /^CapBnd:\s*([0-9a-fA-F]+)$/m.exec(text);
  return m?.[1] === undefined ? [] : capabilitiesOfMask(m[1]);
}

export async function readHardLimits(limitsPath = '/proc/self/limits'): Promise<HardLimits> {
  const text = await readFile(limitsPath, 'utf8').catch((e: unknown) => {
    throw fromSystemError(e, limitsPath, 'reading the rlimits of the agent');
  });
  return parseProcLimits(text);
}

export async function findStaticInit(candidates: readonly string[] = INIT_CANDIDATES): Promise<string | undefined> {
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return undefined;
}

export async function readHostFacts(): Promise<HostFacts> {
  const cgroups = await readCgroupHierarchy();
  return {
    hardLimits: await readHardLimits(),
    capabilities: await readBoundingCapabilities(),
    cgroups,
    cgroupFeatures: await readCgroupFeatures(cgroups),
    // No resolv.conf on the host: the container gets the fallback servers.
    resolvConf: await readFile('/etc/resolv.conf', 'utf8').catch(() => ''),
    initPath: await findStaticInit(),
    arch: process.arch,
  };
}
