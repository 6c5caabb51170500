// `docker stats` JSON (Engine API GET /containers/{id}/stats, api/types StatsResponse) from a
// cgroup sample. precpu_stats is the engine's previous sample of the same container (zeros the
// first time, as dockerd sends with stream=false and one-shot); system_cpu_usage is the host's
// total CPU time from /proc/stat in nanoseconds, the denominator `docker stats` divides by.
import { readFile } from 'node:fs/promises';
import type { CgroupStats } from '../../adapters/cgroups/cgroup-stats.js';

export interface CpuStatsJSON {
  cpu_usage: { total_usage: number; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface StatsJSON {
  name: string;
  id: string;
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: {
    io_service_bytes_recursive: { major: number; minor: number; op: string; value: number }[] | null;
    io_serviced_recursive: null;
    io_queue_recursive: null;
    io_service_time_recursive: null;
    io_wait_time_recursive: null;
    io_merged_recursive: null;
    io_time_recursive: null;
    sectors_recursive: null;
  };
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStatsJSON;
  precpu_stats: CpuStatsJSON;
  memory_stats: { usage?: number; max_usage?: number; stats?: Record<string, number>; failcnt?: number; limit?: number };
  networks?: Record<string, unknown>;
}

/** A sample as kept for the next precpu_stats. */
export interface StatsSample {
  readonly read: string;
  readonly cpu: CpuStatsJSON;
}

export const ZERO_TIME_NANO = '0001-01-01T00:00:00Z';

/** Host CPU time in ns: the sum of the `cpu` line of /proc/stat (USER_HZ = 100 ticks per second). */
export async function readSystemCpuUsageNs(procStat = '/proc/stat'): Promise<number | undefined> {
  const text = await readFile(procStat, 'utf8').catch(() => '');
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  const ticks = line.trim().split(/\s+/).slice(1, 8).map(Number).reduce((a, b) => a + b, 0);
  return ticks * 10_000_000;
}

export function cpuStatsJSON(s: CgroupStats, systemNs: number | undefined, onlineCpus: number): CpuStatsJSON {
  return {
    cpu_usage: { total_usage: s.cpu?.usageNs ?? 0, usage_in_kernelmode: s.cpu?.systemNs ?? 0, usage_in_usermode: s.cpu?.userNs ?? 0 },
    ...(systemNs !== undefined ? { system_cpu_usage: systemNs } : {}),
    online_cpus: onlineCpus,
    throttling_data: { periods: s.cpu?.periods ?? 0, throttled_periods: s.cpu?.throttledPeriods ?? 0, throttled_time: s.cpu?.throttledNs ?? 0 },
  };
}

export function emptyCpuStats(): CpuStatsJSON {
  return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
}

/** What dockerd answers for a container that is not running (stream=false): its name and ID, all else zero. */
export function stoppedStatsJSON(id: string, name: string): StatsJSON {
  return {
    name, id, read: ZERO_TIME_NANO, preread: ZERO_TIME_NANO, pids_stats: {},
    blkio_stats: {
      io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null,
      io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
    },
    num_procs: 0, storage_stats: {}, cpu_stats: emptyCpuStats(), precpu_stats: emptyCpuStats(), memory_stats: {},
  };
}

export interface StatsInput {
  readonly id: string;
  readonly name: string;
  readonly now: string;
  readonly cgroup: CgroupStats;
  readonly systemCpuNs: number | undefined;
  readonly onlineCpus: number;
  /** The host's memory: memory_stats.limit without a cgroup limit (what dockerd reports). */
  readonly hostMemoryBytes: number;
  readonly previous: StatsSample | undefined;
}

export function statsJSON(i: StatsInput): { stats: StatsJSON; sample: StatsSample } {
  const cpu = cpuStatsJSON(i.cgroup, i.systemCpuNs, i.onlineCpus);
  const m = i.cgroup.memory;
  const stats: StatsJSON = {
    name: i.name,
    id: i.id,
    read: i.now,
    preread: i.previous?.read ?? ZERO_TIME_NANO,
    pids_stats: i.cgroup.pids === undefined ? {} : { current: i.cgroup.pids.current, ...(i.cgroup.pids.limit !== undefined ? { limit: i.cgroup.pids.limit } : {}) },
    blkio_stats: {
      io_service_bytes_recursive: i.cgroup.blkio === undefined ? null : i.cgroup.blkio.map((e) => ({ ...e })),
      io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null,
      io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu,
    precpu_stats: i.previous?.cpu ?? emptyCpuStats(),
    memory_stats: m === undefined ? {} : {
      usage: m.usageBytes,
      ...(m.maxUsageBytes !== undefined ? { max_usage: m.maxUsageBytes } : {}),
      stats: { ...m.stat },
      ...(m.failcnt !== undefined ? { failcnt: m.failcnt } : {}),
      limit: m.limitBytes ?? i.hostMemoryBytes,
    },
  };
  return { stats, sample: { read: i.now, cpu } };
}
