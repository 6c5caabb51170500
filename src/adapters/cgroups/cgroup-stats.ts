// Resource usage of a container's cgroup, for `docker stats` and for telling an OOM kill from any
// other SIGKILL. cgroup v1 files: Documentation/admin-guide/cgroup-v1/{cpuacct,memory,pids,blkio}
// ; cgroup v2 files: Documentation/admin-guide/cgroup-v2.rst.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerCgroup } from './container-cgroup.js';

export interface CpuStats {
  /** Total CPU time of the cgroup, in nanoseconds. */
  readonly usageNs: number;
  readonly userNs?: number;
  readonly systemNs?: number;
  readonly periods?: number;
  readonly throttledPeriods?: number;
  readonly throttledNs?: number;
}

export interface MemoryStats {
  readonly usageBytes: number;
  readonly maxUsageBytes?: number;
  /** undefined = unlimited. */
  readonly limitBytes?: number;
  /** v1 memory.failcnt: times the limit was hit (reclaim or OOM). */
  readonly failcnt?: number;
  /** Processes killed by the OOM killer in this cgroup (v1 memory.oom_control oom_kill, v2 memory.events oom_kill). */
  readonly oomKills?: number;
  /** v2 memory.events oom: times the cgroup hit its limit and an OOM was invoked. */
  readonly oomEvents?: number;
  readonly stat: Readonly<Record<string, number>>;
}

export interface PidsStats {
  readonly current: number;
  /** undefined = max. */
  readonly limit?: number;
}

export interface BlkioEntry {
  readonly major: number;
  readonly minor: number;
  readonly op: string;
  readonly value: number;
}

export interface CgroupStats {
  readonly cpu?: CpuStats;
  readonly memory?: MemoryStats;
  readonly pids?: PidsStats;
  readonly blkio?: readonly BlkioEntry[];
}

/** v1 "no limit" is PAGE_COUNTER_MAX in bytes (LONG_MAX rounded down to a page); anything this large means none. */
const UNLIMITED_FLOOR = 2 ** 62;

async function readText(dir: string | undefined, file: string): Promise<string | undefined> {
  if (dir === undefined) return undefined;
  try {
    return await readFile(join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

async function readNumber(dir: string | undefined, file: string): Promise<number | undefined> {
  const t = (await readText(dir, file))?.trim();
  if (t === undefined || t === '') return undefined;
  if (t === 'max') return Infinity;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control). */
export function parseFlatKeyed(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k !== undefined && k !== '' && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** v1 blkio "MAJ:MIN Op value" lines; v2 io.stat "MAJ:MIN rbytes=1 wbytes=2 ..." lines. */
export function parseBlkio(text: string | undefined, v2: boolean): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const parts = line.trim().split(/\s+/);
    const dev = /^(\d+):(\d+)$/.exec(parts[0] ?? '');
    if (dev === null) continue;
    const major = Number(dev[1]);
    const minor = Number(dev[2]);
    if (v2) {
      for (const kv of parts.slice(1)) {
        const [op, v] = kv.split('=');
        if (op !== undefined && v !== undefined && /^\d+$/.test(v)) out.push({ major, minor, op, value: Number(v) });
      }
    } else if (parts[1] !== undefined && parts[2] !== undefined && /^\d+$/.test(parts[2])) {
      out.push({ major, minor, op: parts[1], value: Number(parts[2]) });
    }
  }
  return out;
}

const limitOf = (n: number | undefined): number | undefined => (n === undefined || !Number.isFinite(n) || n >= UNLIMITED_FLOOR ? undefined : n);

export async function readCgroupStats(cg: ContainerCgroup): Promise<CgroupStats> {
  return cg.mode === 'v2' ? readV2(cg.v2Dir) : readV1(cg);
}

async function readV1(cg: ContainerCgroup): Promise<CgroupStats> {
  const cpuacct = cg.v1Dirs.get('cpuacct');
  const cpu = cg.v1Dirs.get('cpu');
  const memory = cg.v1Dirs.get('memory');
  const pids = cg.v1Dirs.get('pids');
  const blkio = cg.v1Dirs.get('blkio');
  const out: { -readonly [K in keyof CgroupStats]: CgroupStats[K] } = {};

  const usage = await readNumber(cpuacct, 'cpuacct.usage');
  if (usage !== undefined) {
    // cpuacct.stat is in USER_HZ ticks (100 per second on every Linux ABI we run on).
    const ticks = parseFlatKeyed(await readText(cpuacct, 'cpuacct.stat'));
    const throttle = parseFlatKeyed(await readText(cpu, 'cpu.stat'));
    out.cpu = {
      usageNs: usage,
      ...(ticks.user !== undefined ? { userNs: ticks.user * 10_000_000 } : {}),
      ...(ticks.system !== undefined ? { systemNs: ticks.system * 10_000_000 } : {}),
      ...(throttle.nr_periods !== undefined ? { periods: throttle.nr_periods } : {}),
      ...(throttle.nr_throttled !== undefined ? { throttledPeriods: throttle.nr_throttled } : {}),
      ...(throttle.throttled_time !== undefined ? { throttledNs: throttle.throttled_time } : {}),
    };
  }
  const memUsage = await readNumber(memory, 'memory.usage_in_bytes');
  if (memUsage !== undefined) {
    const oom = parseFlatKeyed(await readText(memory, 'memory.oom_control'));
    const max = await readNumber(memory, 'memory.max_usage_in_bytes');
    const limit = limitOf(await readNumber(memory, 'memory.limit_in_bytes'));
    const failcnt = await readNumber(memory, 'memory.failcnt');
    out.memory = {
      usageBytes: memUsage,
      ...(max !== undefined ? { maxUsageBytes: max } : {}),
      ...(limit !== undefined ? { limitBytes: limit } : {}),
      ...(failcnt !== undefined ? { failcnt } : {}),
      // oom_kill in memory.oom_control: Linux 4.13+.
      ...(oom.oom_kill !== undefined ? { oomKills: oom.oom_kill } : {}),
      stat: parseFlatKeyed(await readText(memory, 'memory.stat')),
    };
  }
  const current = await readNumber(pids, 'pids.current');
  if (current !== undefined) {
    const limit = limitOf(await readNumber(pids, 'pids.max'));
    out.pids = { current, ...(limit !== undefined ? { limit } : {}) };
  }
  const io = await readText(blkio, 'blkio.throttle.io_service_bytes_recursive');
  if (io !== undefined) out.blkio = parseBlkio(io, false);
  return out;
}

async function readV2(dir: string | undefined): Promise<CgroupStats> {
  const out: { -readonly [K in keyof CgroupStats]: CgroupStats[K] } = {};
  const cpu = parseFlatKeyed(await readText(dir, 'cpu.stat'));
  if (cpu.usage_usec !== undefined) {
    out.cpu = {
      usageNs: cpu.usage_usec * 1000,
      ...(cpu.user_usec !== undefined ? { userNs: cpu.user_usec * 1000 } : {}),
      ...(cpu.system_usec !== undefined ? { systemNs: cpu.system_usec * 1000 } : {}),
      ...(cpu.nr_periods !== undefined ? { periods: cpu.nr_periods } : {}),
      ...(cpu.nr_throttled !== undefined ? { throttledPeriods: cpu.nr_throttled } : {}),
      ...(cpu.throttled_usec !== undefined ? { throttledNs: cpu.throttled_usec * 1000 } : {}),
    };
  }
  const current = await readNumber(dir, 'memory.current');
  if (current !== undefined) {
    const events = parseFlatKeyed(await readText(dir, 'memory.events'));
    const peak = await readNumber(dir, 'memory.peak');
    const limit = limitOf(await readNumber(dir, 'memory.max'));
    out.memory = {
      usageBytes: current,
      ...(peak !== undefined ? { maxUsageBytes: peak } : {}),
      ...(limit !== undefined ? { limitBytes: limit } : {}),
      ...(events.oom_kill !== undefined ? { oomKills: events.oom_kill } : {}),
      ...(events.oom !== undefined ? { oomEvents: events.oom } : {}),
      ...(events.max !== undefined ? { failcnt: events.max } : {}),
      stat: parseFlatKeyed(await readText(dir, 'memory.stat')),
    };
  }
  const pids = await readNumber(dir, 'pids.current');
  if (pids !== undefined) {
    const limit = limitOf(await readNumber(dir, 'pids.max'));
    out.pids = { current: pids, ...(limit !== undefined ? { limit } : {}) };
  }
  const io = await readText(dir, 'io.stat');
  if (io !== undefined) out.blkio = parseBlkio(io, true);
  return out;
}
