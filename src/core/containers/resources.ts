// HostConfig resource limits -> OCI linux.resources, with Docker's checks and defaults
// (daemon/daemon_unix.go verifyPlatformContainerResources and adaptContainerSettings;
// daemon/oci_linux.go getMemoryResources/getCPUResources/getPidsLimit). The OCI fields are the
// cgroup v1 vocabulary (memory.swap = memory+swap, cpu.shares); runc and crun translate them to
// cgroup v2 files themselves (runc libcontainer/cgroups/fs2, crun src/libcrun/cgroup-resources.c).
import { Conflict, InvalidArgument } from '../../lib/errors.js';
import type { HostConfig } from './container-spec.js';
import type { OciResources } from './oci-spec.js';

export type CgroupMode = 'v1' | 'hybrid' | 'v2';

/** What the host's cgroups can enforce; the adapter fills it from /sys/fs/cgroup. */
export interface CgroupFeatures {
  readonly mode: CgroupMode;
  readonly memoryLimit: boolean;
  /** v1 memory.memsw.* (swap accounting), or v2 memory.swap.max. */
  readonly swapLimit: boolean;
  readonly cpuShares: boolean;
  readonly cpuCfs: boolean;
  readonly cpuset: boolean;
  readonly pidsLimit: boolean;
  /** v1 blkio.weight / blkio.bfq.weight or v2 io.weight / io.bfq.weight: absent without CFQ/BFQ. */
  readonly blkioWeight: boolean;
  /** Online CPUs (NanoCpus cannot ask for more). */
  readonly cpuCount: number;
}

/** Docker's floor (linuxMinMemory): below this a container cannot even start its runtime. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;
/** sched-bwc.txt: the period Docker uses for --cpus. */
export const CFS_PERIOD_US = 100_000;

export interface AdaptedResources {
  readonly hostConfig: HostConfig;
  readonly warnings: readonly string[];
}

/**
 * Check the resource fields of `hc` against the host and apply Docker's defaults. Errors are
 * InvalidArgument (Docker answers 400); what the host cannot enforce is dropped with a warning,
 * the text Docker uses, as Docker returns it in `Warnings`.
 */
export function adaptResources(hc: HostConfig, f: CgroupFeatures, opts: { update?: boolean } = {}): AdaptedResources {
  const warnings: string[] = [];
  let memory = hc.Memory ?? 0;
  let swap = hc.MemorySwap ?? 0;
  let reservation = hc.MemoryReservation ?? 0;
  let swappiness = hc.MemorySwappiness ?? undefined;
  let oomKillDisable = hc.OomKillDisable ?? false;
  let blkioWeight = hc.BlkioWeight ?? 0;
  let pidsLimit = hc.PidsLimit ?? undefined;
  let cpuShares = hc.CpuShares ?? 0;
  let cpuQuota = hc.CpuQuota ?? 0;
  let cpuPeriod = hc.CpuPeriod ?? 0;
  let nanoCpus = hc.NanoCpus ?? 0;
  let cpusetCpus = hc.CpusetCpus ?? '';
  let cpusetMems = hc.CpusetMems ?? '';

  if (memory < 0) throw new InvalidArgument('invalid memory limit: it must be positive');
  if (memory > 0 && memory < MIN_MEMORY_BYTES) throw new InvalidArgument('Minimum memory limit allowed is 6MB');
  // Docker: "By default, MemorySwap is set to twice the size of Memory" (creation only).
  if (opts.update !== true && memory > 0 && swap === 0) swap = memory * 2;
  if (memory > 0 && !f.memoryLimit) {
    warnings.push('Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.');
    memory = 0;
    swap = -1;
  }
  if (memory > 0 && swap !== -1 && swap !== 0 && !f.swapLimit) {
    warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
    swap = -1;
  }
  if (memory > 0 && swap > 0 && swap < memory) throw new InvalidArgument('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (memory === 0 && swap > 0 && opts.update !== true) throw new InvalidArgument('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (swappiness !== undefined && swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw new InvalidArgument(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  }
  if (swappiness !== undefined && f.mode === 'v2') {
    // cgroup v2 has no per-cgroup swappiness (runc ignores it with a warning; Docker warns too).
    warnings.push('Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.');
    swappiness = undefined;
  }
  if (reservation < 0) throw new InvalidArgument('invalid memory reservation: it must be positive');
  if (reservation > 0 && reservation < MIN_MEMORY_BYTES) throw new InvalidArgument('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) throw new InvalidArgument('Minimum memory limit can not be less than memory reservation limit, see usage');
  if (reservation > 0 && !f.memoryLimit) {
    warnings.push('Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.');
    reservation = 0;
  }
  if (oomKillDisable && memory === 0) {
    warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  }
  if (oomKillDisable && f.mode === 'v2') {
    warnings.push('Your kernel does not support OomKillDisable. OomKillDisable discarded.');
    oomKillDisable = false;
  }

  if (cpuShares < 0) throw new InvalidArgument(`invalid CPU shares (${cpuShares}): value must be a positive integer`);
  if (cpuShares > 0 && !f.cpuShares) {
    warnings.push('Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.');
    cpuShares = 0;
  }
  if (nanoCpus > 0 && (cpuPeriod > 0 || cpuQuota > 0)) throw new InvalidArgument('Conflicting options: Nano CPUs and CPU Period/Quota cannot both be set');
  if (nanoCpus < 0 || nanoCpus > f.cpuCount * 1e9) {
    throw new InvalidArgument(`Range of CPUs is from 0.01 to ${f.cpuCount}.00, as there are only ${f.cpuCount} CPUs available`);
  }
  if (cpuPeriod !== 0 && (cpuPeriod < 1000 || cpuPeriod > 1_000_000)) throw new InvalidArgument('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (cpuQuota > 0 && cpuQuota < 1000) throw new InvalidArgument('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if ((nanoCpus > 0 || cpuPeriod > 0 || cpuQuota > 0) && !f.cpuCfs) {
    warnings.push('Your kernel does not support CPU CFS scheduler or the cgroup is not mounted. CPU limits discarded.');
    nanoCpus = 0;
    cpuPeriod = 0;
    cpuQuota = 0;
  }
  for (const [what, value] of [['cpuset-cpus', cpusetCpus], ['cpuset-mems', cpusetMems]] as const) {
    if (value !== '' && !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(value)) throw new InvalidArgument(`Invalid value ${value} for ${what}`);
  }
  if (cpusetCpus !== '') {
    const tooHigh = cpusetCpus.split(/[,-]/).map(Number).find((n) => n >= f.cpuCount);
    if (tooHigh !== undefined) throw new InvalidArgument(`Requested CPUs are not available - requested ${cpusetCpus}, available: 0-${f.cpuCount - 1}`);
  }
  if ((cpusetCpus !== '' || cpusetMems !== '') && !f.cpuset) {
    warnings.push('Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.');
    cpusetCpus = '';
    cpusetMems = '';
  }

  if (blkioWeight > 0 && (blkioWeight < 10 || blkioWeight > 1000)) throw new InvalidArgument('Range of blkio weight is from 10 to 1000');
  if (blkioWeight > 0 && !f.blkioWeight) {
    warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
    blkioWeight = 0;
  }
  if (pidsLimit !== undefined && pidsLimit !== null && pidsLimit > 0 && !f.pidsLimit) {
    warnings.push('Your kernel does not support pids limit capabilities or the cgroup is not mounted. PIDs limit discarded.');
    pidsLimit = undefined;
  }

  return {
    hostConfig: {
      ...hc,
      Memory: memory,
      MemorySwap: swap,
      MemoryReservation: reservation,
      MemorySwappiness: swappiness ?? null,
      OomKillDisable: oomKillDisable,
      CpuShares: cpuShares,
      CpuQuota: cpuQuota,
      CpuPeriod: cpuPeriod,
      NanoCpus: nanoCpus,
      CpusetCpus: cpusetCpus,
      CpusetMems: cpusetMems,
      BlkioWeight: blkioWeight,
      PidsLimit: pidsLimit ?? null,
    },
    warnings,
  };
}

/**
 * linux.resources (without devices) for a checked HostConfig. Only set fields appear: an absent
 * field leaves the cgroup's value alone, which is also what `update` needs.
 */
export function ociResources(hc: HostConfig, mode: CgroupMode, unified?: Readonly<Record<string, string>>): OciResources {
  const r: OciResources = {};
  const memory: NonNullable<OciResources['memory']> = {};
  if ((hc.Memory ?? 0) > 0) memory.limit = hc.Memory as number;
  if ((hc.MemoryReservation ?? 0) > 0) memory.reservation = hc.MemoryReservation as number;
  // -1 (unlimited) is left out like Docker does: a host without swap accounting has no memsw file
  // to write it to. updateResources adds it when lifting an earlier limit.
  if ((hc.MemorySwap ?? 0) > 0) memory.swap = hc.MemorySwap as number;
  if (hc.MemorySwappiness !== undefined && hc.MemorySwappiness !== null && hc.MemorySwappiness >= 0) memory.swappiness = hc.MemorySwappiness;
  if (hc.OomKillDisable === true) memory.disableOOMKiller = true;
  if (Object.keys(memory).length > 0) r.memory = memory;

  const cpu: NonNullable<OciResources['cpu']> = {};
  if ((hc.CpuShares ?? 0) > 0) cpu.shares = hc.CpuShares as number;
  if ((hc.NanoCpus ?? 0) > 0) {
    cpu.period = CFS_PERIOD_US;
    cpu.quota = Math.floor(((hc.NanoCpus as number) * CFS_PERIOD_US) / 1e9);
  }
  if ((hc.CpuPeriod ?? 0) > 0) cpu.period = hc.CpuPeriod as number;
  if ((hc.CpuQuota ?? 0) !== 0) cpu.quota = hc.CpuQuota as number;
  if ((hc.CpusetCpus ?? '') !== '') cpu.cpus = hc.CpusetCpus as string;
  if ((hc.CpusetMems ?? '') !== '') cpu.mems = hc.CpusetMems as string;
  if (Object.keys(cpu).length > 0) r.cpu = cpu;

  // Docker getPidsLimit: 0 and negative mean unlimited, which at create is no pids entry at all
  // (crun writes a -1 verbatim and the v1 pids.max refuses it). updateResources asks for -1
  // explicitly when lifting an earlier limit.
  if (hc.PidsLimit !== undefined && hc.PidsLimit !== null && hc.PidsLimit > 0) r.pids = { limit: hc.PidsLimit };
  if ((hc.BlkioWeight ?? 0) > 0) r.blockIO = { weight: hc.BlkioWeight as number };
  // `unified` keys are cgroup v2 file names; runc rejects the whole config on v1 ("cannot use
  // unified on cgroup v1") and crun on a hybrid host would write them to the v2 mount.
  if (unified !== undefined && Object.keys(unified).length > 0 && mode === 'v2') r.unified = { ...unified };
  return r;
}

export interface ResourceUpdate {
  /** The container's HostConfig with the update applied (what to store). */
  readonly hostConfig: HostConfig;
  /** Only the changed fields, for `runc update --resources` / `crun update --resources`. */
  readonly resources: OciResources;
  readonly warnings: readonly string[];
}

const RESOURCE_KEYS = [
  'Memory', 'MemorySwap', 'MemoryReservation', 'CpuShares', 'NanoCpus', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems',
  'BlkioWeight', 'PidsLimit',
] as const;

/**
 * `docker update`: merge the changed resource fields into the container's HostConfig, with
 * Docker's extra rule (daemon/update.go) that raising Memory above an existing memory+swap limit
 * needs MemorySwap in the same update.
 */
export function updateResources(current: HostConfig, patch: Pick<HostConfig, (typeof RESOURCE_KEYS)[number]>, f: CgroupFeatures): ResourceUpdate {
  const curSwap = current.MemorySwap ?? 0;
  if ((patch.Memory ?? 0) > 0 && patch.MemorySwap === undefined && curSwap > 0 && (patch.Memory as number) > curSwap) {
    throw new Conflict('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  }
  const changed: Partial<Record<(typeof RESOURCE_KEYS)[number], unknown>> = {};
  for (const k of RESOURCE_KEYS) if (patch[k] !== undefined) changed[k] = patch[k];
  const merged: HostConfig = { ...current, ...(changed as HostConfig) };
  // NanoCpus and CpuQuota/CpuPeriod exclude each other: setting one clears the other.
  const m = { ...merged } as { -readonly [K in keyof HostConfig]: HostConfig[K] };
  if (patch.NanoCpus !== undefined && patch.NanoCpus > 0) {
    m.CpuQuota = 0;
    m.CpuPeriod = 0;
  } else if ((patch.CpuQuota ?? 0) !== 0 || (patch.CpuPeriod ?? 0) !== 0) m.NanoCpus = 0;
  const { hostConfig, warnings } = adaptResources(m, f, { update: true });
  // Only what changed goes to the runtime; for memory the limit and swap go together, so runc's
  // v1 ordering (memsw before memory when raising) sees both.
  const only: HostConfig = {};
  const o = only as { -readonly [K in keyof HostConfig]: HostConfig[K] };
  if (patch.Memory !== undefined || patch.MemorySwap !== undefined) {
    o.Memory = hostConfig.Memory;
    o.MemorySwap = hostConfig.MemorySwap;
  }
  if (patch.MemoryReservation !== undefined) o.MemoryReservation = hostConfig.MemoryReservation;
  if (patch.CpuShares !== undefined) o.CpuShares = hostConfig.CpuShares;
  if (patch.NanoCpus !== undefined || patch.CpuQuota !== undefined || patch.CpuPeriod !== undefined) {
    o.NanoCpus = hostConfig.NanoCpus;
    o.CpuQuota = hostConfig.CpuQuota;
    o.CpuPeriod = hostConfig.CpuPeriod;
  }
  if (patch.CpusetCpus !== undefined) o.CpusetCpus = hostConfig.CpusetCpus;
  if (patch.CpusetMems !== undefined) o.CpusetMems = hostConfig.CpusetMems;
  if (patch.BlkioWeight !== undefined) o.BlkioWeight = hostConfig.BlkioWeight;
  if (patch.PidsLimit !== undefined) o.PidsLimit = patch.PidsLimit === null || patch.PidsLimit <= 0 ? -1 : hostConfig.PidsLimit;
  const resources = ociResources(only, f.mode);
  // Lifting a pids limit: runc turns the explicit -1 into "max".
  if (o.PidsLimit === -1) resources.pids = { limit: -1 };
  // Lifting a memory+swap limit: runc/crun need an explicit -1 (memory.memsw.limit_in_bytes).
  if (patch.MemorySwap === -1 && f.swapLimit) resources.memory = { ...resources.memory, swap: -1 };
  // Lifting a CPU limit: the runtime needs an explicit -1 quota (cgroup v1 cpu.cfs_quota_us).
  if ((patch.NanoCpus === 0 || patch.CpuQuota === -1) && resources.cpu?.quota === undefined) resources.cpu = { ...resources.cpu, quota: -1 };
  return { hostConfig, resources, warnings };
}
